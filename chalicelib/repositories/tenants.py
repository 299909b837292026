"""Tenants."""
from __future__ import annotations

from chalicelib.domain.entities import Tenant
from chalicelib.domain.errors import Contention
from chalicelib.models import keys
from chalicelib.models.entities import TenantItem
from chalicelib.repositories.items import get_item, plain, set_or_remove, update_item, update_versioned


def to_tenant(item: TenantItem) -> Tenant:
    return Tenant(tenant_id=item.tenant_id, name=item.name, description=item.description,
                  default_language=item.default_language, created_at=item.created_at,
                  updated_at=item.updated_at, version=int(item.version), branding=plain(item.branding),
                  sender=plain(item.sender), welcome_mail=plain(item.welcome_mail), staff_email=item.staff_email,
                  sender_claims=tuple(sorted(item.sender_claims or ())), sender_dkim=plain(item.sender_dkim))


def _key(tenant_id: str) -> tuple[str, str]:
    return keys.tenant(tenant_id), keys.TENANT_SK


def with_tenant(tenant_id: str, key_pairs: list[tuple[str, str]], fields: list[str] | None = None,
                consistent_read: bool = False) -> tuple[dict | None, list[dict]]:
    """The tenant's raw item and the raw items of `key_pairs` (any kind, in the one table), read
    together: one BatchGetItem per 100 keys. Missing items are left out."""
    from chalicelib.repositories.rows import batch_get_raw

    tenant, others = None, []
    for raw in batch_get_raw(TenantItem, [_key(tenant_id), *key_pairs], fields, consistent_read=consistent_read):
        if raw["pk"]["S"] == keys.tenant(tenant_id) and raw["sk"]["S"] == keys.TENANT_SK:
            tenant = raw
        else:
            others.append(raw)
    return tenant, others


class TenantRepository:
    def new_item(self, tenant: Tenant) -> TenantItem:
        return TenantItem(*_key(tenant.tenant_id), tenant_id=tenant.tenant_id, name=tenant.name,
                          description=tenant.description, default_language=tenant.default_language,
                          created_at=tenant.created_at, updated_at=tenant.updated_at, version=1)

    def add(self, tx, tenant: Tenant) -> None:
        tx.put(self.new_item(tenant), condition=TenantItem.pk.does_not_exist())

    def get(self, tenant_id: str) -> Tenant | None:
        item = get_item(TenantItem, *_key(tenant_id))
        return to_tenant(item) if item else None

    def default_language_and_accounts(self, tenant_id: str, account_ids: list[str]) -> tuple[str | None, set[str]]:
        """The tenant's default language (None: no such tenant) and which of `account_ids` are
        its accounts, read together: one BatchGetItem per 100 keys."""
        account_keys = [(keys.account(tenant_id, aid), keys.ACCOUNT_SK) for aid in account_ids]
        tenant, accounts = with_tenant(tenant_id, account_keys, fields=["pk", "sk", "default_language", "account_id"])
        return (tenant["default_language"]["S"] if tenant else None), {raw["account_id"]["S"] for raw in accounts}

    def update(self, tenant_id: str, changes: dict, expected_version: int | None, now: str) -> Tenant:
        """One conditional UpdateItem; an empty value removes the field."""
        actions = [set_or_remove(getattr(TenantItem, name), value) for name, value in changes.items()]
        return to_tenant(update_item(TenantItem, *_key(tenant_id), actions, now=now, what="Tenant",
                                     expected_version=expected_version))

    def change(self, tx, before: Tenant, changes: dict, now: str) -> None:
        """`update` inside `tx`, if the tenant is still the version read."""
        actions = [set_or_remove(getattr(TenantItem, name), value) for name, value in changes.items()]
        update_versioned(tx, TenantItem(*_key(before.tenant_id)), actions, version=before.version, now=now)

    def record_claim(self, tx, tenant: Tenant, address: str, name: str, dkim_tokens: list[str] | None) -> None:
        """Puts into `tx`, beside the claim itself, the tenant's own record of it (and a domain's
        DKIM tokens), if the sender address is still `address`: claims are never released nor
        handed on, so this record answers "does the tenant hold it" without reading the claim."""
        actions = [TenantItem.sender_claims.add({name})]
        if dkim_tokens is not None:
            actions.append(TenantItem.sender_dkim.set({**tenant.sender_dkim, name: list(dkim_tokens)}))
        tx.update(TenantItem(*_key(tenant.tenant_id)), actions, condition=TenantItem.sender["address"] == address,
                  error=Contention())

    def remember_verified(self, tenant_id: str, address: str, verified: bool, now: str) -> None:
        """Sets `sender.verified`, unless the sender address changed meanwhile (then the new
        address's status is for its own next read)."""
        try:
            update_item(TenantItem, *_key(tenant_id), [TenantItem.sender["verified"].set(verified)], now=now,
                        what="Tenant", condition=TenantItem.sender["address"] == address)
        except Contention:
            pass
