"""Customer accounts, their list indexes and the warning indexes (N4)."""
from __future__ import annotations

from chalicelib.domain.entities import Account, Address, Page
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem, Address as AddressAttribute, MembershipItem
from chalicelib.repositories.database import get_item, query_page

SLOT_ATTRIBUTES = {"technical": "technical_contact_id", "administrative": "administrative_contact_id",
                   "customer": "customer_person_id"}
SLOT_FLAGS = {"technical": "has_technical", "administrative": "has_administrative"}

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

    def create(self, account: Account) -> None:
        self.new_item(account).save(condition=AccountItem.pk.does_not_exist())

    def get(self, tenant_id: str, account_id: str) -> Account | None:
        item = get_item(AccountItem, *self.key(tenant_id, account_id))
        return to_account(item) if item else None

    def get_many(self, tenant_id: str, account_ids: list[str]) -> dict[str, Account]:
        if not account_ids:
            return {}
        found = AccountItem.batch_get([self.key(tenant_id, aid) for aid in dict.fromkeys(account_ids)])
        return {item.account_id: to_account(item) for item in found}

    def list(self, tenant_id: str, status: str | None, warning: str | None, limit: int, cursor: str | None) -> Page[Account]:
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

    def item_ref(self, tenant_id: str, account_id: str) -> AccountItem:
        """A key-only item to name in a transaction."""
        return AccountItem(*self.key(tenant_id, account_id))

    def memberships_of(self, tenant_id: str, account_id: str, limit: int) -> list[MembershipItem]:
        return list(MembershipItem.query(keys.account(tenant_id, account_id),
                                         MembershipItem.sk.startswith(keys.MEMBER_PREFIX), limit=limit))

    def membership_effects(self, effects: dict, person_id: str) -> tuple[list, object]:
        """The update actions and condition that apply `rules.membership_effects` to the account item."""
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
        return actions, condition
