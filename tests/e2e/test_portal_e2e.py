"""Person sign-in on the running local stack: the dev console issues an ID token signed with the
stack's RSA key; the API verifies it against the console's JWKS fetched over real HTTP (the
same verification code path as with Cognito in AWS)."""
from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.e2e
TIMEOUT = 10


def _api(local_stack, method, path, token, body=None):
    return requests.request(method, f"{local_stack.api_url}{path}", json=body, timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {token}"})


def test_a_console_token_signs_a_person_in_and_get_me_answers_over_http(local_stack):
    tenant = _api(local_stack, "POST", "/tenants", local_stack.platform_key, {"name": "Portal AG"})
    assert tenant.status_code == 201, tenant.text
    key, tenant_id = tenant.json()["api_key"], tenant.json()["tenant"]["tenant_id"]
    account = _api(local_stack, "POST", "/accounts", key, {"name": "Kunde AG"}).json()["account_id"]
    added = _api(local_stack, "POST", f"/accounts/{account}/contacts", key,
                 {"email": "chef@kunde.example", "kind": "customer", "first_name": "Petra"})
    assert added.status_code == 201, added.text

    jwks = requests.get(f"{local_stack.console_url}/.well-known/jwks.json", timeout=TIMEOUT)
    assert jwks.status_code == 200 and jwks.json()["keys"][0]["kty"] == "RSA"
    assert "d" not in jwks.json()["keys"][0]  # the public key only
    issued = requests.post(f"{local_stack.console_url}/token", timeout=TIMEOUT,
                           json={"tenant_id": tenant_id, "email": "chef@kunde.example"})
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]

    me = _api(local_stack, "GET", "/me", token)
    assert me.status_code == 200, (me.text, local_stack.log_tail())
    assert me.json()["person"]["first_name"] == "Petra"
    assert [(m["account_id"], m["company_name"], m["kind"], m["can_manage"]) for m in me.json()["memberships"]] == [
        (account, "Kunde AG", "customer", True)]
    # the same token works on the account's routes within the customer's rights (C6 for the name)
    assert _api(local_stack, "GET", f"/accounts/{account}/contacts", token).status_code == 200
    renamed = _api(local_stack, "PATCH", f"/accounts/{account}", token, {"name": "Meins AG"})
    assert renamed.status_code == 403 and renamed.json()["error"]["details"][0]["field"] == "name"
    audit = _api(local_stack, "GET", f"/accounts/{account}/audit", key).json()["items"]
    assert audit[0]["action"] == "contact.added"

    # a tampered token and an unknown e-mail are refused
    assert _api(local_stack, "GET", "/me", token[:-3] + "abc").status_code == 401
    stranger = requests.post(f"{local_stack.console_url}/token", timeout=TIMEOUT,
                             json={"tenant_id": tenant_id, "email": "nobody@kunde.example"}).json()["token"]
    assert _api(local_stack, "GET", "/me", stranger).status_code == 403


def test_the_console_token_endpoint_checks_its_body(local_stack):
    reply = requests.post(f"{local_stack.console_url}/token", json={"email": "x@y.example"}, timeout=TIMEOUT)
    assert reply.status_code == 400
