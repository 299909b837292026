"""Invitations (G2, G3, G5, G6, G9): invite by e-mail, the invitee answers through a link.

Every change is one transaction with its conditions: the invitation, its link token, the
membership it offers (pending → invited → active | declined) with the account's counters, and
the mail it causes (outbox). A link names the ids its page reads and carries 256 random bits; only its SHA-256 is stored.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters.clock import iso
from chalicelib.domain.entities import Membership, Page, Person
from chalicelib.domain.errors import Conflict, Contention, NotFound, Problem, RuleViolation, retry_on_contention
from chalicelib.domain.ids import new_id
from chalicelib.domain.invitations import (
    OPEN, Answer, Invitation, LinkKeys, PageContext, link_keys, new_token, token_hash,
)
from chalicelib.domain.mail import LINK, Recipient
from chalicelib.domain.rules import membership_effects, normalise_email
from chalicelib.mail.catalog import pick_language
from chalicelib.repositories.invitations import LinkToken, Parties

ATTEMPTS = 5


class Gone(Contention):
    """The membership an answer needs has changed in a way that ends the invitation."""


class NotRegistered(RuleViolation):
    """G3: a guest must already be an active member of another account of the tenant."""

    def __init__(self):
        super().__init__("A guest must already be registered: an active member of another account.",
                         [Problem("email", "is not an active member of another account")], "not_registered")


class InvitationService:
    def __init__(self, repositories, clock, mail, contacts, public_base_url: str, limits):
        self._repos = repositories
        self._limits = limits
        self._repo = repositories.invitations
        self._clock = clock
        self._mail = mail
        self._contacts = contacts
        self._base_url = public_base_url.rstrip("/")

    # --- invite ------------------------------------------------------------------------------
    def create(self, tenant_id: str, account_id: str, fields: dict, invited_by: str,
               inviter_person_id: str | None = None) -> Invitation:
        return retry_on_contention(ATTEMPTS, lambda: self._create(tenant_id, account_id, fields, invited_by,
                                                                  inviter_person_id))

    def _create(self, tenant_id, account_id, fields, invited_by, inviter_person_id) -> Invitation:
        people, memberships = self._repos.people, self._repos.memberships
        email, kind = normalise_email(fields["email"]), fields.get("kind", "contact")
        claimant, account, tenant = self._repo.setting(tenant_id, account_id, email)
        if account is None:
            raise NotFound("Account")
        # `current`: the person's membership in the account and the invitation that offers it
        person, current = self._repo.invitee(tenant_id, account_id, claimant) if claimant else (None, None)
        # G3 for the provider's staff at once; for a person acting through the portal only when
        # the invitee accepts, so that the answer tells them nothing about other customers' people
        if kind == "guest" and inviter_person_id is None and (
                person is None or self._active_elsewhere(tenant_id, person.person_id, account_id) is None):
            raise NotRegistered()
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        if person is None:
            person = Person(tenant_id=tenant_id, person_id=new_id("person"), email=email, first_name=None,
                            last_name=None, phone=None, language=fields.get("language"), created_at=now,
                            updated_at=now, version=1)
            people.add(tx, person)
        else:
            people.check_claim(tx, tenant_id, email, person.person_id)
        if current is not None and current[0].status not in (*OPEN, "declined"):
            raise Conflict("This person is already a member of the account.", "already_member",
                           [Problem("email", "is already a member")])
        invitation = Invitation(
            tenant_id=tenant_id, invitation_id=new_id("invitation"), account_id=account_id,
            person_id=person.person_id, email=email, kind=kind, roles=sorted(fields.get("roles", [])),
            permissions=sorted(fields.get("permissions", [])),
            notifications=sorted(fields.get("notifications", [])),
            # the language the inviter chose, if any: the invitee's own setting stays theirs (the
            # mail and the page fall back to it), so no inviter reads it from the invitation
            language=fields.get("language"), status="pending", expires_in_days=fields.get("expires_in_days", 7),
            expires_at="", invited_by=invited_by, inviter_person_id=inviter_person_id, mail_job_id=None,
            created_at=now, updated_at=now, responded_at=None, version=1, token_hash="")
        # a pending member counts nothing: the account is only checked, its counters wait for the answer
        membership = Membership(tenant_id=tenant_id, account_id=account_id, person_id=person.person_id, kind=kind,
                                roles=invitation.roles, permissions=invitation.permissions,
                                notifications=invitation.notifications, status="pending", created_at=now,
                                updated_at=now, version=1)
        if current is None:
            memberships.add(tx, membership, invitation_id=invitation.invitation_id)
        else:
            before, old_id = current
            memberships.replace(tx, before, membership, invitation.invitation_id)
            old = self._repo.get(tenant_id, old_id) if old_id else None
            if old is not None and old.is_open:  # the new invitation replaces it: its link dies
                self._repo.close(tx, old, "revoked", now)
                self._repo.drop_token(tx, old.token_hash)
        self._repos.accounts.require(tx, tenant_id, account_id, NotFound("Account"))
        invitation, job = self._issue(tx, invitation, person, account, tenant)
        self._repo.add(tx, invitation)
        actor = {"type": "person" if inviter_person_id else "api_key", "id": invited_by}
        self._repos.audit.add(tx, tenant_id, account_id, actor, "invitation.created", now,
                              target=invitation.invitation_id, changed=[f for f in fields if f != "email"])
        tx.commit()
        self._mail.dispatch(job)
        return invitation

    def _issue(self, tx, invitation: Invitation, person: Person, account, tenant) -> tuple[Invitation, object]:
        """A fresh link: token item and invitation mail into `tx`; returns the invitation to write."""
        from dataclasses import replace

        self._limits.count_invitation_mail(tx, invitation.tenant_id, invitation.email)
        token = new_token(LinkKeys(invitation.tenant_id, invitation.account_id, invitation.invitation_id,
                                   invitation.person_id, invitation.inviter_person_id))
        digest = token_hash(token)
        expires_at = iso(self._clock.now() + timedelta(days=invitation.expires_in_days))
        invitation = replace(invitation, token_hash=digest, expires_at=expires_at)
        self._repo.add_token(tx, digest, invitation)
        language = pick_language(invitation.language, person.language, account.language,
                                 tenant.default_language if tenant else None)
        recipient = Recipient(invitation.email, language, person.person_id, {
            "first_name": person.first_name or "", "email": invitation.email,
            LINK: f"{self._base_url}/invitations/{token}", "expires_on": expires_at[:10],
            "permissions": ", ".join(labels(invitation.permissions, language)) or "—",
        })
        job = self._mail.add(tx, invitation.tenant_id, "invitation", [recipient],
                             {"invitation_id": invitation.invitation_id, "token_hash": digest},
                             account_id=invitation.account_id)
        return replace(invitation, mail_job_id=job.job_id), job

    def _active_elsewhere(self, tenant_id: str, person_id: str, account_id: str) -> Membership | None:
        """An active membership of the person in another account: what makes them registered (G3)."""
        return next((m for m in self._repos.people.memberships_of(tenant_id, person_id)
                     if m.account_id != account_id and m.status == "active"), None)

    # --- read --------------------------------------------------------------------------------
    def get(self, tenant_id: str, account_id: str, invitation_id: str) -> Invitation:
        """The account's invitation; a deleted account's invitations are a missing account's objects."""
        invitation, account = self._repo.with_account(tenant_id, account_id, invitation_id)
        if account is None:
            raise NotFound("Account")
        if invitation is None or invitation.account_id != account_id:
            raise NotFound("Invitation")
        return invitation

    def require_account(self, tenant_id: str, account_id: str) -> None:
        if self._repos.accounts.get(tenant_id, account_id) is None:
            raise NotFound("Account")

    def list(self, tenant_id: str, account_id: str, status: str | None, limit: int,
             cursor: str | None) -> Page[Invitation]:
        self.require_account(tenant_id, account_id)
        return self._repo.page(tenant_id, account_id, status, limit, cursor)

    # --- resend, revoke ----------------------------------------------------------------------
    def resend(self, tenant_id: str, account_id: str, invitation_id: str, actor: dict | None = None) -> Invitation:
        return retry_on_contention(ATTEMPTS, lambda: self._resend(tenant_id, account_id, invitation_id, actor))

    def _resend(self, tenant_id, account_id, invitation_id, actor=None) -> Invitation:
        before = self.get(tenant_id, account_id, invitation_id)
        if not before.is_open:
            raise _closed(before)
        self._limits.check_resend(before.sent_at)
        parties = self._repo.parties(before)
        if parties.person is None:
            raise Conflict("The invited person no longer exists.", "invitation_closed")
        if parties.account is None:
            raise NotFound("Account")
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        after, job = self._issue(tx, before, parties.person, parties.account, parties.tenant)
        self._repo.renew(tx, before, after, now)
        self._repo.drop_token(tx, before.token_hash)
        self._repos.memberships.reopen(tx, tenant_id, account_id, before.person_id, invitation_id, now)
        self._repos.audit.add(tx, tenant_id, account_id, actor, "invitation.resent", now, target=invitation_id)
        tx.commit()
        self._mail.dispatch(job)
        from dataclasses import replace

        return replace(after, status="pending", updated_at=now, version=before.version + 1)

    def revoke(self, tenant_id: str, account_id: str, invitation_id: str, actor: dict | None = None) -> None:
        retry_on_contention(ATTEMPTS, lambda: self._revoke(tenant_id, account_id, invitation_id, actor))

    def _revoke(self, tenant_id, account_id, invitation_id, actor=None) -> None:
        before = self.get(tenant_id, account_id, invitation_id)
        if before.status == "revoked":
            return
        if not before.is_open:
            raise _closed(before)
        tx = self._repos.transaction()
        self._close(tx, before, "revoked")
        self._repo.drop_token(tx, before.token_hash)
        self._repos.audit.add(tx, tenant_id, account_id, actor, "invitation.revoked", self._clock.now_iso(),
                              target=invitation_id)
        tx.commit()

    def _close(self, tx, inv: Invitation, status: str) -> None:
        """Revoked or expired: the invitation closes, and its membership goes if still open."""
        self._repo.close(tx, inv, status, self._clock.now_iso())
        self._repos.memberships.drop_offer(tx, inv.tenant_id, inv.account_id, inv.person_id, inv.invitation_id)

    # --- expiry (schedule) -------------------------------------------------------------------
    def expire_due(self, limit: int = 100) -> int:
        """Marks open invitations past their expiry `expired` and removes their pending
        membership; found with one Query of the due index."""
        expired = 0
        for tenant_id, invitation_id in self._repo.due(self._clock.now_iso(), limit):
            inv = self._repo.get(tenant_id, invitation_id)
            if inv is None or not inv.is_open:
                continue
            tx = self._repos.transaction()
            self._close(tx, inv, "expired")
            try:
                tx.commit()
                expired += 1
            except Contention:
                continue  # answered or revoked meanwhile; the next run sees the new state
        return expired

    # --- after the invitation mail was accepted by SES ---------------------------------------
    def mark_invited(self, tenant_id: str, data: dict, recipient) -> None:
        """pending → invited for the invitation of that mail (idempotent: a failed condition is
        a later state or a newer link, and is ignored). The mail's settle already took the link
        out of the outbox item it was sent from."""
        inv = self._repo.get(tenant_id, data.get("invitation_id", ""))
        if inv is None:
            return
        if inv.status != "pending" or inv.token_hash != data.get("token_hash"):
            return
        tx = self._repos.transaction()
        now = self._clock.now_iso()
        self._repo.mark_invited(tx, inv, now)
        self._repos.memberships.mark_invited(tx, tenant_id, inv.account_id, inv.person_id, inv.invitation_id, now)
        try:
            tx.commit()
        except Contention:
            pass

    # --- the invitee's answer ----------------------------------------------------------------
    def view(self, token: str, fallback_language: str) -> Answer:
        """What GET shows for a link. Reads only."""
        return self._look(token, fallback_language)[0]

    def _look(self, token: str, fallback_language: str):
        """The link's state and, unless it is unknown or closed, (token item, invitation, parties)."""
        found = self._find(token)
        if found is None:
            return Answer("not_found", self._neutral(fallback_language)), None
        token_item, inv, parties = found
        if token_item.outcome:
            state = token_item.outcome
        elif inv.status == "expired" or (inv.is_open and inv.expires_at <= self._clock.now_iso()):
            state = "expired"
        elif not inv.is_open:
            return Answer("not_found", self._neutral(fallback_language)), None
        else:
            state = "open"
        return Answer(state, self._context(inv, parties), inv.invitation_id), (token_item, inv, parties)

    def answer(self, token: str, outcome: str, fallback_language: str) -> Answer:
        """accepted | declined. The same answer again gives the same outcome; the other one, 404."""
        for attempt in range(ATTEMPTS):
            state, found = self._look(token, fallback_language)
            if state.state == outcome:
                return state
            if state.state in ("accepted", "declined"):
                return Answer("not_found", self._neutral(fallback_language))
            if state.state != "open":
                return state
            try:
                self._answer(found[1], outcome, found[2])
                return Answer(outcome, state.context, state.invitation_id)
            except Gone:
                return Answer("not_found", self._neutral(fallback_language))
            except NotRegistered:
                return Answer("not_registered", state.context, state.invitation_id)
            except Contention:
                continue  # revoked, replaced or answered meanwhile: read again
            except Conflict:
                return Answer("conflict", state.context, state.invitation_id)
        return Answer("conflict", None)

    def _answer(self, inv: Invitation, outcome: str, parties: Parties) -> None:
        """One transaction: token used, invitation answered, membership active/declined (with the
        account's counters and slots on accept), the inviter's and the welcome mail. `parties`
        were read for the page, in this attempt."""
        tid, aid, pid, now = inv.tenant_id, inv.account_id, inv.person_id, self._clock.now_iso()
        tx = self._repos.transaction()
        self._repo.use_token(tx, inv.token_hash, outcome)
        self._repo.answer(tx, inv, outcome, now)
        status = "active" if outcome == "accepted" else "declined"
        self._repos.memberships.answer(tx, tid, aid, pid, inv.invitation_id, status=status, now=now, error=Gone())
        jobs = []
        person = parties.person
        if outcome == "accepted" and inv.kind == "guest":
            # G3 holds when the guest joins: the membership elsewhere must still be active then
            registered = self._active_elsewhere(tid, pid, aid)
            if registered is None:
                raise NotRegistered()
            self._repos.memberships.require_active(tx, tid, registered.account_id, pid)
        if outcome == "accepted":
            # the membership starts to count: counters and slots, in the same transaction
            effects = membership_effects(None, (inv.kind, set(inv.roles), True))
            self._repos.accounts.apply_effects(tx, tid, aid, pid, effects,
                                               lambda: self._contacts.explain_slots(tid, aid, effects["claim"]))
            if inv.kind == "contact" and person is not None:
                jobs.append(self._contacts.welcome_mail(tx, tid, aid, person, tenant=parties.tenant))
        jobs.append(self._inviter_mail(tx, inv, outcome, parties))
        # the invitee answered through the link: they are the actor (account-scoped, audited)
        self._repos.audit.add(tx, tid, aid, {"type": "person", "id": pid}, f"invitation.{outcome}", now,
                              target=inv.invitation_id)
        tx.commit()
        for job in jobs:
            if job is not None:
                self._mail.dispatch(job)

    def _inviter_mail(self, tx, inv: Invitation, outcome: str, parties: Parties):
        tenant, inviter, person = parties.tenant, parties.inviter, parties.person
        if inviter is not None:
            recipient = Recipient(inviter.email, inviter.language or "", inviter.person_id)
        elif tenant is not None and tenant.staff_email:
            recipient = Recipient(tenant.staff_email, tenant.default_language)
        else:
            return None
        name = " ".join(p for p in ((person.first_name, person.last_name) if person else ()) if p)
        recipient = Recipient(recipient.email, recipient.language, recipient.person_id, {
            "invitee_email": inv.email, "invitee_name": name or inv.email})
        return self._mail.add(tx, inv.tenant_id, f"invitation_{outcome}", [recipient],
                              {"invitation_id": inv.invitation_id}, account_id=inv.account_id)

    # --- helpers -----------------------------------------------------------------------------
    def _find(self, token: str) -> tuple[LinkToken, Invitation, Parties] | None:
        """The link's token item, the invitation it opens and its parties: one read, of the keys
        the link names; they count only when the token item (keyed by the whole link's hash) agrees."""
        named = link_keys(token)
        if named is None:
            return None
        digest = token_hash(token)
        token_item, inv, parties = self._repo.link(digest, named)
        if token_item is None or inv is None:
            return None
        if LinkKeys(token_item.tenant_id, token_item.account_id, token_item.invitation_id, token_item.person_id,
                    token_item.inviter_person_id) != named:
            return None
        if inv.token_hash != digest or inv.email != token_item.email:
            return None
        return token_item, inv, parties

    @staticmethod
    def _context(inv: Invitation, parties: Parties) -> PageContext:
        tenant, account, person, inviter = parties.tenant, parties.account, parties.person, parties.inviter
        language = pick_language(inv.language, person.language if person else None,
                                 account.language if account else None, tenant.default_language if tenant else None)
        brand = ((tenant.branding or {}).get("brand_name") or tenant.name) if tenant else ""
        inviter_name = " ".join(p for p in (inviter.first_name, inviter.last_name) if p) if inviter else ""
        return PageContext(language=language, brand_name=brand, inviter_name=inviter_name or brand,
                           account_name=(account.name if account else "") or "", account_id=inv.account_id,
                           permissions=inv.permissions, roles=inv.roles, expires_at=inv.expires_at)

    @staticmethod
    def _neutral(language: str) -> PageContext:
        return PageContext(language=pick_language(language), brand_name="", inviter_name="", account_name="",
                           account_id="", permissions=[], roles=[], expires_at="")


def _closed(inv: Invitation) -> Conflict:
    return Conflict(f"The invitation is {inv.status}; only a pending or invited one can change.",
                    "invitation_closed", [Problem("status", inv.status)])


def labels(permissions: list[str], language: str) -> list[str]:
    from chalicelib.pages.invitation_texts import PERMISSION_LABELS

    names = PERMISSION_LABELS.get(language, PERMISSION_LABELS["en"])
    return [names.get(p, p) for p in permissions]
