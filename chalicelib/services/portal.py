"""The portal's person: who they are, the accounts they belong to (G6, G7) and what they may
change about themselves (name, phone, language; notification choices per account)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.entities import Account, Membership, Person, Tenant
from chalicelib.domain.permissions import can_manage, grants_access

MAX_MEMBERSHIPS_PAGE = 100


@dataclass(frozen=True)
class PortalMembership:
    membership: Membership
    account: Account | None

    @property
    def can_manage(self) -> bool:
        return can_manage(self.membership)


@dataclass(frozen=True)
class Me:
    person: Person
    memberships: list[PortalMembership]
    tenant: Tenant | None = None  # when asked for (`with_tenant`)


class PortalService:
    def __init__(self, repositories, clock, people, contacts):
        self._repos = repositories
        self._clock = clock
        self._people = people  # () -> PeopleService, built on first use
        self._contacts = contacts  # () -> ContactService, built on first use

    def active_membership(self, tenant_id: str, account_id: str, person_id: str) -> Membership | None:
        """The person's membership in the account if it grants access (active), else None: one GetItem."""
        membership = self._repos.memberships.get(tenant_id, account_id, person_id)
        return membership if grants_access(membership) else None

    def me(self, tenant_id: str, person_id: str, with_tenant: bool = False) -> Me:
        """The person and every membership with its account (the account picker's data): the
        person comes with their first memberships from the by_person Query (PeopleService.
        with_memberships), one more Query per further page, then the accounts in one
        BatchGetItem per MAX_MEMBERSHIPS_PAGE (the tenant read with them, `with_tenant`)."""
        person, memberships, cursor = self._people().with_memberships(tenant_id, person_id, MAX_MEMBERSHIPS_PAGE)
        while cursor is not None:
            _, page, cursor = self._repos.people.person_page(tenant_id, person_id, MAX_MEMBERSHIPS_PAGE, cursor)
            memberships.extend(page)
        ids, tenant = [m.account_id for m in memberships], None
        if with_tenant:
            accounts, tenant = self._repos.accounts.get_many_and_tenant(tenant_id, ids)
        else:
            accounts: dict[str, Account] = {}
            for start in range(0, len(ids), MAX_MEMBERSHIPS_PAGE):
                accounts.update(self._repos.accounts.get_many(tenant_id, ids[start:start + MAX_MEMBERSHIPS_PAGE]))
        rows = [PortalMembership(m, accounts.get(m.account_id)) for m in memberships]
        rows.sort(key=lambda r: (not r.membership.is_active, (r.account.name or "") if r.account else "",
                                 r.membership.account_id))
        return Me(person, rows, tenant)

    def update_me(self, tenant_id: str, person_id: str, changes: dict, expected_version: int | None) -> Person:
        return self._people().update(tenant_id, person_id, changes, expected_version)

    def update_my_membership(self, tenant_id: str, account_id: str, person_id: str, changes: dict,
                             expected_version: int | None, *, actor: dict, current: Membership | None = None
                             ) -> Membership:
        """A member's own notification choices (N2) for one account; audited like a contact change.
        The route has already checked the active membership (people="member"): `current` is that
        membership as read, so the change needs no read of its own."""
        return self._contacts().update(tenant_id, account_id, person_id, changes, expected_version, actor=actor,
                                       current=current)

    def update_my_memberships(self, changes: list[tuple[Membership, dict]], *, actor: dict) -> list[Membership]:
        """A member's own notification choices in several accounts at once, each membership as
        read: one transaction (ContactService.update_several), audited like a contact change."""
        return self._contacts().update_several(changes, actor=actor)
