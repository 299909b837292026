"""Authentication: turns the bearer credential into a Principal (the only source of a tenant)."""
from __future__ import annotations

import hashlib
import hmac
import re

from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.principal import Principal

API_KEY_PATTERN = re.compile(r"rk_([a-z2-7]{16})_([0-9a-f]{64})")


def hash_secret(secret: str) -> str:
    """The secret carries 256 random bits, so a plain SHA-256 is enough (no stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Authenticator:
    def __init__(self, platform_key_source, api_keys):
        self._platform_key = platform_key_source
        self._api_keys = api_keys

    def authenticate(self, authorization: str | None, needs: str) -> Principal:
        """Verifies the credential and that it is of the kind the route needs ('platform' or 'tenant')."""
        token = _bearer(authorization)
        principal = self._api_key(token) if token.startswith("rk_") else self._platform(token)
        if needs == "platform" and principal.kind != "platform":
            raise Forbidden("This call needs the platform key.")
        if needs == "tenant" and principal.kind != "api_key":
            raise Forbidden("This call needs a tenant API key.")
        return principal

    def _api_key(self, token: str) -> Principal:
        match = API_KEY_PATTERN.fullmatch(token)
        if not match:
            raise Unauthenticated()
        key_id = f"key_{match.group(1)}"
        stored = self._api_keys.secret_hash(key_id)
        if stored is None or not hmac.compare_digest(stored[1], hash_secret(match.group(2))):
            raise Unauthenticated()
        return Principal("api_key", tenant_id=stored[0], key_id=key_id)

    def _platform(self, token: str) -> Principal:
        expected = self._platform_key.current()
        if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
            raise Unauthenticated()
        return Principal("platform")


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("Send 'Authorization: Bearer <key>'.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send 'Authorization: Bearer <key>'.")
    return token.strip()
