"""Tenants (T1): created by the platform operator, read and changed with the tenant's key."""
from __future__ import annotations

from chalicelib.domain.entities import Tenant
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import new_id
from chalicelib.models.entities import ApiKeyItem, TenantItem
from chalicelib.services.api_keys import issue_key


class TenantService:
    def __init__(self, database, clock):
        self._db = database
        self._clock = clock

    def create(self, name: str, description: str | None, default_language: str) -> tuple[Tenant, str]:
        """Creates the tenant and its first API key in one transaction; returns the key's secret once."""
        now = self._clock.now_iso()
        tenant = Tenant(new_id("tenant"), name, description, default_language, now, now, 1)
        key, token, secret_hash = issue_key(tenant.tenant_id, "initial", "platform", now)
        tx = self._db.transaction()
        tx.put(self._db.tenants.new_item(tenant), condition=TenantItem.pk.does_not_exist())
        tx.put(self._db.api_keys.new_item(key, secret_hash), condition=ApiKeyItem.pk.does_not_exist())
        tx.commit()
        return tenant, token

    def get(self, tenant_id: str) -> Tenant:
        tenant = self._db.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("Tenant")
        return tenant

    def update(self, tenant_id: str, changes: dict, expected_version: int | None) -> Tenant:
        return self._db.tenants.update(tenant_id, changes, expected_version, self._clock.now_iso())
