"""Invitations (G2, G3, G5, G6, G9): invite by e-mail, the invitee answers through a link.

Every change is one transaction with its conditions: the invitation, its link token, the
membership it offers (pending → invited → active | declined) with the account's counters, and
the mail it causes (outbox). A link is a 256-bit token of which only the SHA-256 is stored.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters.clock import iso
from chalicelib.domain.entities import Membership, Page, Person
from chalicelib.domain.errors import Conflict, NotFound, Problem, RuleViolation
from chalicelib.domain.ids import new_id
from chalicelib.domain.invitations import (
    OPEN, Answer, Invitation, PageContext, new_token, token_hash, well_formed,
)
from chalicelib.domain.mail import LINK, Recipient
from chalicelib.domain.rules import membership_effects, normalise_email
from chalicelib.mail.catalog import pick_language
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem, EmailClaimItem, MembershipItem, PersonItem
from chalicelib.models.invitations import InvitationItem, InvitationTokenItem
from chalicelib.repositories.database import Contention, retry_on_contention
from chalicelib.repositories.invitations import InvitationRepository, Parties

ATTEMPTS = 5


class Gone(Contention):
    """The membership an answer needs has changed in a way that ends the invitation."""


class NotRegistered(RuleViolation):
    """G3: a guest must already be an active member of another account of the tenant."""

    def __init__(self):
        super().__init__("A guest must already be registered: an active member of another account.",
                         [Problem("email", "is not an active member of another account")], "not_registered")


class InvitationService:
    def __init__(self, database, clock, mail, contacts, public_base_url: str, limits):
        self._db = database
        self._limits = limits
        self._repo = InvitationRepository()
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
        people = self._db.people
        account = self._db.accounts.get(tenant_id, account_id)
        if account is None:
            raise NotFound("Account")
        email, kind = normalise_email(fields["email"]), fields.get("kind", "contact")
        person = people.find_by_email(tenant_id, email)
        # G3 for the provider's staff at once; for a person acting through the portal only when
        # the invitee accepts, so that the answer tells them nothing about other customers' people
        if kind == "guest" and inviter_person_id is None and (
                person is None or self._active_elsewhere(tenant_id, person.person_id, account_id) is None):
            raise NotRegistered()
        now = self._clock.now_iso()
        tx = self._db.transaction()
        current = None
        if person is None:
            person = Person(tenant_id, new_id("person"), email, None, None, None, fields.get("language"), now, now, 1)
            tx.put(people.claim_item(tenant_id, email, person.person_id), condition=EmailClaimItem.pk.does_not_exist(),
                   error=Contention())
            tx.put(people.new_person_item(person), condition=PersonItem.pk.does_not_exist())
        else:
            tx.check(EmailClaimItem, *people.claim_key(tenant_id, email),
                     condition=EmailClaimItem.person_id == person.person_id, error=Contention())
            current = self._repo.membership_item(tenant_id, account_id, person.person_id)
        if current is not None and current.status not in (*OPEN, "declined"):
            raise Conflict("This person is already a member of the account.", "already_member",
                           [Problem("email", "is already a member")])
        tenant = self._db.tenants.get(tenant_id)
        invitation = Invitation(
            tenant_id, new_id("invitation"), account_id, person.person_id, email, kind,
            sorted(fields.get("roles", [])), sorted(fields.get("permissions", [])),
            # the language the inviter chose, if any: the invitee's own setting stays theirs (the
            # mail and the page fall back to it), so no inviter reads it from the invitation
            sorted(fields.get("notifications", [])), fields.get("language"), "pending",
            fields.get("expires_in_days", 7), "", invited_by, inviter_person_id, None, now, now, None, 1, "")
        # a pending member counts nothing: the account is only checked, its counters wait for the answer
        membership = Membership(tenant_id, account_id, person.person_id, kind, invitation.roles,
                                invitation.permissions, invitation.notifications, "pending", now, now, 1)
        item = people.new_membership_item(membership)
        item.invitation_id = invitation.invitation_id
        if current is None:
            tx.put(item, condition=MembershipItem.pk.does_not_exist(), error=Contention())
        else:
            item.version = int(current.version) + 1
            tx.put(item, condition=MembershipItem.version == current.version, error=Contention())
            old = self._repo.get(tenant_id, current.invitation_id) if current.invitation_id else None
            if old is not None and old.is_open:  # the new invitation replaces it: its link dies
                tx.update(self._repo.ref(tenant_id, old.invitation_id), self._repo.status_actions(old, "revoked", now),
                          condition=InvitationItem.version == old.version, error=Contention())
                tx.delete(self._repo.token_ref(old.token_hash))
        tx.check(AccountItem, *self._db.accounts.key(tenant_id, account_id), condition=AccountItem.pk.exists(),
                 error=NotFound("Account"))
        invitation, job = self._issue(tx, invitation, person, account, tenant)
        tx.put(self._repo.new_item(invitation), condition=InvitationItem.pk.does_not_exist())
        self._db.audit(tx, tenant_id, account_id, {"type": "person" if inviter_person_id else "api_key", "id": invited_by},
                       "invitation.created", now, invitation.invitation_id, [f for f in fields if f != "email"])
        tx.commit()
        self._mail.dispatch(job)
        return invitation

    def _issue(self, tx, invitation: Invitation, person: Person, account, tenant) -> tuple[Invitation, object]:
        """A fresh link: token item and invitation mail into `tx`; returns the invitation to write."""
        from dataclasses import replace

        self._limits.count_invitation_mail(tx, invitation.tenant_id, invitation.email)
        token = new_token()
        digest = token_hash(token)
        expires_at = iso(self._clock.now() + timedelta(days=invitation.expires_in_days))
        invitation = replace(invitation, token_hash=digest, expires_at=expires_at)
        tx.put(self._repo.new_token_item(digest, invitation), condition=InvitationTokenItem.pk.does_not_exist())
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
        return next((m for m in self._db.people.memberships_of(tenant_id, person_id)
                     if m.account_id != account_id and m.status == "active"), None)

    # --- read --------------------------------------------------------------------------------
    def get(self, tenant_id: str, account_id: str, invitation_id: str) -> Invitation:
        invitation = self._repo.get(tenant_id, invitation_id)
        if invitation is None or invitation.account_id != account_id:
            raise NotFound("Invitation")
        return invitation

    def require_account(self, tenant_id: str, account_id: str) -> None:
        if self._db.accounts.get(tenant_id, account_id) is None:
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
        person = self._db.people.get(tenant_id, before.person_id)
        if person is None:
            raise Conflict("The invited person no longer exists.", "invitation_closed")
        now = self._clock.now_iso()
        tx = self._db.transaction()
        after, job = self._issue(tx, before, person, self._db.accounts.get(tenant_id, account_id),
                                 self._db.tenants.get(tenant_id))
        actions = self._repo.status_actions(before, "pending", now) + [
            InvitationItem.token_hash.set(after.token_hash), InvitationItem.expires_at.set(after.expires_at),
            InvitationItem.mail_job_id.set(after.mail_job_id), InvitationItem.pending_pk.set(keys.INVITATIONS_DUE),
            InvitationItem.pending_sk.set(keys.invitation_due(after.expires_at, tenant_id, invitation_id))]
        tx.update(self._repo.ref(tenant_id, invitation_id), actions, condition=InvitationItem.version == before.version,
                  error=Contention())
        tx.delete(self._repo.token_ref(before.token_hash))
        tx.update(self._db.people.membership_ref(tenant_id, account_id, before.person_id),
                  [MembershipItem.status.set("pending"), MembershipItem.updated_at.set(now),
                   MembershipItem.version.add(1)],
                  condition=MembershipItem.invitation_id == invitation_id, error=Contention())
        self._db.audit(tx, tenant_id, account_id, actor, "invitation.resent", now, invitation_id)
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
        tx = self._db.transaction()
        self._close(tx, before, "revoked")
        tx.delete(self._repo.token_ref(before.token_hash))
        self._db.audit(tx, tenant_id, account_id, actor, "invitation.revoked", self._clock.now_iso(), invitation_id)
        tx.commit()

    def _close(self, tx, inv: Invitation, status: str) -> None:
        """Revoked or expired: the invitation closes, and its membership goes if still open."""
        tx.update(self._repo.ref(inv.tenant_id, inv.invitation_id),
                  self._repo.status_actions(inv, status, self._clock.now_iso()),
                  condition=InvitationItem.version == inv.version, error=Contention())
        tx.delete(self._db.people.membership_ref(inv.tenant_id, inv.account_id, inv.person_id),
                  condition=MembershipItem.pk.does_not_exist() | (
                      (MembershipItem.invitation_id == inv.invitation_id) & MembershipItem.status.is_in(*OPEN)),
                  error=Contention())

    # --- expiry (schedule) -------------------------------------------------------------------
    def expire_due(self, limit: int = 100) -> int:
        """Marks open invitations past their expiry `expired` and removes their pending
        membership; found with one Query of the due index."""
        expired = 0
        for tenant_id, invitation_id in self._repo.due(self._clock.now_iso(), limit):
            inv = self._repo.get(tenant_id, invitation_id)
            if inv is None or not inv.is_open:
                continue
            tx = self._db.transaction()
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
        tx = self._db.transaction()
        tx.update(self._repo.ref(tenant_id, inv.invitation_id),
                  self._repo.status_actions(inv, "invited", self._clock.now_iso()),
                  condition=(InvitationItem.status == "pending") & (InvitationItem.token_hash == inv.token_hash))
        tx.update(self._db.people.membership_ref(tenant_id, inv.account_id, inv.person_id),
                  [MembershipItem.status.set("invited"), MembershipItem.version.add(1),
                   MembershipItem.updated_at.set(self._clock.now_iso())],
                  condition=(MembershipItem.invitation_id == inv.invitation_id) & (MembershipItem.status == "pending"))
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
        token_item, inv = found
        if token_item.outcome:
            state = token_item.outcome
        elif inv.status == "expired" or (inv.is_open and inv.expires_at <= self._clock.now_iso()):
            state = "expired"
        elif not inv.is_open:
            return Answer("not_found", self._neutral(fallback_language)), None
        else:
            state = "open"
        parties = self._repo.parties(inv)
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
        tx = self._db.transaction()
        tx.update(self._repo.token_ref(inv.token_hash), [InvitationTokenItem.outcome.set(outcome)],
                  condition=InvitationTokenItem.pk.exists() & InvitationTokenItem.outcome.does_not_exist(),
                  error=Contention())
        tx.update(self._repo.ref(tid, inv.invitation_id),
                  self._repo.status_actions(inv, outcome, now) + [InvitationItem.responded_at.set(now)],
                  condition=(InvitationItem.version == inv.version) & InvitationItem.status.is_in(*OPEN),
                  error=Contention())
        status = "active" if outcome == "accepted" else "declined"
        tx.update(self._db.people.membership_ref(tid, aid, pid),
                  [MembershipItem.status.set(status), MembershipItem.invitation_id.remove(),
                   MembershipItem.updated_at.set(now), MembershipItem.version.add(1)],
                  condition=(MembershipItem.invitation_id == inv.invitation_id) & MembershipItem.status.is_in(*OPEN),
                  error=Gone())
        jobs = []
        person = parties.person
        if outcome == "accepted" and inv.kind == "guest":
            # G3 holds when the guest joins: the membership elsewhere must still be active then
            registered = self._active_elsewhere(tid, pid, aid)
            if registered is None:
                raise NotRegistered()
            tx.check(MembershipItem, *self._db.people.membership_key(tid, registered.account_id, pid),
                     condition=MembershipItem.status == "active", error=Contention())
        if outcome == "accepted":
            # the membership starts to count: counters and slots, in the same transaction
            effects = membership_effects(None, (inv.kind, set(inv.roles), True))
            actions, condition = self._db.accounts.membership_effects(effects, pid)
            tx.update(self._db.accounts.item_ref(tid, aid), actions, condition=condition,
                      error=lambda: self._contacts.explain_slots(tid, aid, effects["claim"]))
            if inv.kind == "contact" and person is not None:
                jobs.append(self._contacts.welcome_mail(tx, tid, aid, person, tenant=parties.tenant))
        jobs.append(self._inviter_mail(tx, inv, outcome, parties))
        # the invitee answered through the link: they are the actor (account-scoped, audited)
        self._db.audit(tx, tid, aid, {"type": "person", "id": pid}, f"invitation.{outcome}", now, inv.invitation_id)
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
    def _find(self, token: str) -> tuple[InvitationTokenItem, Invitation] | None:
        if not well_formed(token):
            return None
        digest = token_hash(token)
        token_item = self._repo.token(digest)
        if token_item is None:
            return None
        inv = self._repo.get(token_item.tenant_id, token_item.invitation_id)
        if inv is None or inv.token_hash != digest or inv.email != token_item.email:
            return None
        return token_item, inv

    @staticmethod
    def _context(inv: Invitation, parties: Parties) -> PageContext:
        tenant, account, person, inviter = parties.tenant, parties.account, parties.person, parties.inviter
        language = pick_language(inv.language, person.language if person else None,
                                 account.language if account else None, tenant.default_language if tenant else None)
        brand = ((tenant.branding or {}).get("brand_name") or tenant.name) if tenant else ""
        inviter_name = " ".join(p for p in (inviter.first_name, inviter.last_name) if p) if inviter else ""
        return PageContext(language, brand, inviter_name or brand, (account.name if account else "") or "",
                           inv.account_id, inv.permissions, inv.roles, inv.expires_at)

    @staticmethod
    def _neutral(language: str) -> PageContext:
        return PageContext(pick_language(language), "", "", "", "", [], [], "")


def _closed(inv: Invitation) -> Conflict:
    return Conflict(f"The invitation is {inv.status}; only a pending or invited one can change.",
                    "invitation_closed", [Problem("status", inv.status)])


def labels(permissions: list[str], language: str) -> list[str]:
    from chalicelib.pages.texts import PERMISSION_LABELS

    names = PERMISSION_LABELS.get(language, PERMISSION_LABELS["en"])
    return [names.get(p, p) for p in permissions]
