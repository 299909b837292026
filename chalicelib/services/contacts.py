"""People in an account (G1, G2, G4, G5, G8, C2, C3, N2, N3): add, change, remove, list,
and the designated technical and administrative contacts."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.entities import ContactDetails, Membership, Page, Person, Tenant
from chalicelib.domain.errors import (
    Conflict, Contention, NotFound, Problem, RuleViolation, VersionConflict, retry_on_contention,
)
from chalicelib.domain.ids import new_id
from chalicelib.domain.mail import Recipient
from chalicelib.domain.rules import NOT_YET_MEMBERS, SLOTS, membership_effects, normalise_email
from chalicelib.services.people import MAX_TRANSACTION_ITEMS

ATTEMPTS = 5


def _state(membership: Membership | None) -> tuple[str, set[str], bool] | None:
    if membership is None or membership.status in NOT_YET_MEMBERS:
        return None
    return membership.kind, set(membership.roles), membership.is_active


def _touches_account(effects: dict) -> bool:
    return bool(effects["counters"] or effects["claim"] or effects["release"])


def _items(effects: dict, actor: dict | None) -> int:
    """The transaction items of one membership's change: itself, its account if touched, the audit entry."""
    return 1 + _touches_account(effects) + (actor is not None)


class ContactService:
    def __init__(self, repositories, clock, mail=None):
        self._repos = repositories
        self._clock = clock
        self._mail = mail

    # --- add ---------------------------------------------------------------------------
    def add(self, tenant_id: str, account_id: str, fields: dict, actor: dict | None = None,
            acting_person_id: str | None = None) -> ContactDetails:
        """Adds a person to the account by details (G2): creates the person if the e-mail is
        new to the tenant, reuses them otherwise. One BatchGetItem (the e-mail's claim and the
        tenant), a GetItem of the person who holds it if any, one transaction.

        A person acting through the portal (`acting_person_id`) adds directly only someone who
        already shares an account with them; anyone else joins by invitation, with their consent.
        The answer is the same for a new e-mail and for a person of other customers, so it tells
        nothing about who else is in the tenant.

        The transaction checks the claim read (or puts a new one): if another request took or
        released it meanwhile, the condition fails and the step runs again."""
        return retry_on_contention(ATTEMPTS, lambda: self._add(tenant_id, account_id, fields, actor,
                                                               acting_person_id))

    def _add(self, tenant_id: str, account_id: str, fields: dict, actor: dict | None = None,
             acting_person_id: str | None = None) -> ContactDetails:
        people, now = self._repos.people, self._clock.now_iso()
        email = normalise_email(fields["email"])
        claimant, tenant = people.claimant_and_tenant(tenant_id, email)
        person = people.get(tenant_id, claimant) if claimant else None
        if acting_person_id is not None and (
                person is None or not self.shares_account(tenant_id, acting_person_id, person.person_id)):
            raise RuleViolation("People outside your accounts join by invitation: "
                                "POST /accounts/{account_id}/invitations.",
                                [Problem("email", "must be invited")], "invitation_required")
        existing_id = person.person_id if person else None
        tx = self._repos.transaction()
        if existing_id is None:
            person = Person(tenant_id=tenant_id, person_id=new_id("person"), email=email,
                            first_name=fields.get("first_name"), last_name=fields.get("last_name"),
                            phone=fields.get("phone"), language=fields.get("language"), created_at=now,
                            updated_at=now, version=1)
            people.add(tx, person)
        else:
            people.check_claim(tx, tenant_id, email, existing_id)
        person_id = person.person_id
        roles = set(fields.get("roles", []))
        membership = Membership(tenant_id=tenant_id, account_id=account_id, person_id=person_id,
                                kind=fields.get("kind", "contact"), roles=sorted(roles),
                                permissions=sorted(fields.get("permissions", [])),
                                notifications=sorted(fields.get("notifications", [])), status="active",
                                created_at=now, updated_at=now, version=1)
        self._repos.memberships.add(tx, membership, Conflict("This person is already a member of the account.",
                                                             "already_member", [Problem("email", "is already a member")]))
        effects = membership_effects(None, _state(membership))
        self._repos.accounts.apply_effects(tx, tenant_id, account_id, person_id, effects,
                                           lambda: self._explain_slots(tenant_id, account_id, effects["claim"]))
        welcome = self.welcome_mail(tx, tenant_id, account_id, person, tenant=tenant)
        self._repos.audit.add(tx, tenant_id, account_id, actor, "contact.added", now, target=person_id,
                              changed=[name for name in fields if name != "email"] + ["membership"])
        tx.commit()
        if welcome is not None:
            self._mail.dispatch(welcome)
        return ContactDetails(membership, person, person_created=existing_id is None,
                              welcome_mail_job_id=welcome.job_id if welcome else None)

    def shares_account(self, tenant_id: str, person_id: str, other_id: str) -> bool:
        """Whether `other_id` is (or was) a member of an account where `person_id` is active:
        the people a person may see and add directly (both read through the by_person index)."""
        if person_id == other_id:
            return True
        mine = {m.account_id for m in self._repos.people.memberships_of(tenant_id, person_id) if m.is_active}
        return any(m.account_id in mine and m.status not in NOT_YET_MEMBERS
                   for m in self._repos.people.memberships_of(tenant_id, other_id))

    def welcome_mail(self, tx, tenant_id: str, account_id: str, person: Person, tenant: Tenant | None = None):
        """P4: with the tenant's welcome mail on, the new contact's welcome mail is written in
        the same transaction as the membership (it can't be lost or sent for a failed add).
        Also used when an invitation of kind contact is accepted (with the tenant it read)."""
        if self._mail is None:
            return None
        tenant = tenant or self._repos.tenants.get(tenant_id)
        if tenant is None or not tenant.welcome_mail.get("enabled"):
            return None
        recipient = Recipient(person.email, person.language or "", person.person_id,
                              {"first_name": person.first_name or "", "email": person.email})
        return self._mail.add(tx, tenant_id, "welcome", [recipient], account_id=account_id)

    def explain_slots(self, tenant_id: str, account_id: str, claimed: list[str]):
        """Why the account refused a membership's slot claims (409s), once its condition failed."""
        return self._explain_slots(tenant_id, account_id, claimed)

    def _explain_slots(self, tenant_id: str, account_id: str, claimed: list[str]):
        account = self._repos.accounts.get(tenant_id, account_id)
        if account is None:
            return NotFound("Account")
        if "customer" in claimed and account.customer_person_id:
            return Conflict("The account already has its customer (main profile).", "customer_exists",
                            [Problem("kind", "customer is taken")])
        taken = [slot for slot in SLOTS if slot in claimed and getattr(account, f"{slot}_contact_id")]
        if taken:
            return Conflict("The account already has this designated contact; hand it over with "
                            "PUT …/designated-contacts.", "designated_contact_taken",
                            [Problem("roles", f"{slot} is held by another member") for slot in taken])
        return Contention()

    # --- read --------------------------------------------------------------------------
    def get(self, tenant_id: str, account_id: str, person_id: str) -> ContactDetails:
        found = self._repos.people.with_membership(tenant_id, account_id, person_id)
        if found is None:
            raise NotFound("Contact")
        return ContactDetails(*found)

    def list(self, tenant_id: str, account_id: str, filters: dict, limit: int, cursor: str | None) -> Page[Membership]:
        exists, members, next_cursor = self._repos.memberships.account_page(tenant_id, account_id, limit, cursor,
                                                                            filters)
        if not exists:
            raise NotFound("Account")
        return Page(members, next_cursor)

    # --- change ------------------------------------------------------------------------
    def update(self, tenant_id: str, account_id: str, person_id: str, changes: dict,
               expected_version: int | None, actor: dict | None = None, current: Membership | None = None
               ) -> Membership:
        """Changes roles, permissions, notifications or status; the account's counters and
        designated slots follow in the same transaction. `current`: the membership as the caller
        just read it, used instead of a read of its own by the first attempt."""
        known = [current] if current is not None else []
        return retry_on_contention(ATTEMPTS, lambda: self._update(tenant_id, account_id, person_id, changes,
                                                                  expected_version, actor=actor,
                                                                  before=known.pop() if known else None))

    def _update(self, tenant_id, account_id, person_id, changes, expected_version, actor=None,
                before: Membership | None = None) -> Membership:
        """One read (the membership, unless given), one transaction: the membership on the
        version read, the account's counters and slots when roles or status change, the audit
        entry. The answer is what was written."""
        before = before or self._repos.memberships.get(tenant_id, account_id, person_id)
        if before is None:
            raise NotFound("Contact")
        if expected_version is not None and before.version != expected_version:
            raise VersionConflict("Contact")
        after, effects = self._changed(before, changes)
        tx = self._repos.transaction()
        self._stage(tx, before, after, effects, changes, actor)
        tx.commit()
        return after

    def update_several(self, changes: list[tuple[Membership, dict]], actor: dict | None = None) -> list[Membership]:
        """Changes of several memberships, each as the caller read it, in one transaction (or one
        per MAX_TRANSACTION_ITEMS items, in order, when they do not fit in one), each membership
        conditional on its version read. A membership that changed meanwhile fails the
        transaction (Contention; earlier transactions stay written): the caller reads again.
        Returns the memberships as written."""
        planned = [(before, *self._changed(before, change), change) for before, change in changes]
        written: list[Membership] = []
        tx, staged = self._repos.transaction(), []
        for before, after, effects, change in planned:
            if tx.size + _items(effects, actor) > MAX_TRANSACTION_ITEMS:
                tx.commit()
                written += staged
                tx, staged = self._repos.transaction(), []
            self._stage(tx, before, after, effects, change, actor)
            staged.append(after)
        tx.commit()
        return written + staged

    def _changed(self, before: Membership, changes: dict) -> tuple[Membership, dict]:
        """The membership after `changes` (the rules checked) and the effects on its account."""
        status = changes.get("status", before.status)
        if "status" in changes and before.status not in ("active", "inactive"):
            raise RuleViolation("Only an active or inactive membership can change status here.",
                                [Problem("status", f"cannot change from {before.status}")], "invalid_transition")
        roles = set(changes.get("roles", before.roles))
        if status != "active" and {"roles", "status"} & changes.keys():
            roles -= set(SLOTS)  # a designated contact must be an active member
        after = replace(before, roles=sorted(roles),
                        permissions=sorted(changes.get("permissions", before.permissions)),
                        notifications=sorted(changes.get("notifications", before.notifications)), status=status,
                        updated_at=self._clock.now_iso(), version=before.version + 1)
        return after, membership_effects(_state(before), _state(after))

    def _stage(self, tx, before: Membership, after: Membership, effects: dict, changes: dict,
               actor: dict | None) -> None:
        """Puts one membership's change into `tx`: the membership on the version read, the
        account's counters and slots when roles or status change, the audit entry."""
        tenant_id, account_id, person_id = before.tenant_id, before.account_id, before.person_id
        self._repos.memberships.change(tx, before, after)
        if _touches_account(effects):
            self._repos.accounts.apply_effects(tx, tenant_id, account_id, person_id, effects,
                                               lambda: self._explain_slots(tenant_id, account_id, effects["claim"]))
        self._repos.audit.add(tx, tenant_id, account_id, actor, "contact.updated", after.updated_at,
                              target=person_id, changed=changes.keys())

    def remove(self, tenant_id: str, account_id: str, person_id: str, actor: dict | None = None) -> None:
        """Removes the membership; the person stays in the tenant."""
        retry_on_contention(ATTEMPTS, lambda: self._remove(tenant_id, account_id, person_id, actor))

    def _remove(self, tenant_id: str, account_id: str, person_id: str, actor: dict | None = None) -> None:
        before = self._repos.memberships.get(tenant_id, account_id, person_id)
        if before is None:
            raise NotFound("Contact")
        tx = self._repos.transaction()
        self.add_removal(tx, before)
        self._repos.audit.add(tx, tenant_id, account_id, actor, "contact.removed", self._clock.now_iso(),
                              target=person_id)
        tx.commit()

    def add_removal(self, tx, membership: Membership) -> None:
        """Puts the deletion of a membership and its effect on the account into `tx`."""
        self._repos.memberships.delete(tx, membership)
        self._repos.accounts.apply_effects(tx, membership.tenant_id, membership.account_id, membership.person_id,
                                           membership_effects(_state(membership), None), Contention())

    # --- designated contacts (N3) ------------------------------------------------------
    def designated(self, tenant_id: str, account_id: str) -> dict[str, str | None]:
        account = self._repos.accounts.get(tenant_id, account_id)
        if account is None:
            raise NotFound("Account")
        return {slot: getattr(account, f"{slot}_contact_id") for slot in SLOTS}

    def set_designated(self, tenant_id: str, account_id: str, wanted: dict[str, str | None],
                       actor: dict | None = None) -> dict[str, str | None]:
        """Hands each named slot over atomically: the old holder loses the role and the new one
        gains it in one transaction, conditional on the holder read, so concurrent handovers
        never leave two holders or none; a loser re-reads and retries."""
        return retry_on_contention(ATTEMPTS, lambda: self._set_designated(tenant_id, account_id, wanted, actor))

    def _set_designated(self, tenant_id, account_id, wanted, actor=None) -> dict[str, str | None]:
        account = self._repos.accounts.get(tenant_id, account_id)
        if account is None:
            raise NotFound("Account")
        current = {slot: getattr(account, f"{slot}_contact_id") for slot in SLOTS}
        gained: dict[str, set[str]] = {}
        lost: dict[str, set[str]] = {}
        for slot, new_holder in wanted.items():
            old_holder = current[slot]
            if new_holder == old_holder:
                continue
            if new_holder:
                gained.setdefault(new_holder, set()).add(slot)
            if old_holder:
                lost.setdefault(old_holder, set()).add(slot)
        if not gained and not lost:
            return current
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        self._repos.accounts.hand_over(tx, tenant_id, account_id, current, wanted, Contention())
        for person_id in dict.fromkeys([*gained, *lost]):
            gains, losses = gained.get(person_id, set()), lost.get(person_id, set())
            version = roles = None
            if gains and losses:
                # a holder who swaps slots gets the roles read, on that version
                member = self._repos.memberships.get(tenant_id, account_id, person_id)
                if member is None:
                    raise Contention()
                version, roles = member.version, (set(member.roles) - losses) | gains
            error = RuleViolation("A designated contact must be an active member of the account.",
                                  [Problem(slot, "is not an active member") for slot in sorted(gains)],
                                  "not_an_active_member") if gains and not losses else None
            self._repos.memberships.change_roles(tx, tenant_id, account_id, person_id, gains=gains, losses=losses,
                                                 now=now, version=version, roles=roles, error=error)
        changed = [slot for slot in wanted if wanted[slot] != current[slot]]
        self._repos.audit.add(tx, tenant_id, account_id, actor, "designated_contacts.changed", now, changed=changed)
        tx.commit()
        return {**current, **wanted}
