"""People of a tenant: lookup, changes, the access list (G7) and erasure."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.entities import Access, Page, Person
from chalicelib.domain.errors import Conflict, NotFound, Problem, VersionConflict
from chalicelib.domain.rules import normalise_email

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit
ERASURE_CHUNK = (MAX_TRANSACTION_ITEMS - 2) // 2  # each membership is two items: itself and its account


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

        A person in up to ERASURE_CHUNK accounts goes in one transaction. A larger erasure
        first strips the personal data and writes an erasure marker in one transaction, then
        removes the memberships chunk by chunk; housekeeping finishes one a crash cut short."""
        people = self._repos.people
        person = people.get(tenant_id, person_id)
        if person is None or not person.email:
            if person is None and not people.erasure_pending(tenant_id, person_id):
                raise NotFound("Person")
            return self.finish_erasure(tenant_id, person_id)
        _, memberships, more = people.person_page(tenant_id, person_id, ERASURE_CHUNK, None)
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
