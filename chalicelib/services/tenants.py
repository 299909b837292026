"""Tenants (T1): created by the platform operator, read and changed with the tenant's key."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain import senders
from chalicelib.domain.entities import Tenant
from chalicelib.domain.errors import NotFound, Problem, RuleViolation, VersionConflict, retry_on_contention
from chalicelib.domain.ids import new_id
from chalicelib.domain.senders import ADDRESS, DOMAIN
from chalicelib.services.api_keys import issue_key

ATTEMPTS = 5


class TenantService:
    def __init__(self, repositories, clock, identities=None, mail_domain: str = ""):
        self._repos = repositories
        self._clock = clock
        self._identities = identities
        self._mail_domain = mail_domain

    def create(self, name: str, description: str | None, default_language: str) -> tuple[Tenant, str]:
        """Creates the tenant and its first API key in one transaction; returns the key's secret once."""
        now = self._clock.now_iso()
        tenant = Tenant(tenant_id=new_id("tenant"), name=name, description=description,
                        default_language=default_language, created_at=now, updated_at=now, version=1)
        key, token, secret_hash = issue_key(tenant.tenant_id, "initial", "platform", now)
        tx = self._repos.transaction()
        self._repos.tenants.add(tx, tenant)
        self._repos.api_keys.add(tx, key, secret_hash)
        tx.commit()
        return tenant, token

    def get(self, tenant_id: str) -> Tenant:
        tenant = self._repos.tenants.get(tenant_id)
        if tenant is None:
            raise NotFound("Tenant")
        return tenant

    def update(self, tenant_id: str, changes: dict, expected_version: int | None) -> Tenant:
        """Changes the tenant's fields and settings in one conditional write; a new sender address
        must be verified again, and may not be one another tenant claimed: then one read and one
        transaction with those checks, the answer being what was written."""
        if changes.get("branding") is not None:
            changes = {**changes, "branding": {k: v for k, v in changes["branding"].items() if v is not None}}
        if not changes.get("sender"):
            return self._repos.tenants.update(tenant_id, changes, expected_version, self._clock.now_iso())
        changes = {**changes, "sender": {k: v for k, v in {**changes["sender"], "verified": False}.items()
                                         if v is not None}}
        free = self._free_for(tenant_id, changes["sender"]["address"])
        return retry_on_contention(ATTEMPTS, lambda: self._update_checked(tenant_id, changes, expected_version, free))

    def _update_checked(self, tenant_id: str, changes: dict, expected_version: int | None, free) -> Tenant:
        before = self.get(tenant_id)
        if expected_version is not None and before.version != expected_version:
            raise VersionConflict("Tenant")
        now = self._clock.now_iso()
        tx = self._repos.transaction()
        self._repos.tenants.change(tx, before, changes, now)
        free(tx)
        tx.commit()
        empty = {"branding": {}, "sender": {}, "welcome_mail": {}}
        values = {name: value if value not in (None, {}) else empty.get(name) for name, value in changes.items()}
        return replace(before, **values, updated_at=now, version=before.version + 1)

    def verify_sender(self, tenant_id: str, kind: str = ADDRESS) -> dict:
        """Claims the sender address (or its domain) for the tenant, then asks SES to verify it.
        The first tenant to claim an identity keeps it: another tenant's claim is a 409."""
        return retry_on_contention(ATTEMPTS, lambda: self._verify_sender(tenant_id, kind))

    def _verify_sender(self, tenant_id: str, kind: str) -> dict:
        tenant = self.get(tenant_id)
        address = tenant.sender.get("address")
        if not address:
            raise RuleViolation("Set a sender address first (PATCH /tenant {sender: {address}}).",
                                [Problem("sender.address", "is not set")], "no_sender")
        names = senders.claim_names(address)
        free = self._free_for(tenant_id, address, but=kind)
        # a domain's DKIM tokens before the claim, so that the claim's transaction records them:
        # asking SES for them sends no mail (an address is asked only once it is claimed)
        tokens = self._identities.request_domain_verification(names[DOMAIN]) if kind == DOMAIN else None
        tx = self._repos.transaction()
        free(tx)
        self._repos.sender_identities.claim(tx, tenant_id, names[kind], kind, self._clock.now_iso())
        self._repos.tenants.record_claim(tx, tenant, address, names[kind], tokens)
        tx.commit()
        if kind == ADDRESS:
            self._identities.request_verification(address)
        records = senders.dkim_records(names[DOMAIN], tokens) if tokens else []
        return {**tenant.sender, "verification_status": "Pending", "identity": names[kind], "dkim_records": records}

    def sender_status(self, tenant_id: str) -> dict:
        """Reads from SES the status of the identities the tenant claimed for its sender address
        (never another tenant's) and remembers whether mail may use the address."""
        tenant = self.get(tenant_id)
        address = tenant.sender.get("address")
        if not address:
            return {"address": None, "reply_to": None, "verified": False, "verification_status": "NotStarted",
                    "identity": None, "dkim_records": []}
        names = senders.claim_names(address)
        owned = owned_identities(tenant, address)
        statuses = {kind: (self._identities.address_status(address) if kind == ADDRESS
                           else self._identities.domain_status(names[DOMAIN])) for kind in owned}
        chosen = next((kind for kind in owned if statuses[kind] == "Success"), next(iter(owned), None))
        verified = chosen is not None and statuses[chosen] == "Success"
        if verified != bool(tenant.sender.get("verified")):
            self._repos.tenants.remember_verified(tenant_id, address, verified, self._clock.now_iso())
        dkim = tenant.sender_dkim.get(names[DOMAIN]) if DOMAIN in owned else None
        return {**tenant.sender, "verified": verified, "verification_status": statuses.get(chosen, "NotStarted"),
                "identity": names[chosen] if chosen else None,
                "dkim_records": senders.dkim_records(names[DOMAIN], dkim) if dkim else []}

    def _free_for(self, tenant_id: str, address: str, but: str | None = None):
        """What a transaction needs to check before the tenant may use `address`: that the
        platform does not own its domain and no other tenant claimed the address or its domain."""
        if senders.is_platform_address(address, self._mail_domain):
            raise senders.taken_by_platform()
        names = senders.claim_names(address)

        def check(tx) -> None:
            for kind, name in names.items():
                if kind != but:
                    self._repos.sender_identities.check_free(tx, tenant_id, name)
        return check


def owned_identities(tenant, address: str) -> list[str]:
    """The kinds (address first, then domain) of the identities covering `address` that the
    tenant claimed, from its own record of its claims."""
    return [kind for kind, name in senders.claim_names(address).items() if name in tenant.sender_claims]


def may_send_from(tenant) -> bool:
    """Whether mail may go out from the tenant's own sender address: SES verified it (as the
    tenant last read) and the tenant claimed the address or its domain. Another tenant that set
    the same address never sends from it."""
    sender = (tenant.sender if tenant else None) or {}
    if not (sender.get("address") and sender.get("verified")):
        return False
    return bool(owned_identities(tenant, sender["address"]))
