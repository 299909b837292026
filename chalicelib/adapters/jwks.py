"""The identity provider's signing keys (JWKS): fetched over HTTP, cached, refetched when a
token names a key id the cache does not know (key rotation); and RS256 verification of a token
with such a key."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
from typing import Callable

from chalicelib.domain import json_input

Fetch = Callable[[str], dict]


def http_fetch(url: str, timeout: float = 3.0) -> dict:
    """GETs a JWKS document (stdlib only: no requests in the Lambda package)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}) if url.startswith("http://127.") else
                                         urllib.request.ProxyHandler())
    with opener.open(urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=timeout) as reply:
        document = json_input.parse(reply.read(1024 * 1024))  # a ValueError if malformed: 503, like unreachable
    if not isinstance(document, dict):
        raise ValueError("the JWKS document is not a JSON object")
    return document


class JwksCache:
    """Keys by `kid`. An unknown kid refetches the document, at most once per `min_refetch_seconds`
    (a flood of tokens with made-up kids cannot turn into a flood of fetches)."""

    def __init__(self, url: str, fetch: Fetch = http_fetch, max_age_seconds: float = 3600,
                 min_refetch_seconds: float = 30, monotonic: Callable[[], float] = time.monotonic):
        self._url = url
        self._fetch = fetch
        self._max_age = max_age_seconds
        self._min_refetch = min_refetch_seconds
        self._now = monotonic
        self._keys: dict[str, dict] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> dict | None:
        """The JWK (a dict) with this kid, or None if the provider does not publish it."""
        with self._lock:
            now = self._now()
            stale = self._fetched_at is None or now - self._fetched_at > self._max_age
            may_refetch = self._fetched_at is None or now - self._fetched_at >= self._min_refetch
            if stale or (kid not in self._keys and may_refetch):
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        document = self._fetch(self._url)
        self.fetches += 1
        self._keys = {k["kid"]: k for k in document.get("keys", []) if isinstance(k, dict) and "kid" in k}
        self._fetched_at = now


# --- RS256 verification --------------------------------------------------------------------------
# PyJWT is not used on the request path: `import jwt` loads every algorithm it knows, with
# cryptography's x509, serialization and SSH modules (~170 ms on a quiet machine). A person's
# first request needs only RSA PKCS#1 v1.5 with SHA-256 and a JWK's modulus and exponent. The
# checks are PyJWT 2.x's `decode(..., algorithms=["RS256"], options={"require": [...]})`, with
# stricter parsing (no `crit`/`b64` headers, base64url only). cryptography does the signature.

class TokenError(ValueError):
    """Malformed, badly signed or not valid for this service."""


class TokenExpired(TokenError):
    """Valid but past its `exp` (with the leeway)."""


_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _b64url(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise TokenError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(segment: str) -> dict:
    try:
        value = json.loads(_b64url(segment))
    except (UnicodeDecodeError, ValueError) as error:
        raise TokenError("not JSON") from error
    if not isinstance(value, dict):
        raise TokenError("not a JSON object")
    return value


def unverified_header(token: str) -> dict:
    """The JOSE header of a compact JWS (three base64url segments), not yet trusted."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("a JWT has three segments")
    return _json_object(parts[0])


def rs256_public_key(jwk: dict):
    """The RSA public key of a JWK (kty RSA, n, e)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
        raise TokenError("the key is not an RSA key")
    try:
        n, e = (int.from_bytes(_b64url(jwk[name]), "big") for name in ("n", "e"))
        return RSAPublicNumbers(e, n).public_key()
    except (KeyError, TypeError, ValueError) as error:
        raise TokenError("the key is malformed") from error


def verify_rs256(token: str, jwk: dict, *, issuer: str, audience: str, leeway: float,
                 now: float | None = None) -> dict:
    """The claims of an RS256 JWT signed with `jwk`, if `iss`, `aud` and `exp` are present and
    hold (`nbf`, `iat` too when present); else TokenError (TokenExpired past `exp`)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    header = unverified_header(token)
    if header.get("alg") != "RS256" or "crit" in header or "b64" in header:
        raise TokenError("only plain RS256 tokens are accepted")
    header_segment, payload_segment, signature_segment = token.split(".")
    try:
        rs256_public_key(jwk).verify(_b64url(signature_segment), f"{header_segment}.{payload_segment}".encode("ascii"),
                                     PKCS1v15(), SHA256())
    except InvalidSignature as error:
        raise TokenError("the signature does not match") from error
    claims = _json_object(payload_segment)
    _validate(claims, issuer, audience, leeway, time.time() if now is None else now)
    return claims


def _validate(claims: dict, issuer: str, audience: str, leeway: float, now: float) -> None:
    for name in ("exp", "iss", "aud"):
        if claims.get(name) is None:
            raise TokenError(f"the token has no {name}")
    times = {}
    for name in ("iat", "nbf", "exp"):
        if name in claims:
            try:
                times[name] = int(claims[name])
            except (ValueError, TypeError, OverflowError) as error:
                raise TokenError(f"{name} must be an integer") from error
    if any(times.get(name, float("-inf")) > now + leeway for name in ("iat", "nbf")):
        raise TokenError("the token is not yet valid")
    if times["exp"] <= now - leeway:
        raise TokenExpired("the token has expired")
    if not isinstance(claims["iss"], str) or claims["iss"] != issuer:
        raise TokenError("wrong issuer")
    audiences = [claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"]
    if not isinstance(audiences, list) or any(not isinstance(a, str) for a in audiences) or audience not in audiences:
        raise TokenError("wrong audience")
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise TokenError(f"{name} must be a string")
