"""The claim rules of person tokens (PyJWT's `jwt.decode` with Roster's options: RS256 only;
`exp`, `iat`, `iss`, `aud` required; times as JSON numbers, with the leeway), variant by variant,
and the tampered, malformed and foreign-key tokens it refuses, through PersonTokens.verify."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.domain.errors import Unauthenticated
from infra.local_stack.token_issuer import JwksServer, TokenIssuer
from tests.unit.person_token_helpers import AUDIENCE, ISSUER, b64, verifier

LEEWAY = 60


@pytest.fixture(scope="module")
def issuer():
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="module")
def jwks(issuer):
    with JwksServer(issuer) as server:
        yield server


@pytest.fixture
def tokens(jwks):
    jwks.body = None
    return verifier(jwks, leeway_seconds=LEEWAY)


def sign(issuer, claims: dict, headers: dict | None = None) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": issuer.kid, **(headers or {})}
    return issuer.sign(json.dumps(header).encode(), json.dumps(claims).encode())


def outcome(tokens, token: str) -> str:
    try:
        tokens.verify(token)
        return "ok"
    except Unauthenticated as refused:
        return "expired" if "expired" in refused.message else "invalid"


NOW = int(time.time())
BASE = {"iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 600, "iat": NOW, "email": "anna@x.example"}
VARIANTS = {
    "valid": ({}, "ok"),
    "audience in a list": ({"aud": ["other", AUDIENCE]}, "ok"),
    "audience list without ours": ({"aud": ["other"]}, "invalid"),
    "audience not a string": ({"aud": [AUDIENCE, 5]}, "invalid"),
    "audience an object": ({"aud": {"a": AUDIENCE}}, "invalid"),
    "empty audience": ({"aud": ""}, "invalid"),
    "wrong audience": ({"aud": "other"}, "invalid"),
    "wrong issuer": ({"iss": "https://evil.test"}, "invalid"),
    "issuer not a string": ({"iss": 5}, "invalid"),
    "no exp": ({"exp": None}, "invalid"),
    "no iat": ({"iat": None}, "invalid"),
    "no iss": ({"iss": None}, "invalid"),
    "no aud": ({"aud": None}, "invalid"),
    "expired long ago": ({"exp": NOW - 3600}, "expired"),
    "expired within the leeway": ({"exp": NOW - 30}, "ok"),
    "exp as a float": ({"exp": NOW + 600.5}, "ok"),
    "exp as a numeric string": ({"exp": str(NOW + 600)}, "invalid"),
    "exp not a number": ({"exp": "soon"}, "invalid"),
    "nbf in the future": ({"nbf": NOW + 3600}, "invalid"),
    "nbf within the leeway": ({"nbf": NOW + 30}, "ok"),
    "nbf as a numeric string": ({"nbf": str(NOW)}, "invalid"),
    "iat in the future": ({"iat": NOW + 3600}, "invalid"),
    "iat within the leeway": ({"iat": NOW + 30}, "ok"),
    "iat not a number": ({"iat": "now"}, "invalid"),
    "iat as a numeric string": ({"iat": str(NOW)}, "invalid"),
    "iat a boolean": ({"iat": True}, "invalid"),
    "sub not a string": ({"sub": 5}, "invalid"),
    "jti not a string": ({"jti": ["x"]}, "invalid"),
    "sub and jti strings": ({"sub": "abc", "jti": "j1"}, "ok"),
}


def claims_now(variant: dict) -> dict:
    """BASE with the variant, its times moved to now (a test may run long after collection)."""
    shift = int(time.time()) - NOW
    claims = {k: v for k, v in {**BASE, **variant}.items() if v is not None}
    return {k: v + shift if k in ("exp", "nbf", "iat") and type(v) in (int, float) else v for k, v in claims.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_claim_variant(tokens, issuer, variant):
    claims, expected = VARIANTS[variant]
    assert outcome(tokens, sign(issuer, claims_now(claims))) == expected


def test_a_valid_token_gives_its_claims(tokens, issuer):
    claims = claims_now({})
    assert tokens.verify(sign(issuer, claims)) == claims


def test_tampering_and_malformed_tokens_are_refused(tokens, issuer):
    header, payload, signature = sign(issuer, claims_now({})).split(".")
    other_payload = b64(claims_now({"email": "eve@x.example"}))
    not_json = b64(b'{"alg": "RS256"')
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for token in (f"{header}.{other_payload}.{signature}",  # payload swapped
                  f"{header}.{payload}.{flipped}",  # signature changed
                  f"{header}.{payload}",  # two segments
                  f"{header}.{payload}.{signature}.{signature}",  # four
                  f"{header}.{payload}.{signature}=",  # padding that does not fit
                  f"{header}.{payload}.{signature}!",  # not base64url
                  f"{header}.{payload}.",  # no signature
                  f"{b64([1])}.{payload}.{signature}",  # header not an object
                  f"{header}.{b64('x')}.{signature}",  # payload not an object
                  f"{not_json}.{payload}.{signature}"):  # header not JSON
        assert outcome(tokens, token) == "invalid", token


def test_only_plain_rs256_is_accepted(tokens, issuer):
    for headers in ({"crit": ["exp"]}, {"b64": True}, {"b64": False, "crit": ["b64"]}):
        assert outcome(tokens, sign(issuer, claims_now({}), headers)) == "invalid", headers
    header, payload, signature = sign(issuer, claims_now({})).split(".")
    for alg in ("none", "HS256", "RS512", "PS256", None):
        forged = b64({"alg": alg, "typ": "JWT", "kid": issuer.kid})
        assert outcome(tokens, f"{forged}.{payload}.{signature}") == "invalid", alg


def test_a_key_of_another_type_under_the_tokens_kid_is_refused(tokens, jwks, issuer):
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    ec_key = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    jwks.body = json.dumps({"keys": [{**ec_key, "kid": issuer.kid}]}).encode()
    assert outcome(tokens, sign(issuer, claims_now({}))) == "invalid"


def test_a_malformed_key_under_the_tokens_kid_is_an_unknown_key(tokens, jwks, issuer):
    other = TokenIssuer(issuer=ISSUER, audience=AUDIENCE)
    jwks.body = json.dumps({"keys": [{"kty": "RSA", "kid": issuer.kid, "n": "a+b", "e": "AQAB"},
                                     *other.jwks()["keys"]]}).encode()
    with pytest.raises(Unauthenticated, match="unknown key"):
        tokens.verify(sign(issuer, claims_now({})))
