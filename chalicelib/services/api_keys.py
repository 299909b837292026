"""Tenant API keys: issue (secret shown once), list, revoke."""
from __future__ import annotations

import secrets

from chalicelib.domain.entities import ApiKey, Page
from chalicelib.domain.ids import new_id
from chalicelib.services.auth import hash_secret


def issue_key(tenant_id: str, name: str | None, created_by: str, now: str) -> tuple[ApiKey, str, str]:
    """A new key: (key, full secret token, hash of the secret part)."""
    key_id = new_id("key")
    secret = secrets.token_hex(32)  # 256 bits
    token = f"rk_{key_id.removeprefix('key_')}_{secret}"
    return ApiKey(key_id, tenant_id, name, f"rk_{key_id.removeprefix('key_')}_…{secret[-4:]}", now, created_by), token, hash_secret(secret)


class ApiKeyService:
    def __init__(self, repositories, clock):
        self._repos = repositories
        self._clock = clock

    def create(self, tenant_id: str, name: str | None, created_by: str) -> tuple[ApiKey, str]:
        """Issues a key; the secret is returned here once and never again."""
        key, token, secret_hash = issue_key(tenant_id, name, created_by, self._clock.now_iso())
        self._repos.api_keys.create(key, secret_hash)
        return key, token

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        return self._repos.api_keys.list(tenant_id, limit, cursor)

    def revoke(self, tenant_id: str, key_id: str) -> None:
        """Deletes the key: the next request made with it answers 401."""
        self._repos.api_keys.delete(tenant_id, key_id)
