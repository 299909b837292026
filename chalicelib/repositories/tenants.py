"""Tenants and their first API key."""
from __future__ import annotations

from chalicelib.domain.entities import Tenant
from chalicelib.models import keys
from chalicelib.models.base import plain
from chalicelib.models.entities import TenantItem
from chalicelib.repositories.database import Contention, get_item, update_item, update_item_with


def to_tenant(item: TenantItem) -> Tenant:
    return Tenant(item.tenant_id, item.name, item.description, item.default_language,
                  item.created_at, item.updated_at, int(item.version), plain(item.branding),
                  plain(item.sender), plain(item.welcome_mail), item.staff_email)


class TenantRepository:
    def __init__(self, database):
        self._db = database

    def new_item(self, tenant: Tenant) -> TenantItem:
        return TenantItem(keys.tenant(tenant.tenant_id), keys.TENANT_SK, tenant_id=tenant.tenant_id,
                          name=tenant.name, description=tenant.description,
                          default_language=tenant.default_language, created_at=tenant.created_at,
                          updated_at=tenant.updated_at, version=1)

    def get(self, tenant_id: str) -> Tenant | None:
        item = get_item(TenantItem, keys.tenant(tenant_id), keys.TENANT_SK)
        return to_tenant(item) if item else None

    def update(self, tenant_id: str, changes: dict, expected_version: int | None, now: str,
               also=None) -> Tenant:
        """One UpdateItem; with `also` (conditions on other items) one TransactWriteItems."""
        actions = [getattr(TenantItem, name).set(value) if value not in (None, {}) else getattr(TenantItem, name).remove()
                   for name, value in changes.items()]
        key = keys.tenant(tenant_id), keys.TENANT_SK
        if also is None:
            item = update_item(TenantItem, *key, actions, now=now, what="Tenant", expected_version=expected_version)
        else:
            item = update_item_with(self._db, TenantItem, *key, actions, also=also, now=now,
                                    what="Tenant", expected_version=expected_version)
        return to_tenant(item)

    def remember_verified(self, tenant_id: str, address: str, verified: bool, now: str) -> None:
        """Sets `sender.verified`, unless the sender address changed meanwhile (then the new
        address's status is for its own next read)."""
        try:
            update_item(TenantItem, keys.tenant(tenant_id), keys.TENANT_SK,
                        [TenantItem.sender["verified"].set(verified)], now=now, what="Tenant",
                        condition=TenantItem.sender["address"] == address)
        except Contention:
            pass
