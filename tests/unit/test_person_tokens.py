"""Person tokens: RS256 verification by PyJWT against a JWKS fetched over HTTP (signature,
issuer, audience, expiry, required claims, key rotation, algorithm confusion, hostile JSON) and
the mapping of the verified e-mail to a person."""
from __future__ import annotations

import base64
import json
import time
from unittest import mock

import jwt
import pytest

from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable
from chalicelib.services.auth import Authenticator
from infra.local_stack.token_issuer import JwksServer, TokenIssuer
from tests.unit.person_token_helpers import AUDIENCE, ISSUER, TENANT, b64, resign, verifier


@pytest.fixture
def issuer():
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def jwks(issuer):
    with JwksServer(issuer) as server:
        yield server


@pytest.fixture
def clock():
    """time.monotonic, which PyJWT's JWKS cache and refetch cooldown read, under the test's control."""
    now = [1000.0]
    with mock.patch("time.monotonic", lambda: now[0]):
        yield now


def test_a_valid_token_maps_its_verified_email_to_the_person(issuer, jwks):
    tokens = verifier(jwks)
    principal = tokens.principal(issuer.issue(TENANT, "Anna@X.example"))
    assert (principal.kind, principal.tenant_id, principal.person_id) == ("person", TENANT, "per_anna")
    assert principal.actor_ref == {"type": "person", "id": "per_anna"}
    assert jwks.fetched == ["/.well-known/jwks.json"]


@pytest.mark.parametrize("claims", [{"iss": "https://other.test"}, {"aud": "someone-else"}, {"exp": int(time.time()) - 3600},
                                    {"exp": None}])
def test_wrong_issuer_audience_or_expiry_is_401(issuer, jwks, claims):
    tokens = verifier(jwks)
    token = issuer.issue(TENANT, "anna@x.example", **claims)
    if claims.get("exp", 0) is None:  # no exp at all
        payload = jwt.decode(issuer.issue(TENANT, "anna@x.example"), options={"verify_signature": False})
        payload.pop("exp")
        token = jwt.encode(payload, issuer.private_key, algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(Unauthenticated):
        tokens.verify(token)


@pytest.mark.parametrize("claims", [
    {"exp": str(int(time.time()) + 600)},  # a NumericDate is a JSON number; PyJWT alone takes the string
    {"iat": None},                          # iat is required
    {"iat": str(int(time.time()))},
    {"iat": True},                          # PyJWT alone reads true as 1
    {"nbf": str(int(time.time()))},
])
def test_a_time_claim_that_is_not_a_number_or_a_missing_iat_is_401(issuer, jwks, claims):
    tokens = verifier(jwks)
    token = resign(issuer, issuer.issue(TENANT, "anna@x.example"), **claims)
    with pytest.raises(Unauthenticated, match="not valid"):
        tokens.verify(token)


def test_a_small_leeway_accepts_a_token_that_expired_seconds_ago(issuer, jwks):
    tokens = verifier(jwks)
    tokens.verify(issuer.issue(TENANT, "anna@x.example", exp=int(time.time()) - 20))
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(issuer.issue(TENANT, "anna@x.example", exp=int(time.time()) - 120))


def test_a_bad_signature_is_401(issuer, jwks):
    tokens = verifier(jwks)
    impostor = TokenIssuer(issuer=ISSUER, audience=AUDIENCE, kid=issuer.kid)  # same kid, other key
    with pytest.raises(Unauthenticated):
        tokens.verify(impostor.issue(TENANT, "anna@x.example"))
    header, payload, signature = issuer.issue(TENANT, "anna@x.example").split(".")
    forged = b64({**json.loads(base64.urlsafe_b64decode(payload + "==")), "email": "boss@x.example"})
    with pytest.raises(Unauthenticated):
        tokens.verify(f"{header}.{forged}.{signature}")


def test_alg_none_and_hs256_with_the_public_key_are_refused(issuer, jwks):
    tokens = verifier(jwks)
    payload = jwt.decode(issuer.issue(TENANT, "anna@x.example"), options={"verify_signature": False})
    none_token = f"{b64({'alg': 'none', 'kid': issuer.kid, 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(Unauthenticated, match="RS256"):
        tokens.verify(none_token)
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import serialization

    public_pem = issuer.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{b64({'alg': 'HS256', 'kid': issuer.kid, 'typ': 'JWT'})}.{b64(payload)}"
    mac = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(Unauthenticated, match="RS256"):
        tokens.verify(f"{signing_input}.{mac.decode()}")
    # and a header that lies (RS256) over an HMAC signature fails the signature check
    lying = f"{b64({'alg': 'RS256', 'kid': issuer.kid})}.{b64(payload)}.{mac.decode()}"
    with pytest.raises(Unauthenticated):
        tokens.verify(lying)


def test_an_unknown_kid_refetches_the_jwks_once_then_is_rate_limited(issuer, jwks, clock):
    rotated = TokenIssuer(issuer=ISSUER, audience=AUDIENCE)
    tokens = verifier(jwks)
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 1  # cached
    with pytest.raises(Unauthenticated, match="unknown key"):  # not yet published, and just fetched
        tokens.verify(rotated.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 1
    jwks.issuers.append(rotated)  # the provider rotates its key
    clock[0] += 29
    with pytest.raises(Unauthenticated, match="unknown key"):  # still within 30 s of the last fetch
        tokens.verify(rotated.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 1
    clock[0] += 2
    tokens.verify(rotated.issue(TENANT, "anna@x.example"))  # unknown kid: refetched
    assert len(jwks.fetched) == 2
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 2
    for kid in ("made-up-1", "made-up-2", "made-up-3"):  # a flood of made-up kids: no fetch each
        impostor = TokenIssuer(issuer=ISSUER, audience=AUDIENCE, kid=kid, private_key=issuer.private_key)
        with pytest.raises(Unauthenticated, match="unknown key"):
            tokens.verify(impostor.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 2


def test_the_jwks_is_cached_an_hour(issuer, jwks, clock):
    tokens = verifier(jwks)
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    clock[0] += 3599
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 1
    clock[0] += 2
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(jwks.fetched) == 2


def test_an_unreachable_jwks_is_503_not_401(issuer, jwks):
    tokens = verifier(jwks)
    jwks.close()  # the port now refuses connections
    with pytest.raises(Unavailable) as refused:
        tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert refused.value.code == "identity_provider_unavailable"


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'{"keys": []}', b'{"keys": [{"kty": "RSA"}]}'])
def test_a_jwks_answer_that_is_no_usable_key_set_is_503(issuer, jwks, body):
    tokens = verifier(jwks)
    jwks.body = body
    with pytest.raises(Unavailable):
        tokens.verify(issuer.issue(TENANT, "anna@x.example"))


def test_hostile_json_in_the_header_or_payload_is_401_not_a_crash(issuer, jwks):
    """json.loads raises RecursionError on deep nesting: the token is refused like any malformed one."""
    tokens = verifier(jwks)
    deep = b"[" * 3000
    valid = issuer.issue(TENANT, "anna@x.example")
    _, payload, signature = valid.split(".")
    header = '{"alg":"RS256","kid":"%s","x":' % issuer.kid
    for token in (f"{b64(header.encode() + deep)}.{payload}.{signature}",  # header, before any key is fetched
                  issuer.sign(json.dumps({"alg": "RS256", "kid": issuer.kid}).encode(), deep),  # signed payload
                  issuer.sign(json.dumps({"alg": "RS256", "kid": issuer.kid}).encode(), b'{"a":' + deep)):
        with pytest.raises(Unauthenticated):
            tokens.verify(token)


@pytest.mark.parametrize("tenant,email,claims", [
    (TENANT, "nobody@x.example", {}),               # no person with this e-mail in the tenant
    ("ten_bbbbbbbbbbbbbbbb", "anna@x.example", {}),  # anna is a person of another tenant only
    (None, "anna@x.example", {}),                    # no tenant claim
    ("T#x", "anna@x.example", {}),                   # not a tenant id
    (TENANT, "anna@x.example", {"email_verified": False}),
    (TENANT, "anna@x.example", {"email_verified": "false"}),
    (TENANT, None, {}),                               # no e-mail claim
])
def test_token_to_person_mapping_refusals_are_403(issuer, jwks, tenant, email, claims):
    tokens = verifier(jwks)
    with pytest.raises(Forbidden):
        tokens.principal(issuer.issue(tenant, email, **claims))


def test_email_verified_may_be_absent_or_the_string_true(issuer, jwks):
    tokens = verifier(jwks)
    payload = jwt.decode(issuer.issue(TENANT, "anna@x.example"), options={"verify_signature": False})
    payload.pop("email_verified")
    assert tokens.principal(jwt.encode(payload, issuer.private_key, algorithm="RS256",
                                       headers={"kid": issuer.kid})).person_id == "per_anna"
    assert tokens.principal(issuer.issue(TENANT, "anna@x.example", email_verified="true")).person_id == "per_anna"


def test_a_fixed_tenant_wins_over_the_claim_and_a_custom_claim_name_works(issuer, jwks):
    tokens = verifier(jwks, fixed_tenant_id=TENANT)
    assert tokens.principal(issuer.issue(None, "anna@x.example")).tenant_id == TENANT
    tokens = verifier(jwks, tenant_claim="https://roster/tenant")
    assert tokens.principal(issuer.issue(None, "anna@x.example", **{"https://roster/tenant": TENANT})).tenant_id == TENANT


class NoKeys:
    def secret_hash(self, key_id):
        return None


class NoPlatform:
    def current(self):
        return "platform-key"


def test_the_authenticator_routes_jwts_to_the_verifier_and_checks_the_route_kind(issuer, jwks):
    tokens = verifier(jwks)
    auth = Authenticator(NoPlatform(), NoKeys(), lambda: tokens)
    token = issuer.issue(TENANT, "anna@x.example")
    assert auth.authenticate(f"Bearer {token}", "tenant").person_id == "per_anna"
    assert auth.authenticate(f"Bearer {token}", "person").person_id == "per_anna"
    with pytest.raises(Forbidden):
        auth.authenticate(f"Bearer {token}", "platform")
    with pytest.raises(Forbidden):
        auth.authenticate("Bearer platform-key", "person")
    unconfigured = Authenticator(NoPlatform(), NoKeys())
    with pytest.raises(Unauthenticated):
        unconfigured.authenticate(f"Bearer {token}", "tenant")
