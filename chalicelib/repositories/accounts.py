"""Customer accounts, their list indexes and the warning indexes (N4)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.accounts import Account, Address
from chalicelib.models import keys
from chalicelib.models.accounts import AccountItem, Address as AddressAttribute
from chalicelib.repositories.items import get_item, query_page, set_or_remove, update_versioned

if TYPE_CHECKING:  # a read of one account defines no other domain value
    from chalicelib.domain.entities import Membership, Page, Tenant

SLOT_ATTRIBUTES = {"technical": "technical_contact_id", "administrative": "administrative_contact_id",
                   "customer": "customer_person_id"}
SLOT_FLAGS = {"technical": "has_technical", "administrative": "has_administrative"}
ADDRESS_PARTS = ("street", "postal_code", "city", "country")

WARNING_QUERIES = {
    "no_caretaker": ("warn_caretaker", "caretaker_count"),
    "no_on_site_admin": ("warn_on_site_admin", "on_site_admin_count"),
    "no_technical_contact": ("warn_technical", "has_technical"),
    "no_administrative_contact": ("warn_administrative", "has_administrative"),
}


def to_account(item: AccountItem) -> Account:
    address = item.address
    return Account(
        tenant_id=item.tenant_id, account_id=item.account_id, name=item.name,
        address=Address(address.street, address.postal_code, address.city, address.country) if address else Address(),
        business_type=item.business_type, language=item.language, email_domains=list(item.email_domains or []),
        status=item.status, created_at=item.created_at, updated_at=item.updated_at, version=int(item.version),
        customer_person_id=item.customer_person_id, technical_contact_id=item.technical_contact_id,
        administrative_contact_id=item.administrative_contact_id,
        caretaker_count=int(item.caretaker_count or 0), on_site_admin_count=int(item.on_site_admin_count or 0),
        member_count=int(item.member_count or 0),
    )


def address_attribute(address: dict | None) -> AddressAttribute | None:
    if address is None:
        return None
    return AddressAttribute(**{k: v for k, v in address.items() if v is not None})


class AccountRepository:
    def key(self, tenant_id: str, account_id: str) -> tuple[str, str]:
        return keys.account(tenant_id, account_id), keys.ACCOUNT_SK

    def _ref(self, tenant_id: str, account_id: str) -> AccountItem:
        return AccountItem(*self.key(tenant_id, account_id))

    def new_item(self, account: Account) -> AccountItem:
        tid, aid = account.tenant_id, account.account_id
        return AccountItem(
            *self.key(tid, aid), tenant_id=tid, account_id=aid, name=account.name,
            address=address_attribute(vars(account.address)), business_type=account.business_type,
            language=account.language, email_domains=account.email_domains, status=account.status,
            created_at=account.created_at, updated_at=account.updated_at, version=1,
            member_count=0, caretaker_count=0, on_site_admin_count=0, has_technical=0, has_administrative=0,
            list_pk=keys.accounts_list(tid), list_sk=keys.created(account.created_at, aid),
            status_pk=keys.accounts_by_status(tid, account.status), warn_pk=keys.tenant(tid),
        )

    # --- reads --------------------------------------------------------------------------
    def get(self, tenant_id: str, account_id: str) -> Account | None:
        item = get_item(AccountItem, *self.key(tenant_id, account_id))
        return to_account(item) if item else None

    def get_many(self, tenant_id: str, account_ids: list[str]) -> dict[str, Account]:
        if not account_ids:
            return {}
        found = AccountItem.batch_get([self.key(tenant_id, aid) for aid in dict.fromkeys(account_ids)])
        return {item.account_id: to_account(item) for item in found}

    def get_many_and_tenant(self, tenant_id: str, account_ids: list[str]) -> tuple[dict[str, Account], Tenant | None]:
        """The accounts and their tenant read together: one BatchGetItem per 100 keys."""
        from chalicelib.models.entities import TenantItem
        from chalicelib.repositories.tenants import to_tenant, with_tenant

        tenant, found = with_tenant(tenant_id, [self.key(tenant_id, aid) for aid in account_ids])
        accounts = [to_account(AccountItem.from_raw_data(raw)) for raw in found]
        return ({a.account_id: a for a in accounts},
                to_tenant(TenantItem.from_raw_data(tenant)) if tenant else None)

    def list(self, tenant_id: str, status: str | None, warning: str | None, limit: int, cursor: str | None) -> Page[Account]:
        from chalicelib.domain.entities import Page

        if warning:
            index_name, counter = WARNING_QUERIES[warning]
            index = getattr(AccountItem, index_name)
            status_filter = (AccountItem.status == status) if status else None
            items, next_cursor = query_page(index.query, "warn_pk", keys.tenant(tenant_id), limit, cursor,
                                            range_key_condition=getattr(AccountItem, counter) == 0,
                                            filter_condition=status_filter)
        elif status:
            items, next_cursor = query_page(AccountItem.by_status.query, "status_pk",
                                            keys.accounts_by_status(tenant_id, status), limit, cursor)
        else:
            items, next_cursor = query_page(AccountItem.by_list.query, "list_pk", keys.accounts_list(tenant_id), limit, cursor)
        return Page([to_account(item) for item in items], next_cursor)

    def with_members(self, tenant_id: str, account_id: str, limit: int) -> tuple[Account | None, list[Membership]]:
        """The account and up to `limit` of its memberships in one strongly consistent Query: the
        account item sorts before them ("ACCOUNT" < "M#")."""
        from chalicelib.models.entities import MembershipItem
        from chalicelib.repositories.connection import table_connection
        from chalicelib.repositories.memberships import to_membership

        answer = table_connection(AccountItem).query(
            keys.account(tenant_id, account_id), range_key_condition=AccountItem.sk >= keys.ACCOUNT_SK,
            consistent_read=True, limit=limit + 1)
        account, members = None, []
        for raw in answer.get("Items", ()):
            sk = raw["sk"]["S"]
            if sk == keys.ACCOUNT_SK:
                account = to_account(AccountItem.from_raw_data(raw))
            elif sk.startswith(keys.MEMBER_PREFIX):
                members.append(to_membership(MembershipItem.from_raw_data(raw)))
        return account, members

    # --- writes -------------------------------------------------------------------------
    def create(self, account: Account) -> None:
        self.new_item(account).save(condition=AccountItem.pk.does_not_exist())

    def add(self, tx, account: Account) -> None:
        tx.put(self.new_item(account), condition=AccountItem.pk.does_not_exist())

    def require(self, tx, tenant_id: str, account_id: str, error) -> None:
        """The account must exist when `tx` commits."""
        tx.check(AccountItem, *self.key(tenant_id, account_id), condition=AccountItem.pk.exists(), error=error)

    def change(self, tx, before: Account, changes: dict, now: str) -> None:
        """The account's own fields as changed, if it is still the version read. A new status
        moves the account in the status index."""
        actions = []
        for name, value in changes.items():
            if name == "address":
                value = address_attribute(value)
            actions.append(set_or_remove(getattr(AccountItem, name), value))
        if "status" in changes:
            actions.append(AccountItem.status_pk.set(keys.accounts_by_status(before.tenant_id, changes["status"])))
        update_versioned(tx, self._ref(before.tenant_id, before.account_id), actions, version=before.version, now=now)

    def activate(self, tx, before: Account, now: str) -> None:
        """draft → active, if the account is still the version read and, as its counters move
        without a new version, still has a caretaker and an on-site admin."""
        condition = (AccountItem.status == "draft") & AccountItem.name.exists() & AccountItem.business_type.exists()
        for part in ADDRESS_PARTS:
            condition &= getattr(AccountItem.address, part).exists()
        condition &= (AccountItem.caretaker_count >= 1) & (AccountItem.on_site_admin_count >= 1)
        actions = [AccountItem.status.set("active"),
                   AccountItem.status_pk.set(keys.accounts_by_status(before.tenant_id, "active"))]
        update_versioned(tx, self._ref(before.tenant_id, before.account_id), actions, version=before.version, now=now,
                         condition=condition)

    def delete(self, tx, tenant_id: str, account_id: str, member_count: int) -> None:
        """The account goes if it still has `member_count` members and is not active."""
        tx.delete(self._ref(tenant_id, account_id),
                  condition=(AccountItem.member_count == member_count) & (AccountItem.status != "active"))

    def lower_member_count(self, tx, tenant_id: str, account_id: str, by: int) -> None:
        tx.update(self._ref(tenant_id, account_id), [AccountItem.member_count.add(-by)],
                  condition=AccountItem.pk.exists())

    def apply_effects(self, tx, tenant_id: str, account_id: str, person_id: str, effects: dict, error=None) -> None:
        """Applies `rules.membership_effects` of one person's membership to the account: counters
        move, claimed slots must be free, released slots must be the person's."""
        actions = [getattr(AccountItem, counter).add(delta) for counter, delta in effects["counters"].items()]
        condition = AccountItem.pk.exists()
        for slot in effects["claim"]:
            attribute = getattr(AccountItem, SLOT_ATTRIBUTES[slot])
            actions.append(attribute.set(person_id))
            condition &= attribute.does_not_exist()
            if slot in SLOT_FLAGS:
                actions.append(getattr(AccountItem, SLOT_FLAGS[slot]).set(1))
        for slot in effects["release"]:
            attribute = getattr(AccountItem, SLOT_ATTRIBUTES[slot])
            actions.append(attribute.remove())
            condition &= attribute == person_id
            if slot in SLOT_FLAGS:
                actions.append(getattr(AccountItem, SLOT_FLAGS[slot]).set(0))
        tx.update(self._ref(tenant_id, account_id), actions or [AccountItem.member_count.add(0)], condition=condition,
                  error=error)

    def hand_over(self, tx, tenant_id: str, account_id: str, current: dict, wanted: dict, error) -> None:
        """Designated slots (technical, administrative) to new holders (None: vacant), if each is
        still held as read in `current`."""
        actions, condition = [], AccountItem.pk.exists()
        for slot, new_holder in wanted.items():
            old_holder = current[slot]
            if new_holder == old_holder:
                continue
            attribute = getattr(AccountItem, SLOT_ATTRIBUTES[slot])
            flag = getattr(AccountItem, SLOT_FLAGS[slot])
            condition &= (attribute == old_holder) if old_holder else attribute.does_not_exist()
            actions += [attribute.set(new_holder), flag.set(1)] if new_holder else [attribute.remove(), flag.set(0)]
        if actions:
            tx.update(self._ref(tenant_id, account_id), actions, condition=condition, error=error)
