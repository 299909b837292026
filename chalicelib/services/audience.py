"""Who a notice reaches (N3, N4): the people of the affected active accounts whose
active membership selects the notice's type, plus the designated contacts the type reaches
whatever their selections; one recipient per person, naming every affected account they act for.

Reads page by page: the active accounts (by_status) and the tenant's active memberships (by_list)
for a notice to all accounts, BatchGetItem and one Query per account partition for named ones,
then BatchGetItem (100 a request) for the people. Never a whole-table read."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from chalicelib.domain.notices import AudienceMember, Coverage, designated_roles
from chalicelib.mail.catalog import pick_language
from chalicelib.repositories.notice_delivery import ACTIVE, AudienceReads

SLOT_OF = {"technical": "technical_contact_id", "administrative": "administrative_contact_id"}


PEOPLE_A_READ = 100  # BatchGetItem's limit
READS_IN_FLIGHT = 4  # BatchGetItems of people under way at once: the fan-out waits on I/O, not CPU


@dataclass(frozen=True)
class AudiencePlan:
    """What the memberships say: the active affected accounts, every affected account id, and
    per person the affected accounts they receive for. No person has been read yet."""

    tenant_id: str
    accounts: dict
    affected_ids: list
    acts_for: dict

    @property
    def account_names(self) -> dict:
        return {account_id: item.name for account_id, item in self.accounts.items() if item.name}


class Audience:
    def __init__(self, database):
        self._db = database
        self._reads = AudienceReads()

    def compute(self, tenant_id: str, notice_type: str, affected: dict) -> tuple[list[AudienceMember], Coverage]:
        """The recipients sorted by person id, and the coverage of the affected accounts."""
        plan = self.plan(tenant_id, notice_type, affected)
        members = [member for chunk in self.members(plan) for member in chunk]
        return members, self.coverage(plan, members)

    def plan(self, tenant_id: str, notice_type: str, affected: dict) -> AudiencePlan:
        """Reads the affected accounts and their memberships (page by page) into a plan."""
        accounts, memberships, affected_ids = self._affected(tenant_id, affected)
        roles = designated_roles(notice_type)
        acts_for: dict[str, set[str]] = {}
        for membership in memberships:
            account = accounts.get(membership.account_id)
            if account is None or membership.status != ACTIVE or membership.undeliverable:
                continue
            designated = any(getattr(account, SLOT_OF[role]) == membership.person_id for role in roles)
            if designated or notice_type in (membership.notifications or ()):
                acts_for.setdefault(membership.person_id, set()).add(membership.account_id)
        return AudiencePlan(tenant_id, accounts, affected_ids, acts_for)

    def members(self, plan: AudiencePlan) -> Iterator[list[AudienceMember]]:
        """The plan's recipients, read 100 people at a time in person id order: one sorted list
        a read (erased and undeliverable people left out), so a caller can work while it reads.
        Up to READS_IN_FLIGHT reads run at once, a few reads ahead of the caller."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        tenant = self._db.tenants.get(plan.tenant_id)
        default_language = tenant.default_language if tenant else None
        person_ids = sorted(plan.acts_for)
        chunks = [person_ids[start:start + PEOPLE_A_READ] for start in range(0, len(person_ids), PEOPLE_A_READ)]
        if len(chunks) < 2:
            yield from (self._members(plan, self._reads.people(plan.tenant_id, c), default_language) for c in chunks)
            return
        # the reading threads carry the caller's name (the local stack attributes AWS calls by it)
        with ThreadPoolExecutor(READS_IN_FLIGHT, thread_name_prefix=threading.current_thread().name) as pool:
            pending = [pool.submit(self._reads.people, plan.tenant_id, c) for c in chunks[:READS_IN_FLIGHT]]
            for index in range(len(chunks)):
                people = pending[index].result()
                if index + READS_IN_FLIGHT < len(chunks):
                    pending.append(pool.submit(self._reads.people, plan.tenant_id, chunks[index + READS_IN_FLIGHT]))
                yield self._members(plan, people, default_language)

    @staticmethod
    def _members(plan: AudiencePlan, people, default_language: str | None) -> list[AudienceMember]:
        chunk = []
        for person in people:
            if person.undeliverable:
                continue
            account_ids = tuple(sorted(plan.acts_for[person.person_id]))
            account_language = next((plan.accounts[a].language for a in account_ids if plan.accounts[a].language), None)
            name = " ".join(part for part in (person.first_name, person.last_name) if part)
            chunk.append(AudienceMember(person.person_id, person.email, name,
                                        pick_language(person.language, account_language, default_language), account_ids))
        return sorted(chunk, key=lambda m: m.person_id)

    @staticmethod
    def coverage(plan: AudiencePlan, members: list[AudienceMember]) -> Coverage:
        """The coverage once every recipient has been read."""
        reached = {account_id for m in members for account_id in m.account_ids}
        return Coverage(len(plan.affected_ids), len(members), tuple(a for a in plan.affected_ids if a not in reached),
                        dict(sorted(Counter(m.language for m in members).items())),
                        {a: plan.accounts[a].name for a in reached if plan.accounts[a].name})

    def _affected(self, tenant_id: str, affected: dict):
        """(active affected accounts by id, their memberships, every affected account id sorted).

        Named accounts that are missing or not active count as affected (and unreached)."""
        if affected.get("all"):
            accounts = {item.account_id: item for item in self._reads.active_accounts(tenant_id)}
            return accounts, self._reads.active_memberships(tenant_id), sorted(accounts)
        named = sorted(set(affected.get("account_ids") or ()))
        accounts = {item.account_id: item for item in self._reads.accounts(tenant_id, named) if item.status == ACTIVE}

        def memberships():
            for account_id in sorted(accounts):
                yield from self._reads.active_memberships_of(tenant_id, account_id)

        return accounts, memberships(), named
