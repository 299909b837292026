"""Person-token verifiers as the app builds them (bootstrap.get_jwks: PyJWT's PyJWKClient with
Roster's cache settings), fetching the JWKS over HTTP from a JwksServer on 127.0.0.1."""
from __future__ import annotations

import base64
import json
import os
from unittest import mock

from chalicelib import bootstrap
from chalicelib.services.person_tokens import OidcConfig, PersonTokens

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


def verifier(jwks_server, people=None, **config) -> PersonTokens:
    """PersonTokens with the JWKS client the composition root builds for `jwks_server`'s URL."""
    with mock.patch.dict(os.environ, {"ROSTER_OIDC_JWKS_URL": jwks_server.url}):
        bootstrap.reset()
        client = bootstrap.get_jwks()
    bootstrap.reset()
    return PersonTokens(OidcConfig(ISSUER, AUDIENCE, **config), client,
                        people or People({(TENANT, "anna@x.example"): "per_anna"}))


def b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def resign(issuer, token: str, **changes) -> str:
    """The token's claims with `changes` (None removes a claim), signed again by `issuer`."""
    claims = {k: v for k, v in {**claims_of(token), **changes}.items() if v is not None}
    return issuer.sign(json.dumps({"alg": "RS256", "typ": "JWT", "kid": issuer.kid}).encode(), json.dumps(claims).encode())
