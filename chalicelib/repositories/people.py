"""People, their e-mail claims, and memberships (a person in an account)."""
from __future__ import annotations

from chalicelib.domain.entities import Membership, Page, Person
from chalicelib.models import keys
from chalicelib.models.entities import EmailClaimItem, ErasureItem, MembershipItem, PersonItem
from chalicelib.repositories.database import get_item, query_page


def to_person(item: PersonItem) -> Person:
    return Person(item.tenant_id, item.person_id, item.email, item.first_name, item.last_name, item.phone,
                  item.language, item.created_at, item.updated_at, int(item.version), item.undeliverable)


def to_membership(item: MembershipItem) -> Membership:
    return Membership(item.tenant_id, item.account_id, item.person_id, item.kind, sorted(item.roles or ()),
                      sorted(item.permissions or ()), sorted(item.notifications or ()), item.status,
                      item.created_at, item.updated_at, int(item.version), item.undeliverable)


class PeopleRepository:
    # --- people -------------------------------------------------------------------------
    def person_key(self, tenant_id: str, person_id: str) -> tuple[str, str]:
        return keys.person(tenant_id, person_id), keys.PERSON_SK

    def new_person_item(self, person: Person) -> PersonItem:
        tid, pid = person.tenant_id, person.person_id
        return PersonItem(
            *self.person_key(tid, pid), tenant_id=tid, person_id=pid, email=person.email,
            first_name=person.first_name, last_name=person.last_name, phone=person.phone,
            language=person.language, created_at=person.created_at, updated_at=person.updated_at, version=1,
            email_key=keys.email_lookup(tid, person.email), list_pk=keys.people_list(tid),
            list_sk=keys.created(person.created_at, pid), person_key=keys.person(tid, pid),
            person_sk=keys.PERSON_FIRST,
        )

    def person_ref(self, tenant_id: str, person_id: str) -> PersonItem:
        return PersonItem(*self.person_key(tenant_id, person_id))

    def get(self, tenant_id: str, person_id: str) -> Person | None:
        item = get_item(PersonItem, *self.person_key(tenant_id, person_id))
        return to_person(item) if item else None

    def find_by_email(self, tenant_id: str, email: str) -> Person | None:
        for item in PersonItem.by_email.query(keys.email_lookup(tenant_id, email), limit=1):
            return to_person(item)
        return None

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Person]:
        items, next_cursor = query_page(PersonItem.by_list.query, "list_pk", keys.people_list(tenant_id), limit, cursor)
        return Page([to_person(item) for item in items], next_cursor)

    # --- e-mail claims (uniqueness per tenant) ------------------------------------------
    def claim_key(self, tenant_id: str, email: str) -> tuple[str, str]:
        return keys.email_claim(tenant_id, email), keys.EMAIL_SK

    def claim_item(self, tenant_id: str, email: str, person_id: str) -> EmailClaimItem:
        return EmailClaimItem(*self.claim_key(tenant_id, email), person_id=person_id)

    # --- memberships --------------------------------------------------------------------
    def membership_key(self, tenant_id: str, account_id: str, person_id: str) -> tuple[str, str]:
        return keys.account(tenant_id, account_id), keys.member(person_id)

    def new_membership_item(self, membership: Membership) -> MembershipItem:
        m = membership
        return MembershipItem(
            *self.membership_key(m.tenant_id, m.account_id, m.person_id), tenant_id=m.tenant_id,
            account_id=m.account_id, person_id=m.person_id, kind=m.kind, roles=set(m.roles),
            permissions=set(m.permissions), notifications=set(m.notifications), status=m.status,
            created_at=m.created_at, updated_at=m.updated_at, version=1,
            person_key=keys.person(m.tenant_id, m.person_id), person_sk=m.account_id,
            list_pk=keys.members_list(m.tenant_id), list_sk=f"{m.account_id}#{m.person_id}",
        )

    def membership_ref(self, tenant_id: str, account_id: str, person_id: str) -> MembershipItem:
        return MembershipItem(*self.membership_key(tenant_id, account_id, person_id))

    def membership(self, tenant_id: str, account_id: str, person_id: str) -> Membership | None:
        item = get_item(MembershipItem, *self.membership_key(tenant_id, account_id, person_id))
        return to_membership(item) if item else None

    def membership_with_person(self, tenant_id: str, account_id: str, person_id: str,
                               connection) -> tuple[Membership, Person] | None:
        """Both items in one strongly consistent TransactGetItems call."""
        from pynamodb.transactions import TransactGet

        with TransactGet(connection=connection) as get:
            membership = get.get(MembershipItem, *self.membership_key(tenant_id, account_id, person_id))
            person = get.get(PersonItem, *self.person_key(tenant_id, person_id))
        try:
            return to_membership(membership.get()), to_person(person.get())
        except (MembershipItem.DoesNotExist, PersonItem.DoesNotExist):
            return None

    def account_page(self, tenant_id: str, account_id: str, limit: int, cursor: str | None,
                     filter_condition=None) -> tuple[bool, list[Membership], str | None]:
        """The account item (first page only) and a page of its memberships, in one Query.

        The account item sorts before the memberships ("ACCOUNT" < "M#"), so the first page
        tells at once whether the account exists.
        """
        first_page = cursor is None
        condition = MembershipItem.sk >= keys.ACCOUNT_SK
        if filter_condition is not None:
            filter_condition = (MembershipItem.sk == keys.ACCOUNT_SK) | filter_condition
        items, next_cursor = query_page(
            MembershipItem.query, "pk", keys.account(tenant_id, account_id), limit + (1 if first_page else 0),
            cursor, range_key_condition=condition, filter_condition=filter_condition)
        exists = not first_page or any(item.sk == keys.ACCOUNT_SK for item in items)
        memberships = [to_membership(item) for item in items if item.sk.startswith(keys.MEMBER_PREFIX)]
        return exists, memberships, next_cursor

    def person_page(self, tenant_id: str, person_id: str, limit: int, cursor: str | None
                    ) -> tuple[bool, list[Membership], str | None]:
        """Whether the person exists (first page) and a page of their memberships, one Query."""
        first_page = cursor is None
        items, next_cursor = query_page(MembershipItem.by_person.query, "person_key", keys.person(tenant_id, person_id),
                                        limit + (1 if first_page else 0), cursor)
        exists = not first_page or any(item.sk == keys.PERSON_SK for item in items)
        return exists, [to_membership(item) for item in items if item.sk.startswith(keys.MEMBER_PREFIX)], next_cursor

    def memberships_of(self, tenant_id: str, person_id: str) -> list[Membership]:
        """Every membership of the person, page by page (a person has few)."""
        found, cursor = [], None
        while True:
            _, memberships, cursor = self.person_page(tenant_id, person_id, 100, cursor)
            found += memberships
            if cursor is None:
                return found

    # --- erasures -----------------------------------------------------------------------
    def erasure_item(self, tenant_id: str, person_id: str, started_at: str) -> ErasureItem:
        return ErasureItem(keys.ERASURE_PK, keys.erasure(tenant_id, person_id), tenant_id=tenant_id,
                           person_id=person_id, started_at=started_at)

    def erasure_ref(self, tenant_id: str, person_id: str) -> ErasureItem:
        return ErasureItem(keys.ERASURE_PK, keys.erasure(tenant_id, person_id))

    def erasure_pending(self, tenant_id: str, person_id: str) -> bool:
        return get_item(ErasureItem, keys.ERASURE_PK, keys.erasure(tenant_id, person_id)) is not None

    def pending_erasures(self, limit: int) -> list[tuple[str, str]]:
        return [(item.tenant_id, item.person_id) for item in ErasureItem.query(keys.ERASURE_PK, limit=limit)]

    def mark_undeliverable(self, tenant_id: str, person_id: str, reason: str) -> None:
        """SES reported a bounce or complaint: the person and each membership show it."""
        from pynamodb.exceptions import UpdateError

        try:
            self.person_ref(tenant_id, person_id).update([PersonItem.undeliverable.set(reason)],
                                                         condition=PersonItem.pk.exists())
        except UpdateError:
            return  # erased meanwhile
        cursor = None
        while True:
            _, memberships, cursor = self.person_page(tenant_id, person_id, 100, cursor)
            for m in memberships:
                try:
                    self.membership_ref(tenant_id, m.account_id, person_id).update(
                        [MembershipItem.undeliverable.set(reason)], condition=MembershipItem.pk.exists())
                except UpdateError:
                    pass  # removed meanwhile
            if cursor is None:
                return
