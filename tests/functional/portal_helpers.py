"""Person tokens in functional tests: a local issuer whose JWKS reaches the app through the
composition root's `jwks_fetch` override (no network), with the same verification code as in AWS."""
from __future__ import annotations

import os
from contextlib import contextmanager
from unittest import mock

from tests.functional.conftest import Api

ISSUER = "https://issuer.roster.test"
AUDIENCE = "roster-portal-test"


@contextmanager
def trusted_issuer(**settings: str):
    """Configures the app to trust a fresh local issuer; yields it. `settings` adds env vars."""
    from chalicelib import bootstrap
    from infra.local_stack.token_issuer import TokenIssuer

    issuer = TokenIssuer(issuer=ISSUER, audience=AUDIENCE)
    env = {**issuer.environment("https://issuer.roster.test/.well-known/jwks.json"), **settings}
    fetched: list[str] = []

    def fetch(url: str) -> dict:
        fetched.append(url)
        return issuer.jwks()

    with mock.patch.dict(os.environ, env):
        bootstrap.reset()
        bootstrap.override(jwks_fetch=fetch)
        issuer.fetched = fetched
        try:
            yield issuer
        finally:
            bootstrap.reset()


def person_api(api: Api, issuer, tenant_id: str | None, email: str, **claims) -> Api:
    return Api(api.http, issuer.issue(tenant_id, email, **claims))
