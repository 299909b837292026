"""The request path's RS256 verifier (chalicelib/adapters/jwks.py) decides as PyJWT's
`jwt.decode(..., algorithms=["RS256"], options={"require": ["exp", "iss", "aud"]})` does, on
every claim variant below, and refuses the malformed tokens PyJWT refuses."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from chalicelib.adapters.jwks import TokenError, TokenExpired, rs256_public_key, unverified_header, verify_rs256
from infra.local_stack.token_issuer import TokenIssuer

ISSUER, AUDIENCE, LEEWAY = "https://issuer.test", "portal", 60


@pytest.fixture(scope="module")
def issuer():
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


def sign(issuer, claims: dict, headers: dict | None = None) -> str:
    """Signed by hand (PyJWT's encode refuses some of the claims and headers tested here)."""
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    signing_input = f"{b64({'alg': 'RS256', 'typ': 'JWT', 'kid': issuer.kid, **(headers or {})})}.{b64(claims)}"
    signature = issuer.private_key.sign(signing_input.encode(), PKCS1v15(), SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def pyjwt_outcome(issuer, token: str) -> str:
    try:
        jwt.decode(token, jwt.PyJWK(issuer.jwks()["keys"][0], algorithm="RS256").key, algorithms=["RS256"],
                   audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY, options={"require": ["exp", "iss", "aud"]})
        return "ok"
    except jwt.ExpiredSignatureError:
        return "expired"
    except (jwt.InvalidTokenError, jwt.PyJWKError):
        return "invalid"


def our_outcome(issuer, token: str) -> str:
    try:
        verify_rs256(token, issuer.jwks()["keys"][0], issuer=ISSUER, audience=AUDIENCE, leeway=LEEWAY)
        return "ok"
    except TokenExpired:
        return "expired"
    except TokenError:
        return "invalid"


NOW = int(time.time())
BASE = {"iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 600, "iat": NOW, "email": "anna@x.example"}
VARIANTS = {
    "valid": {},
    "audience in a list": {"aud": ["other", AUDIENCE]},
    "audience list without ours": {"aud": ["other"]},
    "audience not a string": {"aud": [AUDIENCE, 5]},
    "audience an object": {"aud": {"a": AUDIENCE}},
    "empty audience": {"aud": ""},
    "wrong audience": {"aud": "other"},
    "wrong issuer": {"iss": "https://evil.test"},
    "issuer not a string": {"iss": 5},
    "no exp": {"exp": None},
    "no iss": {"iss": None},
    "no aud": {"aud": None},
    "expired long ago": {"exp": NOW - 3600},
    "expired within the leeway": {"exp": NOW - 30},
    "exp as a float": {"exp": NOW + 600.5},
    "exp as a numeric string": {"exp": str(NOW + 600)},
    "exp not a number": {"exp": "soon"},
    "nbf in the future": {"nbf": NOW + 3600},
    "nbf within the leeway": {"nbf": NOW + 30},
    "iat in the future": {"iat": NOW + 3600},
    "iat not a number": {"iat": "now"},
    "sub not a string": {"sub": 5},
    "jti not a string": {"jti": ["x"]},
    "sub and jti strings": {"sub": "abc", "jti": "j1"},
}


def claims_now(variant: dict) -> dict:
    """BASE with the variant, its times moved to now (a test may run long after collection)."""
    shift = int(time.time()) - NOW
    claims = {k: v for k, v in {**BASE, **variant}.items() if v is not None}
    return {k: v + shift if k in ("exp", "nbf", "iat") and isinstance(v, (int, float)) else v
            for k, v in claims.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_claim_variant_is_decided_as_pyjwt_decides_it(issuer, variant):
    token = sign(issuer, claims_now(VARIANTS[variant]))
    assert our_outcome(issuer, token) == pyjwt_outcome(issuer, token)


def test_a_valid_token_gives_its_claims(issuer):
    claims = claims_now({})
    token = sign(issuer, claims)
    assert verify_rs256(token, issuer.jwks()["keys"][0], issuer=ISSUER, audience=AUDIENCE, leeway=0) == claims


def segments(token: str) -> list[str]:
    return token.split(".")


def b64(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampering_and_malformed_tokens_are_refused(issuer):
    header, payload, signature = segments(sign(issuer, claims_now({})))
    other_payload = b64(claims_now({"email": "eve@x.example"}))
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for token in (f"{header}.{other_payload}.{signature}",  # payload swapped
                  f"{header}.{payload}.{flipped}",  # signature changed
                  f"{header}.{payload}",  # two segments
                  f"{header}.{payload}.{signature}.{signature}",  # four
                  f"{header}.{payload}.{signature}=",  # padding is not base64url
                  f"{header}.{payload}.",  # no signature
                  f"{b64([1])}.{payload}.{signature}",  # header not an object
                  f"{header}.{b64('x')}.{signature}"):  # payload not an object
        assert our_outcome(issuer, token) == pyjwt_outcome(issuer, token) == "invalid", token


def test_only_plain_rs256_is_accepted(issuer):
    for headers in ({"crit": ["exp"]}, {"b64": True}):
        assert our_outcome(issuer, sign(issuer, claims_now({}), headers)) == "invalid"
    header, payload, signature = segments(sign(issuer, claims_now({})))
    for alg in ("none", "HS256", "RS512", "PS256"):
        forged = b64({"alg": alg, "typ": "JWT", "kid": issuer.kid})
        assert our_outcome(issuer, f"{forged}.{payload}.{signature}") == "invalid", alg


def test_a_key_must_be_an_rsa_jwk():
    for jwk in ({"kty": "EC", "x": "AQAB", "y": "AQAB"}, {"kty": "RSA", "n": "AQAB"}, {"kty": "RSA", "n": 5, "e": "AQAB"},
                {"kty": "RSA", "n": "a+b", "e": "AQAB"}, "RSA"):
        with pytest.raises(TokenError):
            rs256_public_key(jwk)


def test_the_header_is_read_without_verifying(issuer):
    assert unverified_header(sign(issuer, BASE)) == {"alg": "RS256", "typ": "JWT", "kid": issuer.kid}
    with pytest.raises(TokenError):
        unverified_header("not-a-token")
