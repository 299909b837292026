"""Customer accounts (C1, C4, C5, N4): drafts, onboarding, changes, lists, deletion."""
from __future__ import annotations

from chalicelib.domain.entities import Account, Address, Page
from chalicelib.domain.errors import Conflict, NotFound, Problem, RuleViolation
from chalicelib.domain.ids import new_id
from chalicelib.domain.rules import onboarding_gaps
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem
from chalicelib.repositories.accounts import address_attribute, to_account
from chalicelib.repositories.database import MAX_TRANSACTION_ITEMS, update_item, update_item_audited

ADDRESS_PARTS = ("street", "postal_code", "city", "country")


class AccountService:
    def __init__(self, database, clock):
        self._db = database
        self._clock = clock

    def create(self, tenant_id: str, fields: dict, actor: dict | None = None) -> Account:
        """Creates a draft; it may be incomplete until onboarding is completed."""
        now = self._clock.now_iso()
        address = fields.get("address") or {}
        account = Account(
            tenant_id=tenant_id, account_id=new_id("account"), name=fields.get("name"),
            address=Address(**{part: address.get(part) for part in ADDRESS_PARTS}),
            business_type=fields.get("business_type"), language=fields.get("language"),
            email_domains=fields.get("email_domains", []), status="draft", created_at=now, updated_at=now,
            version=1, customer_person_id=None, technical_contact_id=None, administrative_contact_id=None,
            caretaker_count=0, on_site_admin_count=0, member_count=0,
        )
        if actor is None:
            self._db.accounts.create(account)
            return account
        tx = self._db.transaction()  # the account and its audit entry: one TransactWriteItems
        tx.put(self._db.accounts.new_item(account), condition=AccountItem.pk.does_not_exist())
        self._db.audit(tx, tenant_id, account.account_id, actor, "account.created", now, changed=fields.keys())
        tx.commit()
        return account

    def get(self, tenant_id: str, account_id: str) -> Account:
        account = self._db.accounts.get(tenant_id, account_id)
        if account is None:
            raise NotFound("Account")
        return account

    def list(self, tenant_id: str, status: str | None, warning: str | None, limit: int, cursor: str | None) -> Page[Account]:
        return self._db.accounts.list(tenant_id, status, warning, limit, cursor)

    def update(self, tenant_id: str, account_id: str, changes: dict, expected_version: int | None,
               actor: dict | None = None) -> Account:
        """Changes the account's own fields in one conditional write.

        An active or inactive account must stay complete (name, full address, business type);
        status moves only between active and inactive here (a draft becomes active through
        onboarding/complete).
        """
        actions, condition, must_be_draft = [], None, []
        for name, value in changes.items():
            attribute = getattr(AccountItem, name)
            if name == "address":
                value = address_attribute(value)
                if value is None or any(getattr(value, part, None) is None for part in ADDRESS_PARTS):
                    must_be_draft.append(Problem("address", "must be complete once the account is onboarded"))
            elif value is None and name in ("name", "business_type"):
                must_be_draft.append(Problem(name, "is required once the account is onboarded"))
            actions.append(attribute.remove() if value is None else attribute.set(value))
        if "status" in changes:
            actions.append(AccountItem.status_pk.set(keys.accounts_by_status(tenant_id, changes["status"])))
            condition = AccountItem.status.is_in("active", "inactive")
        if must_be_draft:
            draft_only = AccountItem.status == "draft"
            condition = draft_only if condition is None else condition & draft_only

        def explain(current: AccountItem):
            if "status" in changes and current.status == "draft":
                return RuleViolation("A draft becomes active through POST …/onboarding/complete.",
                                     [Problem("status", "cannot be set on a draft")], "account_is_draft")
            return RuleViolation("The account is onboarded: these fields must stay filled.", must_be_draft, "incomplete_account")

        return to_account(self._write(tenant_id, account_id, actions, actor, "account.updated", changes.keys(),
                                      expected_version=expected_version, condition=condition, explain=explain))

    def _write(self, tenant_id, account_id, actions, actor, action, changed, **options) -> AccountItem:
        """One conditional UpdateItem; with an actor, a transaction with the audit entry (+ a read back)."""
        now, key = self._clock.now_iso(), self._db.accounts.key(tenant_id, account_id)
        audit = self._db.audit_item(tenant_id, account_id, actor, action, now, changed=changed)
        if audit is None:
            return update_item(AccountItem, *key, actions, now=now, what="Account", **options)
        return update_item_audited(self._db, AccountItem, *key, actions, audit_item=audit, now=now, what="Account",
                                   **options)

    def complete_onboarding(self, tenant_id: str, account_id: str, actor: dict | None = None) -> Account:
        """draft → active, only with name, full address, business type, ≥ 1 caretaker and ≥ 1 on-site admin (C4)."""
        condition = (AccountItem.status == "draft") & AccountItem.name.exists() & AccountItem.business_type.exists()
        for part in ADDRESS_PARTS:
            condition &= getattr(AccountItem.address, part).exists()
        condition &= (AccountItem.caretaker_count >= 1) & (AccountItem.on_site_admin_count >= 1)

        def explain(current: AccountItem):
            account = to_account(current)
            if account.status != "draft":
                return Conflict(f"The account is {account.status}, not a draft.", "not_draft")
            return RuleViolation("The account is not ready to be onboarded.", onboarding_gaps(account), "onboarding_incomplete")

        actions = [AccountItem.status.set("active"),
                   AccountItem.status_pk.set(keys.accounts_by_status(tenant_id, "active"))]
        return to_account(self._write(tenant_id, account_id, actions, actor, "account.onboarded", ["status"],
                                      condition=condition, explain=explain))

    def delete(self, tenant_id: str, account_id: str, actor: dict | None = None) -> None:
        """Deletes a draft (discarding it, C5) or an inactive account, with all its memberships.

        Memberships go in transactions of up to 99, each also lowering the account's member
        count; the account itself goes last, only if no membership was added meanwhile.
        An active account must be deactivated first (409).
        """
        account = self.get(tenant_id, account_id)
        if account.status == "active":
            raise Conflict("Deactivate the account (PATCH status=inactive) before deleting it.", "account_active")
        chunk = MAX_TRANSACTION_ITEMS - 1
        while True:
            members = self._db.accounts.memberships_of(tenant_id, account_id, limit=chunk)
            # an invitation's pending/invited/declined membership is not in member_count
            counted = sum(1 for m in members if m.status not in ("pending", "invited", "declined"))
            tx = self._db.transaction()
            for member in members:
                tx.delete(member)
            ref = self._db.accounts.item_ref(tenant_id, account_id)
            if len(members) < chunk:
                tx.delete(ref, condition=(AccountItem.member_count == counted) & (AccountItem.status != "active"),
                          error=None)
                self._db.audit(tx, tenant_id, account_id, actor, "account.deleted", self._clock.now_iso())
                tx.commit()
                return
            tx.update(ref, [AccountItem.member_count.add(-counted)], condition=AccountItem.pk.exists())
            tx.commit()
