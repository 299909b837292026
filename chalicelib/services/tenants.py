"""Tenants (T1): created by the platform operator, read and changed with the tenant's key."""
from __future__ import annotations

from chalicelib.domain.entities import Tenant
from chalicelib.domain.errors import NotFound, Problem, RuleViolation
from chalicelib.domain.ids import new_id
from chalicelib.models.entities import ApiKeyItem, TenantItem
from chalicelib.services.api_keys import issue_key


class TenantService:
    def __init__(self, database, clock, identities=None):
        self._db = database
        self._clock = clock
        self._identities = identities

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
        """Changes the tenant's fields and settings; a new sender address must be verified again."""
        if changes.get("sender"):
            changes = {**changes, "sender": {k: v for k, v in {**changes["sender"], "verified": False}.items()
                                             if v is not None}}
        if changes.get("branding") is not None:
            changes = {**changes, "branding": {k: v for k, v in changes["branding"].items() if v is not None}}
        return self._db.tenants.update(tenant_id, changes, expected_version, self._clock.now_iso())

    def verify_sender(self, tenant_id: str) -> dict:
        tenant = self.get(tenant_id)
        address = tenant.sender.get("address")
        if not address:
            raise RuleViolation("Set a sender address first (PATCH /tenant {sender: {address}}).",
                                [Problem("sender.address", "is not set")], "no_sender")
        self._identities.request_verification(address)
        return {**tenant.sender, "verification_status": "Pending"}

    def sender_status(self, tenant_id: str) -> dict:
        """Reads the verification status from SES and remembers whether mail may use the address."""
        tenant = self.get(tenant_id)
        address = tenant.sender.get("address")
        if not address:
            return {"address": None, "reply_to": None, "verified": False, "verification_status": "NotStarted"}
        status = self._identities.status(address)
        verified = status == "Success"
        if verified != bool(tenant.sender.get("verified")):
            tenant = self._db.tenants.update(tenant_id, {"sender": {**tenant.sender, "verified": verified}},
                                             None, self._clock.now_iso())
        return {**tenant.sender, "verification_status": status}
