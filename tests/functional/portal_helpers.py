"""Person tokens in functional tests: a local issuer whose JWKS the app fetches over HTTP from
127.0.0.1 (JwksServer), with the same verification code as in AWS."""
from __future__ import annotations

import os
from contextlib import contextmanager
from unittest import mock

from tests.functional.conftest import Api

ISSUER = "https://issuer.roster.test"
AUDIENCE = "roster-portal-test"


@contextmanager
def trusted_issuer(**settings: str):
    """Configures the app to trust a fresh local issuer; yields it. `settings` adds env vars.
    `issuer.fetched` lists the app's JWKS fetches."""
    from chalicelib import bootstrap
    from infra.local_stack.token_issuer import JwksServer, TokenIssuer

    issuer = TokenIssuer(issuer=ISSUER, audience=AUDIENCE)
    with JwksServer(issuer) as jwks, mock.patch.dict(os.environ, {**issuer.environment(jwks.url), **settings}):
        bootstrap.reset()
        issuer.fetched = jwks.fetched
        try:
            yield issuer
        finally:
            bootstrap.reset()


def person_api(api: Api, issuer, tenant_id: str | None, email: str, **claims) -> Api:
    return Api(api.http, issuer.issue(tenant_id, email, **claims))
