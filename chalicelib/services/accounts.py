"""Customer accounts (C1, C4, C5, N4): drafts, onboarding, changes, lists, deletion."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.domain.accounts import Account, Address
from chalicelib.domain.errors import Conflict, NotFound, Problem, RuleViolation, VersionConflict, retry_on_contention
from chalicelib.domain.ids import new_id
from chalicelib.domain.rules import NOT_YET_MEMBERS, onboarding_gaps

if TYPE_CHECKING:
    from chalicelib.domain.entities import Page

ADDRESS_PARTS = ("street", "postal_code", "city", "country")
ATTEMPTS = 5
MEMBERS_A_STEP = 98  # the last deletion step's transaction: these memberships, the account, the audit entry


class AccountService:
    def __init__(self, repositories, clock):
        self._repos = repositories
        self._clock = clock

    def create(self, tenant_id: str, fields: dict, actor: dict | None = None) -> Account:
        """Creates a draft; it may be incomplete until onboarding is completed."""
        now = self._clock.now_iso()
        account = Account(
            tenant_id=tenant_id, account_id=new_id("account"), name=fields.get("name"),
            address=_address(fields.get("address")), business_type=fields.get("business_type"),
            language=fields.get("language"), email_domains=fields.get("email_domains", []), status="draft",
            created_at=now, updated_at=now, version=1, customer_person_id=None, technical_contact_id=None,
            administrative_contact_id=None, caretaker_count=0, on_site_admin_count=0, member_count=0,
        )
        if actor is None:
            self._repos.accounts.create(account)
            return account
        tx = self._repos.transaction()  # the account and its audit entry: one TransactWriteItems
        self._repos.accounts.add(tx, account)
        self._repos.audit.add(tx, tenant_id, account.account_id, actor, "account.created", now, changed=fields.keys())
        tx.commit()
        return account

    def get(self, tenant_id: str, account_id: str) -> Account:
        account = self._repos.accounts.get(tenant_id, account_id)
        if account is None:
            raise NotFound("Account")
        return account

    def list(self, tenant_id: str, status: str | None, warning: str | None, limit: int, cursor: str | None) -> Page[Account]:
        return self._repos.accounts.list(tenant_id, status, warning, limit, cursor)

    def update(self, tenant_id: str, account_id: str, changes: dict, expected_version: int | None,
               actor: dict | None = None) -> Account:
        """Changes the account's own fields: one read, one transaction with the audit entry,
        conditional on the version read (a concurrent change makes it read again).

        An active or inactive account must stay complete (name, full address, business type);
        status moves only between active and inactive here (a draft becomes active through
        onboarding/complete).
        """
        return retry_on_contention(ATTEMPTS, lambda: self._update(tenant_id, account_id, changes, expected_version,
                                                                   actor))

    def _update(self, tenant_id, account_id, changes, expected_version, actor) -> Account:
        before = self._current(tenant_id, account_id, expected_version)
        if "status" in changes and before.status == "draft":
            raise RuleViolation("A draft becomes active through POST …/onboarding/complete.",
                                [Problem("status", "cannot be set on a draft")], "account_is_draft")
        if before.status != "draft":
            gaps = []
            for name, value in changes.items():
                if name == "address" and (value is None or any(value.get(part) is None for part in ADDRESS_PARTS)):
                    gaps.append(Problem("address", "must be complete once the account is onboarded"))
                elif value is None and name in ("name", "business_type"):
                    gaps.append(Problem(name, "is required once the account is onboarded"))
            if gaps:
                raise RuleViolation("The account is onboarded: these fields must stay filled.", gaps,
                                    "incomplete_account")
        return self._write(before, changes, actor, "account.updated")

    def complete_onboarding(self, tenant_id: str, account_id: str, actor: dict | None = None) -> Account:
        """draft → active, only with name, full address, business type, ≥ 1 caretaker and ≥ 1 on-site admin (C4)."""
        return retry_on_contention(ATTEMPTS, lambda: self._complete_onboarding(tenant_id, account_id, actor))

    def _complete_onboarding(self, tenant_id, account_id, actor) -> Account:
        before = self.get(tenant_id, account_id)
        if before.status != "draft":
            raise Conflict(f"The account is {before.status}, not a draft.", "not_draft")
        gaps = onboarding_gaps(before)
        if gaps:
            raise RuleViolation("The account is not ready to be onboarded.", gaps, "onboarding_incomplete")
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        self._repos.accounts.activate(tx, before, now)
        self._repos.audit.add(tx, tenant_id, account_id, actor, "account.onboarded", now, changed=["status"])
        tx.commit()
        return replace(before, status="active", updated_at=now, version=before.version + 1)

    def _current(self, tenant_id: str, account_id: str, expected_version: int | None) -> Account:
        account = self.get(tenant_id, account_id)
        if expected_version is not None and account.version != expected_version:
            raise VersionConflict("Account")
        return account

    def _write(self, before: Account, changes: dict, actor, action: str) -> Account:
        """The change and its audit entry in one transaction; the answer is what was written."""
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        self._repos.accounts.change(tx, before, changes, now)
        self._repos.audit.add(tx, before.tenant_id, before.account_id, actor, action, now, changed=changes.keys())
        tx.commit()
        values = {**changes, "address": _address(changes["address"])} if "address" in changes else dict(changes)
        if "email_domains" in values:
            values["email_domains"] = list(values["email_domains"] or [])
        return replace(before, **values, updated_at=now, version=before.version + 1)

    def delete(self, tenant_id: str, account_id: str, actor: dict | None = None) -> None:
        """Deletes a draft (discarding it, C5) or an inactive account, with all its memberships.

        Each step is one Query (the account and up to MEMBERS_A_STEP memberships) and one
        transaction: memberships go, each step lowering the account's member count; the account
        itself goes last, only if no membership was added meanwhile and it is still not active.
        An active account must be deactivated first (409).
        """
        accounts = self._repos.accounts
        while True:
            # one more than a step takes tells whether this step is the last
            account, members = accounts.with_members(tenant_id, account_id, MEMBERS_A_STEP + 1)
            if account is None:
                raise NotFound("Account")
            if account.status == "active":
                raise Conflict("Deactivate the account (PATCH status=inactive) before deleting it.", "account_active")
            # an invitation's pending/invited/declined membership is not in member_count
            counted = sum(1 for m in members if m.status not in NOT_YET_MEMBERS)
            tx = self._repos.transaction()
            for member in members:
                self._repos.memberships.delete(tx, member, exact=False)
            if len(members) <= MEMBERS_A_STEP:
                accounts.delete(tx, tenant_id, account_id, counted)
                self._repos.audit.add(tx, tenant_id, account_id, actor, "account.deleted", self._clock.now_iso())
                tx.commit()
                return
            accounts.lower_member_count(tx, tenant_id, account_id, counted)
            tx.commit()


def _address(address: dict | None) -> Address:
    address = address or {}
    return Address(**{part: address.get(part) for part in ADDRESS_PARTS})
