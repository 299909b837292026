"""Authentication: turns the bearer credential into a Principal (the only source of a tenant).

Three credentials: the platform key, a tenant API key (`rk_…`), and a person's OIDC ID token
(a JWT, RS256, verified by PyJWT against the issuer's JWKS; its verified e-mail names the
person). PyJWT (and cryptography with it) is imported only when a JWT arrives: API-key requests
don't pay it at cold start.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Callable

from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable
from chalicelib.domain.principal import Principal

API_KEY_PATTERN = re.compile(r"rk_([a-z2-7]{16})_([0-9a-f]{64})")
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
TENANT_ID_PATTERN = re.compile(r"ten_[a-z2-7]{16}")
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud")
TIME_CLAIMS = ("exp", "iat", "nbf")


def hash_secret(secret: str) -> str:
    """The secret carries 256 random bits, so a plain SHA-256 is enough (no stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class OidcConfig:
    """The issuer whose ID tokens sign people in, and how its claims name the tenant."""

    issuer: str
    audience: str
    tenant_claim: str = "custom:tenant_id"
    fixed_tenant_id: str = ""
    leeway_seconds: int = 60


class PersonTokens:
    """Verifies a person's ID token and maps its verified e-mail to a person of its tenant."""

    def __init__(self, config: OidcConfig, jwks, people):
        self._config = config
        self._jwks = jwks  # PyJWT's PyJWKClient for the issuer's JWKS URL (bootstrap.get_jwks)
        self._people = people

    def principal(self, token: str) -> Principal:
        from chalicelib.domain.rules import normalise_email

        claims = self.verify(token)
        tenant_id = self._config.fixed_tenant_id or claims.get(self._config.tenant_claim)
        if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.fullmatch(tenant_id):
            raise Forbidden("The token names no tenant of this service.")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email or len(email) > 320:
            raise Forbidden("The token carries no e-mail address.")
        if "email_verified" in claims and claims["email_verified"] not in (True, "true"):
            raise Forbidden("The token's e-mail address is not verified.")
        person = self._people.find_by_email(tenant_id, normalise_email(email))
        if person is None:
            raise Forbidden("No person of this provider has this e-mail address.")
        return Principal("person", tenant_id=tenant_id, person_id=person.person_id)

    def verify(self, token: str) -> dict:
        """The token's claims, if PyJWT verifies its RS256 signature with the issuer's key named
        by its `kid`, and `exp`, `iat`, `iss`, `aud` are present and hold (`nbf` too when present;
        times with the leeway). Unauthenticated otherwise; Unavailable when the JWKS cannot be had."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("The token is malformed.")
        if header.get("alg") != ALGORITHM:  # no "none", no HS256 signed with the public key
            raise Unauthenticated("The token must be signed with RS256.")
        if "crit" in header or "b64" in header:  # only plain JWS: no extensions to honour
            raise Unauthenticated("The token is not valid for this service.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            raise Unauthenticated("The token names no signing key.")
        try:
            key = self._jwks.get_signing_key(kid)
        except (jwt.PyJWKClientConnectionError, jwt.PyJWKSetError, OSError, ValueError, RecursionError) as error:
            # unreachable, cut off, or an answer that is no JSON key set (PyJWT lets json.load's errors through)
            raise Unavailable("The identity provider's keys could not be fetched.", "identity_provider_unavailable") from error
        except jwt.PyJWKClientError:
            raise Unauthenticated("The token is signed with an unknown key.")
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=self._config.audience,
                                issuer=self._config.issuer, leeway=self._config.leeway_seconds,
                                options={"require": list(REQUIRED_CLAIMS)})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired.")
        except jwt.PyJWTError:
            raise Unauthenticated("The token is not valid for this service.")
        if not all(_is_numeric_date(claims[name]) for name in TIME_CLAIMS if name in claims):
            raise Unauthenticated("The token is not valid for this service.")
        return claims


def _is_numeric_date(value) -> bool:
    """RFC 7519's NumericDate is a JSON number; PyJWT also takes "1700000000" and true (int())."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
