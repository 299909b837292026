"""People, their e-mail claims (one person per e-mail and tenant), their memberships as the
by_person index lists them, and erasures."""
from __future__ import annotations

from chalicelib.domain.entities import Membership, Page, Person, Tenant
from chalicelib.domain.errors import Contention, NotFound
from chalicelib.models import keys
from chalicelib.models.entities import EmailClaimItem, ErasureItem, MembershipItem, PersonItem
from chalicelib.repositories.items import (
    get_item, query_page, query_raw_page, raw_cursor, set_or_remove, update_item, update_versioned,
)


def to_person(item: PersonItem) -> Person:
    return Person(tenant_id=item.tenant_id, person_id=item.person_id, email=item.email,
                  first_name=item.first_name, last_name=item.last_name, phone=item.phone, language=item.language,
                  created_at=item.created_at, updated_at=item.updated_at, version=int(item.version),
                  undeliverable=item.undeliverable)


class PeopleRepository:
    def __init__(self, connection=None):
        self._connection = connection  # for TransactGetItems

    def key(self, tenant_id: str, person_id: str) -> tuple[str, str]:
        return keys.person(tenant_id, person_id), keys.PERSON_SK

    def _ref(self, tenant_id: str, person_id: str) -> PersonItem:
        return PersonItem(*self.key(tenant_id, person_id))

    def new_item(self, person: Person) -> PersonItem:
        tid, pid = person.tenant_id, person.person_id
        return PersonItem(
            *self.key(tid, pid), tenant_id=tid, person_id=pid, email=person.email,
            first_name=person.first_name, last_name=person.last_name, phone=person.phone,
            language=person.language, created_at=person.created_at, updated_at=person.updated_at, version=1,
            email_key=keys.email_lookup(tid, person.email), list_pk=keys.people_list(tid),
            list_sk=keys.created(person.created_at, pid), person_key=keys.person(tid, pid),
            person_sk=keys.PERSON_FIRST,
        )

    @staticmethod
    def _claim_key(tenant_id: str, email: str) -> tuple[str, str]:
        return keys.email_claim(tenant_id, email), keys.EMAIL_SK

    def claim_item(self, tenant_id: str, email: str, person_id: str) -> EmailClaimItem:
        """The item that reserves `email` in the tenant for the person."""
        return EmailClaimItem(*self._claim_key(tenant_id, email), person_id=person_id)

    # --- reads --------------------------------------------------------------------------
    def get(self, tenant_id: str, person_id: str) -> Person | None:
        item = get_item(PersonItem, *self.key(tenant_id, person_id))
        return to_person(item) if item else None

    def claimant_and_tenant(self, tenant_id: str, email: str) -> tuple[str | None, Tenant | None]:
        """Who holds `email` in the tenant (the claim: strongly consistent, unlike the by_email
        index) and the tenant, read together in one BatchGetItem."""
        from chalicelib.models.entities import TenantItem
        from chalicelib.repositories.tenants import to_tenant, with_tenant

        tenant, claim = with_tenant(tenant_id, [self._claim_key(tenant_id, email)], consistent_read=True)
        return (claim[0]["person_id"]["S"] if claim else None,
                to_tenant(TenantItem.from_raw_data(tenant)) if tenant else None)

    def find_by_email(self, tenant_id: str, email: str) -> Person | None:
        for item in PersonItem.by_email.query(keys.email_lookup(tenant_id, email), limit=1):
            return to_person(item)
        return None

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Person]:
        items, next_cursor = query_page(PersonItem.by_list.query, "list_pk", keys.people_list(tenant_id), limit, cursor)
        return Page([to_person(item) for item in items], next_cursor)

    def with_membership(self, tenant_id: str, account_id: str, person_id: str) -> tuple[Membership, Person] | None:
        """A contact: the membership and the person in one strongly consistent TransactGetItems call."""
        from pynamodb.transactions import TransactGet

        from chalicelib.repositories.memberships import MembershipRepository, to_membership

        with TransactGet(connection=self._connection) as get:
            membership = get.get(MembershipItem, *MembershipRepository().key(tenant_id, account_id, person_id))
            person = get.get(PersonItem, *self.key(tenant_id, person_id))
        try:
            return to_membership(membership.get()), to_person(person.get())
        except (MembershipItem.DoesNotExist, PersonItem.DoesNotExist):
            return None

    def person_and_memberships(self, tenant_id: str, person_id: str, limit: int
                               ) -> tuple[Person | None, list[Membership], str | None]:
        """The person as the by_person index shows them (None where it does not: no such person,
        or the index is still behind a new one) and their first `limit` memberships: one Query."""
        return self._by_person(tenant_id, person_id, limit, None)

    def person_page(self, tenant_id: str, person_id: str, limit: int, cursor: str | None
                    ) -> tuple[bool, list[Membership], str | None]:
        """Whether the person exists (first page) and a page of their memberships, one Query."""
        person, memberships, next_cursor = self._by_person(tenant_id, person_id, limit, cursor)
        return cursor is not None or person is not None, memberships, next_cursor

    def _by_person(self, tenant_id: str, person_id: str, limit: int, cursor: str | None
                   ) -> tuple[Person | None, list[Membership], str | None]:
        """One Query of the person's by_person partition: the person item sorts first, then up
        to `limit` memberships (a first page asks for one item more, the person's)."""
        from chalicelib.repositories.memberships import to_membership

        first_page = cursor is None
        query = MembershipItem.by_person.query
        items, next_cursor = query_raw_page(query, "person_key", keys.person(tenant_id, person_id),
                                            limit + (1 if first_page else 0), cursor)
        person = next((to_person(PersonItem.from_raw_data(raw)) for raw in items if raw["sk"]["S"] == keys.PERSON_SK),
                      None)
        members = [raw for raw in items if raw["sk"]["S"].startswith(keys.MEMBER_PREFIX)]
        if len(members) > limit:  # the index did not show the person: the page ends at `limit`
            members = members[:limit]
            next_cursor = raw_cursor(query, members[-1])
        return person, [to_membership(MembershipItem.from_raw_data(raw)) for raw in members], next_cursor

    def memberships_of(self, tenant_id: str, person_id: str) -> list[Membership]:
        """Every membership of the person, page by page (a person has few)."""
        found, cursor = [], None
        while True:
            _, memberships, cursor = self.person_page(tenant_id, person_id, 100, cursor)
            found += memberships
            if cursor is None:
                return found

    # --- writes -------------------------------------------------------------------------
    def add(self, tx, person: Person) -> None:
        """A new person with the claim of their e-mail (Contention if the claim exists: the
        by_email index was behind)."""
        tx.put(self.claim_item(person.tenant_id, person.email, person.person_id),
               condition=EmailClaimItem.pk.does_not_exist(), error=Contention())
        tx.put(self.new_item(person), condition=PersonItem.pk.does_not_exist())

    def check_claim(self, tx, tenant_id: str, email: str, person_id: str) -> None:
        """The person still holds the claim of `email` when `tx` commits."""
        tx.check(EmailClaimItem, *self._claim_key(tenant_id, email), condition=EmailClaimItem.person_id == person_id,
                 error=Contention())

    def update(self, tenant_id: str, person_id: str, changes: dict, expected_version: int | None, now: str) -> Person:
        """Details other than the e-mail, in one conditional UpdateItem (not once an erasure began)."""
        actions = [set_or_remove(getattr(PersonItem, name), value) for name, value in changes.items()]
        item = update_item(PersonItem, *self.key(tenant_id, person_id), actions, now=now, what="Person",
                           expected_version=expected_version, condition=PersonItem.email_key.exists(),
                           explain=lambda current: NotFound("Person"))
        return to_person(item)

    def change_email(self, tx, before: Person, changes: dict, now: str, taken) -> None:
        """The e-mail claim moves to `changes["email"]` (`taken` if another person holds it) and
        the details change, if the person is still the version read."""
        tid, pid, email = before.tenant_id, before.person_id, changes["email"]
        tx.delete(EmailClaimItem(*self._claim_key(tid, before.email)), condition=EmailClaimItem.person_id == pid,
                  error=Contention())
        tx.put(self.claim_item(tid, email, pid), condition=EmailClaimItem.pk.does_not_exist(), error=taken)
        actions = [set_or_remove(getattr(PersonItem, name), value) for name, value in changes.items()]
        update_versioned(tx, self._ref(tid, pid), actions + [PersonItem.email_key.set(keys.email_lookup(tid, email))],
                         version=before.version, now=now)

    def release_email(self, tx, person: Person) -> None:
        tx.delete(EmailClaimItem(*self._claim_key(person.tenant_id, person.email)),
                  condition=EmailClaimItem.person_id == person.person_id, error=Contention())

    def delete(self, tx, tenant_id: str, person_id: str, version: int | None = None) -> None:
        """The person item goes (if still `version`, when given)."""
        condition = None if version is None else PersonItem.version == version
        tx.delete(self._ref(tenant_id, person_id), condition=condition, error=None if version is None else Contention())

    # --- erasures -----------------------------------------------------------------------
    def begin_erasure(self, tx, person: Person, now: str) -> None:
        """Personal data stripped and an erasure marker written, for an erasure in several steps."""
        tid, pid = person.tenant_id, person.person_id
        tx.put(ErasureItem(keys.ERASURE_PK, keys.erasure(tid, pid), tenant_id=tid, person_id=pid, started_at=now))
        tx.update(self._ref(tid, pid),
                  [PersonItem.email.set(""), PersonItem.first_name.remove(), PersonItem.last_name.remove(),
                   PersonItem.phone.remove(), PersonItem.email_key.remove(), PersonItem.list_pk.remove()],
                  condition=PersonItem.version == person.version, error=Contention())

    def end_erasure(self, tx, tenant_id: str, person_id: str) -> None:
        tx.delete(ErasureItem(keys.ERASURE_PK, keys.erasure(tenant_id, person_id)))

    def erasure_pending(self, tenant_id: str, person_id: str) -> bool:
        return get_item(ErasureItem, keys.ERASURE_PK, keys.erasure(tenant_id, person_id)) is not None

    def pending_erasures(self, limit: int) -> list[tuple[str, str]]:
        return [(item.tenant_id, item.person_id) for item in ErasureItem.query(keys.ERASURE_PK, limit=limit)]

    def mark_undeliverable(self, tenant_id: str, person_id: str, reason: str) -> None:
        """SES reported a bounce or complaint: the person and each membership show it."""
        from pynamodb.exceptions import UpdateError

        from chalicelib.repositories.memberships import MembershipRepository

        try:
            self._ref(tenant_id, person_id).update([PersonItem.undeliverable.set(reason)],
                                                   condition=PersonItem.pk.exists())
        except UpdateError:
            return  # erased meanwhile
        memberships, cursor = MembershipRepository(), None
        while True:
            _, page, cursor = self.person_page(tenant_id, person_id, 100, cursor)
            for m in page:
                memberships.mark_undeliverable(m, reason)
            if cursor is None:
                return
