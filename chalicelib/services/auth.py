"""Authentication: turns the bearer credential into a Principal (the only source of a tenant).

Three credentials: the platform key, a tenant API key (`rk_…`), and a person's OIDC ID token
(a JWT, verified by `services/person_tokens.py`, which is imported with PyJWT only when a JWT
arrives: API-key requests don't pay for either at cold start).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Callable

from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.domain.principal import Principal

if TYPE_CHECKING:
    from chalicelib.services.person_tokens import PersonTokens

API_KEY_PATTERN = re.compile(r"rk_([a-z2-7]{16})_([0-9a-f]{64})")
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def hash_secret(secret: str) -> str:
    """The secret carries 256 random bits, so a plain SHA-256 is enough (no stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Authenticator:
    def __init__(self, platform_key_source, api_keys, person_tokens: Callable[[], PersonTokens | None] = lambda: None):
        self._platform_key = platform_key_source
        self._api_keys = api_keys
        self._person_tokens = person_tokens  # built on the first JWT only

    def authenticate(self, authorization: str | None, needs: str) -> Principal:
        """Verifies the credential and that it is of a kind the route takes: 'platform', 'tenant'
        (an API key, or a person token that the route's people policy then judges) or 'person'."""
        token = _bearer(authorization)
        if token.startswith("rk_"):
            principal = self._api_key(token)
        elif JWT_PATTERN.fullmatch(token):
            principal = self._person(token)
        else:
            principal = self._platform(token)
        if needs == "platform" and principal.kind != "platform":
            raise Forbidden("This call needs the platform key.")
        if needs == "tenant" and principal.kind not in ("api_key", "person"):
            raise Forbidden("This call needs a tenant API key.")
        if needs == "person" and principal.kind != "person":
            raise Forbidden("This call needs a person's sign-in token.")
        return principal

    def _person(self, token: str) -> Principal:
        tokens = self._person_tokens()
        if tokens is None:
            raise Unauthenticated("Person sign-in is not configured.")
        return tokens.principal(token)

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
