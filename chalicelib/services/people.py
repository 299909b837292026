"""People of a tenant: lookup, changes, the access list (G7) and erasure."""
from __future__ import annotations

import itertools
from dataclasses import replace

from chalicelib.domain.entities import Access, Membership, Page, Person
from chalicelib.domain.errors import Conflict, NotFound, Problem, VersionConflict, retry_on_contention
from chalicelib.domain.rules import normalise_email

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit
ERASURE_CHUNK = (MAX_TRANSACTION_ITEMS - 2) // 2  # each membership is two items: itself and its account
ATTEMPTS = 5


class PeopleService:
    def __init__(self, repositories, clock, contacts):
        self._repos = repositories
        self._clock = clock
        self._contacts = contacts

    def find_by_email(self, tenant_id: str, email: str) -> Person | None:
        return self._repos.people.find_by_email(tenant_id, normalise_email(email))

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> Page[Person]:
        return self._repos.people.list(tenant_id, limit, cursor)

    def get(self, tenant_id: str, person_id: str) -> Person:
        person = self._repos.people.get(tenant_id, person_id)
        if person is None or not person.email:  # no e-mail: an erasure has begun
            raise NotFound("Person")
        return person

    def with_memberships(self, tenant_id: str, person_id: str, limit: int
                         ) -> tuple[Person, list[Membership], str | None]:
        """The person with their first `limit` memberships and the cursor of the rest, from one
        by_person Query. Only when the index does not show the person (it lags behind a new
        one) does a consistent GetItem decide: NotFound for a missing or erased person."""
        person, memberships, cursor = self._repos.people.person_and_memberships(tenant_id, person_id, limit)
        if person is None:
            person = self._repos.people.get(tenant_id, person_id)
        if person is None or not person.email:  # no e-mail: an erasure has begun
            raise NotFound("Person")
        return person, memberships, cursor

    def update(self, tenant_id: str, person_id: str, changes: dict, expected_version: int | None) -> Person:
        """Changes a person's details. A new e-mail moves the uniqueness claim in the same transaction."""
        if "email" in changes:
            return self._change_email(tenant_id, person_id, changes, expected_version)
        return self._repos.people.update(tenant_id, person_id, changes, expected_version, self._clock.now_iso())

    def _change_email(self, tenant_id, person_id, changes, expected_version) -> Person:
        people = self._repos.people
        current = self.get(tenant_id, person_id)
        if expected_version is not None and current.version != expected_version:
            raise VersionConflict("Person")
        email = normalise_email(changes["email"])
        changes = {**changes, "email": email}
        if email == current.email:
            changes.pop("email")
            return self.update(tenant_id, person_id, changes, expected_version) if changes else current
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        people.change_email(tx, current, changes, now, Conflict("Another person of this tenant has this e-mail.",
                                                                "email_taken",
                                                                [Problem("email", "belongs to another person")]))
        tx.commit()
        return replace(current, **changes, updated_at=now, version=current.version + 1)

    def access(self, tenant_id: str, person_id: str, limit: int, cursor: str | None) -> Page[Access]:
        """Every membership of the person with the account's name (G7): one Query, one BatchGet."""
        exists, memberships, next_cursor = self._repos.people.person_page(tenant_id, person_id, limit, cursor)
        if not exists:
            raise NotFound("Person")
        accounts = self._repos.accounts.get_many(tenant_id, [m.account_id for m in memberships])
        rows = []
        for membership in memberships:
            account = accounts.get(membership.account_id)
            rows.append(Access(membership, account.name if account else None, account.status if account else None))
        return Page(rows, next_cursor)

    # --- erasure -------------------------------------------------------------------------
    def erase(self, tenant_id: str, person_id: str) -> None:
        """Erases a person: personal data, every membership (freeing designated slots, so the
        warnings appear) and the person item.

        The person and their memberships come from one by_person Query (a consistent GetItem
        of the person when the index does not show them). The transaction is conditional on the
        person's version and each membership's, so a stale index read fails it: the erasure runs
        again, the person then read with a consistent GetItem, up to ATTEMPTS times.

        A person in up to ERASURE_CHUNK accounts goes in one transaction. A larger erasure
        first strips the personal data and writes an erasure marker in one transaction, then
        removes the memberships chunk by chunk; housekeeping finishes one a crash cut short."""
        attempt = itertools.count()
        retry_on_contention(ATTEMPTS, lambda: self._erase(tenant_id, person_id, fresh=next(attempt) > 0))

    def _erase(self, tenant_id: str, person_id: str, fresh: bool) -> None:
        people = self._repos.people
        person, memberships, more = people.person_and_memberships(tenant_id, person_id, ERASURE_CHUNK)
        if fresh or person is None or not person.email:
            person = people.get(tenant_id, person_id)
        if person is None or not person.email:
            if person is None and not people.erasure_pending(tenant_id, person_id):
                raise NotFound("Person")
            return self.finish_erasure(tenant_id, person_id)
        tx = self._repos.transaction()
        people.release_email(tx, person)
        if more is None:
            for membership in memberships:
                self._contacts.add_removal(tx, membership)
            people.delete(tx, tenant_id, person_id, person.version)
            tx.commit()
            return
        people.begin_erasure(tx, person, self._clock.now_iso())
        tx.commit()
        self.finish_erasure(tenant_id, person_id)

    def finish_erasure(self, tenant_id: str, person_id: str) -> None:
        """Removes the memberships in transactions of up to ERASURE_CHUNK; the last one also
        removes the person and the erasure marker."""
        people = self._repos.people
        while True:
            _, memberships, more = people.person_page(tenant_id, person_id, ERASURE_CHUNK, None)
            tx = self._repos.transaction()
            for membership in memberships:
                self._contacts.add_removal(tx, membership)
            if more is None:
                people.delete(tx, tenant_id, person_id)
                people.end_erasure(tx, tenant_id, person_id)
                tx.commit()
                return
            tx.commit()

    def resume_erasures(self, limit: int = 25) -> int:
        """Housekeeping: finishes erasures a crash left half done. Returns how many it finished."""
        pending = self._repos.people.pending_erasures(limit)
        for tenant_id, person_id in pending:
            self.finish_erasure(tenant_id, person_id)
        return len(pending)
