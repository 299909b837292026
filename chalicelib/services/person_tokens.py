"""A person's sign-in: their OIDC ID token (a JWT, RS256) verified by PyJWT against the issuer's
JWKS, its verified e-mail naming the person. Imported, with PyJWT (and cryptography with it), only
when a JWT arrives (services/auth.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable
from chalicelib.domain.principal import Principal

TENANT_ID_PATTERN = re.compile(r"ten_[a-z2-7]{16}")
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud")
TIME_CLAIMS = ("exp", "iat", "nbf")


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
