"""Person tokens: RS256 verification against a JWKS (signature, issuer, audience, expiry, key
rotation, algorithm confusion) and the mapping of the verified e-mail to a person."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from chalicelib.adapters.jwks import JwksCache
from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable
from chalicelib.services.auth import Authenticator, OidcConfig, PersonTokens
from infra.local_stack.token_issuer import TokenIssuer

ISSUER, AUDIENCE, TENANT = "https://issuer.test", "portal", "ten_aaaaaaaaaaaaaaaa"


class People:
    """The by_email lookup the verifier needs (a fake: no AWS in unit tests)."""

    def __init__(self, known: dict[tuple[str, str], str]):
        self.known = known
        self.asked: list[tuple[str, str]] = []

    def find_by_email(self, tenant_id, email):
        self.asked.append((tenant_id, email))
        person_id = self.known.get((tenant_id, email))
        return type("P", (), {"person_id": person_id})() if person_id else None


@pytest.fixture
def issuer():
    return TokenIssuer(issuer=ISSUER, audience=AUDIENCE)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def verifier(*issuers, people=None, clock=None, **config):
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"keys": [key for i in issuers for key in i.jwks()["keys"]]}

    jwks = JwksCache("https://issuer.test/jwks", fetch, monotonic=clock or Clock(), min_refetch_seconds=30)
    tokens = PersonTokens(OidcConfig(ISSUER, AUDIENCE, **config), jwks,
                          people or People({(TENANT, "anna@x.example"): "per_anna"}))
    return tokens, fetched


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_maps_its_verified_email_to_the_person(issuer):
    tokens, fetched = verifier(issuer)
    principal = tokens.principal(issuer.issue(TENANT, "Anna@X.example"))
    assert (principal.kind, principal.tenant_id, principal.person_id) == ("person", TENANT, "per_anna")
    assert principal.actor_ref == {"type": "person", "id": "per_anna"}
    assert fetched == ["https://issuer.test/jwks"]


@pytest.mark.parametrize("claims", [{"iss": "https://other.test"}, {"aud": "someone-else"}, {"exp": int(time.time()) - 3600},
                                    {"exp": None}])
def test_wrong_issuer_audience_or_expiry_is_401(issuer, claims):
    tokens, _ = verifier(issuer)
    token = issuer.issue(TENANT, "anna@x.example", **claims)
    if claims.get("exp", 0) is None:  # no exp at all
        payload = jwt.decode(issuer.issue(TENANT, "anna@x.example"), options={"verify_signature": False})
        payload.pop("exp")
        token = jwt.encode(payload, issuer.private_key, algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(Unauthenticated):
        tokens.verify(token)


def test_a_small_leeway_accepts_a_token_that_expired_seconds_ago(issuer):
    tokens, _ = verifier(issuer)
    tokens.verify(issuer.issue(TENANT, "anna@x.example", exp=int(time.time()) - 20))
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(issuer.issue(TENANT, "anna@x.example", exp=int(time.time()) - 120))


def test_a_bad_signature_is_401(issuer):
    tokens, _ = verifier(issuer)
    impostor = TokenIssuer(issuer=ISSUER, audience=AUDIENCE, kid=issuer.kid)  # same kid, other key
    with pytest.raises(Unauthenticated):
        tokens.verify(impostor.issue(TENANT, "anna@x.example"))
    header, payload, signature = issuer.issue(TENANT, "anna@x.example").split(".")
    forged = b64({**json.loads(base64.urlsafe_b64decode(payload + "==")), "email": "boss@x.example"})
    with pytest.raises(Unauthenticated):
        tokens.verify(f"{header}.{forged}.{signature}")


def test_alg_none_and_hs256_with_the_public_key_are_refused(issuer):
    tokens, _ = verifier(issuer)
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


def test_an_unknown_kid_refetches_the_jwks_once_then_is_rate_limited(issuer):
    clock = Clock()
    rotated = TokenIssuer(issuer=ISSUER, audience=AUDIENCE)
    published = [issuer]
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"keys": [k for i in published for k in i.jwks()["keys"]]}

    tokens = PersonTokens(OidcConfig(ISSUER, AUDIENCE), JwksCache("u", fetch, monotonic=clock, min_refetch_seconds=30),
                          People({(TENANT, "anna@x.example"): "per_anna"}))
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(fetched) == 1  # cached
    with pytest.raises(Unauthenticated, match="unknown key"):  # not yet published, and just fetched
        tokens.verify(rotated.issue(TENANT, "anna@x.example"))
    assert len(fetched) == 1
    published.append(rotated)  # the provider rotates its key
    clock.now += 31
    tokens.verify(rotated.issue(TENANT, "anna@x.example"))  # unknown kid: refetched
    assert len(fetched) == 2
    tokens.verify(issuer.issue(TENANT, "anna@x.example"))
    assert len(fetched) == 2


def test_the_jwks_cache_expires(issuer):
    clock = Clock()
    fetched = []
    cache = JwksCache("u", lambda url: fetched.append(url) or issuer.jwks(), max_age_seconds=3600, monotonic=clock)
    assert cache.key(issuer.kid)["kty"] == "RSA"
    clock.now += 3601
    cache.key(issuer.kid)
    assert len(fetched) == 2


def test_an_unreachable_jwks_is_503_not_401(issuer):
    def fetch(url):
        raise OSError("connection refused")

    tokens = PersonTokens(OidcConfig(ISSUER, AUDIENCE), JwksCache("u", fetch), People({}))
    with pytest.raises(Unavailable):
        tokens.verify(issuer.issue(TENANT, "anna@x.example"))


@pytest.mark.parametrize("tenant,email,claims", [
    (TENANT, "nobody@x.example", {}),               # no person with this e-mail in the tenant
    ("ten_bbbbbbbbbbbbbbbb", "anna@x.example", {}),  # anna is a person of another tenant only
    (None, "anna@x.example", {}),                    # no tenant claim
    ("T#x", "anna@x.example", {}),                   # not a tenant id
    (TENANT, "anna@x.example", {"email_verified": False}),
    (TENANT, "anna@x.example", {"email_verified": "false"}),
    (TENANT, None, {}),                               # no e-mail claim
])
def test_token_to_person_mapping_refusals_are_403(issuer, tenant, email, claims):
    tokens, _ = verifier(issuer)
    with pytest.raises(Forbidden):
        tokens.principal(issuer.issue(tenant, email, **claims))


def test_email_verified_may_be_absent_or_the_string_true(issuer):
    tokens, _ = verifier(issuer)
    payload = jwt.decode(issuer.issue(TENANT, "anna@x.example"), options={"verify_signature": False})
    payload.pop("email_verified")
    assert tokens.principal(jwt.encode(payload, issuer.private_key, algorithm="RS256",
                                       headers={"kid": issuer.kid})).person_id == "per_anna"
    assert tokens.principal(issuer.issue(TENANT, "anna@x.example", email_verified="true")).person_id == "per_anna"


def test_a_fixed_tenant_wins_over_the_claim_and_a_custom_claim_name_works(issuer):
    tokens, _ = verifier(issuer, fixed_tenant_id=TENANT)
    assert tokens.principal(issuer.issue(None, "anna@x.example")).tenant_id == TENANT
    tokens, _ = verifier(issuer, tenant_claim="https://roster/tenant")
    assert tokens.principal(issuer.issue(None, "anna@x.example", **{"https://roster/tenant": TENANT})).tenant_id == TENANT


class NoKeys:
    def secret_hash(self, key_id):
        return None


class NoPlatform:
    def current(self):
        return "platform-key"


def test_the_authenticator_routes_jwts_to_the_verifier_and_checks_the_route_kind(issuer):
    tokens, _ = verifier(issuer)
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
