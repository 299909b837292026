"""Tenant isolation and authentication, walked over the app's own route table.

Every route of `app.app.routes` is a test case, so a new route is covered without editing
this file; a route with a path parameter (or a body) this file cannot fill fails loudly.

- A tenant route called with tenant B's key on tenant A's real ids answers exactly what it
  answers for random ids that name nothing (404 when a path id is A's), and changes no item.
- The same ids with A's own key succeed, so the ids were real and the 404 means isolation.
- Without a key, with a garbage, unknown or revoked key: 401; a tenant key on a platform route
  and the platform key on a tenant route: 403 — and nothing changes either.
"""
from __future__ import annotations

import itertools
import re

import pytest

import app as app_module
from tests.functional.conftest import (
    COMPLETE_ACCOUNT, PLATFORM_KEY, Api, add_contact, assert_error, new_tenant, random_id, skip_ahead, table_items,
)

# How to fill each path parameter (and body placeholder): the kind of id it takes.
PARAMETER_KINDS = {"account_id": "account", "person_id": "person", "other_person_id": "person", "key_id": "key",
                   "job_id": "job", "invitation_id": "invitation", "token": "token", "notice_id": "notice"}

# A valid body for each write route that takes path parameters, so the call reaches the lookup
# (a body that fails validation would answer 400 before it). "{name}" is filled like a path parameter.
BODIES = {
    ("PATCH", "/accounts/{account_id}"): {"name": "Hijacked AG"},
    ("POST", "/accounts/{account_id}/onboarding/complete"): {},
    ("POST", "/accounts/{account_id}/contacts"): {"email": "intruder@example.com", "roles": ["caretaker"]},
    ("PATCH", "/accounts/{account_id}/contacts/{person_id}"): {"status": "inactive"},
    ("PUT", "/accounts/{account_id}/designated-contacts"): {"technical": "{other_person_id}"},
    ("PATCH", "/people/{person_id}"): {"first_name": "Hijacked"},
    ("POST", "/accounts/{account_id}/invitations"): {"email": "intruder@example.com"},
    ("POST", "/accounts/{account_id}/invitations/batch"): {"invitations": [{"email": "intruder@example.com"}]},
    ("POST", "/accounts/{account_id}/invitations/{invitation_id}/resend"): {},
    ("PATCH", "/notices/{notice_id}"): {"severity": "critical"},
    ("POST", "/notices/{notice_id}/publish"): {},
    ("POST", "/notices/{notice_id}/updates"): {"body": {"de": "Hijacked"}},
    ("POST", "/notices/{notice_id}/resolve"): {},
    ("POST", "/notices/{notice_id}/cancel"): {},
}


def _published(notice_type: str):
    """The world's notice is a draft outage; these routes need a published one of their own."""
    def prepare(api: Api) -> dict:
        body = {"type": notice_type, "title": {"de": "Eigene"}, "body": {"de": "Eigene"}, "affected": {"all": True},
                **({"starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-01T02:00:00Z"}
                   if notice_type == "maintenance" else {})}
        notice_id = api.post("/notices", body).json["notice_id"]
        assert api.post(f"/notices/{notice_id}/publish").status == 202
        return {"notice_id": notice_id}

    return prepare


# Routes whose own-tenant call needs an object in another state than the world's.
OWN_IDS = {
    ("POST", "/notices/{notice_id}/updates"): _published("outage"),
    ("POST", "/notices/{notice_id}/resolve"): _published("outage"),
    ("POST", "/notices/{notice_id}/cancel"): _published("maintenance"),
}
WRITE_METHODS = {"POST", "PUT", "PATCH"}


def all_routes() -> list[tuple[str, str, str, list[str]]]:
    return [(method, path, entry.view_function.auth, list(entry.view_args))
            for path, methods in app_module.app.routes.items() for method, entry in methods.items()]


def route_id(route) -> str:
    return f"{route[0]} {route[1]}"


TENANT_ROUTES_WITH_IDS = [r for r in all_routes() if r[2] == "tenant" and r[3]]
NON_PUBLIC_ROUTES = [r for r in all_routes() if r[2] != "public"]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def test_the_route_table_is_what_the_tests_know():
    routes = all_routes()
    assert {auth for _, _, auth, _ in routes} <= {"public", "platform", "tenant", "person"}, "a route has an unknown auth"
    unknown = sorted({(route_id(r), p) for r in routes for p in r[3] if p not in PARAMETER_KINDS})
    assert not unknown, f"teach test_tenant_isolation how to fill these path parameters: {unknown}"
    missing_bodies = sorted(route_id(r) for r in TENANT_ROUTES_WITH_IDS
                            if r[0] in WRITE_METHODS and (r[0], r[1]) not in BODIES)
    assert not missing_bodies, f"give these routes a valid body in BODIES: {missing_bodies}"
    stale = sorted(f"{m} {p}" for m, p in BODIES if (m, p) not in {(r[0], r[1]) for r in routes})
    assert not stale, f"BODIES names routes that no longer exist: {stale}"
    # the walk is not vacuous: the known routes with ids are all there
    assert len(TENANT_ROUTES_WITH_IDS) >= 15
    assert any(auth == "platform" for _, _, auth, _ in routes)


# --- the world: two tenants with real objects ---------------------------------------------

def build_tenant(platform: Api, name: str, domain: str) -> tuple[Api, dict]:
    """A tenant with a complete draft account, two members and a spare API key; returns its ids."""
    api = new_tenant(platform, name)
    assert api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": f"https://portal.{domain}"}}).status == 200
    account = api.post("/accounts", COMPLETE_ACCOUNT).json
    aid = account["account_id"]
    first = add_contact(api, aid, f"anna@{domain}", roles=["caretaker", "technical"])
    second = add_contact(api, aid, f"bob@{domain}", roles=["on_site_admin"])
    invitation = api.post(f"/accounts/{aid}/invitations", {"email": f"zoe@{domain}"})
    assert invitation.status == 201, invitation.json
    key = api.post("/api-keys", {"name": "spare"})
    assert key.status == 201, key.json
    notice = api.post("/notices", {"type": "outage", "title": {"de": "Störung"}, "body": {"de": "Störung"},
                                   "affected": {"account_ids": [aid]}})
    assert notice.status == 201, notice.json
    ids = {"account_id": aid, "person_id": first["person_id"], "other_person_id": second["person_id"],
           "key_id": key.json["api_key"]["key_id"], "job_id": first["welcome_mail_job_id"],
           "invitation_id": invitation.json["invitation_id"], "notice_id": notice.json["notice_id"]}
    return api, ids


@pytest.fixture
def world(platform):
    tenant_a, ids_a = build_tenant(platform, "Tenant A", "a.example")
    tenant_b, ids_b = build_tenant(platform, "Tenant B", "b.example")
    return tenant_a, ids_a, tenant_b, ids_b


def fill(template, values: dict):
    """Replaces "{name}" strings (whole values) in a JSON template and in a path."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def slots_of(method: str, path: str, params: list[str]) -> list[str]:
    body = BODIES.get((method, path))
    in_body = PLACEHOLDER.findall(str(body)) if body else []
    slots = list(dict.fromkeys(params + in_body))
    unknown = [s for s in slots if s not in PARAMETER_KINDS]
    assert not unknown, f"{method} {path}: unknown parameters {unknown}"
    return slots


def call(api: Api, method: str, path: str, values: dict, key: str | None = None):
    body = BODIES.get((method, path), {} if method in WRITE_METHODS else None)
    return api.call(method, fill(path, values), body=fill(body, values), key=key)


def randoms(slots) -> dict:
    return {slot: random_id(PARAMETER_KINDS[slot]) for slot in slots}



# --- isolation ------------------------------------------------------------------------------

@pytest.mark.parametrize("route", TENANT_ROUTES_WITH_IDS, ids=route_id)
def test_another_tenants_ids_answer_like_missing_ones_and_change_nothing(world, route):
    method, path, _, params = route
    tenant_a, ids_a, tenant_b, ids_b = world
    slots = slots_of(method, path, params)
    # every non-empty choice of slots filled with A's ids, the others with B's own real ids
    for size in range(1, len(slots) + 1):
        for chosen in itertools.combinations(slots, size):
            foreign = {s: (ids_a[s] if s in chosen else ids_b[s]) for s in slots}
            before = table_items()
            reply = call(tenant_b, method, path, foreign)
            assert table_items() == before, f"B's {method} {path} with A's {chosen} changed items"
            missing = {**foreign, **randoms(chosen)}
            baseline = call(tenant_b, method, path, missing)
            assert table_items() == before, f"B's {method} {path} with random {chosen} changed items"
            assert (reply.status, reply.json) == (baseline.status, baseline.json), (chosen, reply, baseline)
            assert reply.status >= 400, (chosen, reply)
            assert_error(reply, reply.status)
            if set(params) <= set(chosen):
                assert_error(reply, 404, "not_found")
    # A's own key with the same ids reaches real objects: the route works, so the 404 was isolation
    own_ids = {**ids_a, **OWN_IDS.get((method, path), lambda api: {})(tenant_a)}
    skip_ahead(61)  # past an invitation's resend cooldown
    own = call(tenant_a, method, path, {s: own_ids[s] for s in slots})
    assert 200 <= own.status < 300, (own.status, own.json)


def test_tenant_b_lists_show_nothing_of_tenant_a(world):
    _, ids_a, tenant_b, ids_b = world
    for path, id_field, own in (("/accounts", "account_id", ids_b["account_id"]),
                                ("/people", "person_id", ids_b["person_id"]),
                                ("/api-keys", "key_id", ids_b["key_id"])):
        seen = {item[id_field] for item in tenant_b.get(path).json["items"]}
        assert own in seen
        assert not seen & set(ids_a.values()), path
    assert tenant_b.get("/people?email=anna@a.example").json == {"items": [], "next_cursor": None}
    assert tenant_b.get("/tenant").json["name"] == "Tenant B"


def test_a_cursor_of_tenant_a_is_refused_by_tenant_b(world):
    tenant_a, ids_a, tenant_b, _ = world
    tenant_a.post("/accounts", {"name": "Second A"})
    cursor = tenant_a.get("/accounts?limit=1").json["next_cursor"]
    assert cursor
    assert_error(tenant_b.get(f"/accounts?limit=1&cursor={cursor}"), 400, fields={"cursor"})
    contacts_cursor = tenant_a.get(f"/accounts/{ids_a['account_id']}/contacts?limit=1").json["next_cursor"]
    assert contacts_cursor
    # B's own account, A's cursor: refused, never a page of A's members
    reply = tenant_b.get(f"/accounts/{world[3]['account_id']}/contacts?limit=1&cursor={contacts_cursor}")
    assert_error(reply, 400, fields={"cursor"})


# --- authentication and the kind of key --------------------------------------------------------

def _revoked_key(tenant_a: Api) -> str:
    reply = tenant_a.post("/api-keys", {"name": "to revoke"})
    secret = reply.json["secret"]
    assert tenant_a.delete(f"/api-keys/{reply.json['api_key']['key_id']}").status == 204
    return secret


def _call_route(api: Api, route, values: dict, headers: dict | None = None, body_for_all=None):
    method, path, _, _ = route
    body = BODIES.get((method, path), {} if method in WRITE_METHODS else None)
    if body_for_all is not None and method in WRITE_METHODS:
        body = body_for_all
    return api.call(method, fill(path, values), body=fill(body, values), headers=headers)


def _values(route, ids: dict) -> dict:
    method, path, _, params = route
    return {s: ids[s] for s in slots_of(method, path, params)}


def test_missing_garbage_unknown_or_revoked_credentials_answer_401_on_every_route(world):
    tenant_a, ids_a, _, _ = world
    revoked = _revoked_key(tenant_a)
    unknown = "rk_" + "a" * 16 + "_" + "0" * 64
    live = tenant_a.post("/api-keys", {"name": "live"}).json["secret"]
    wrong_secret = live[:-1] + ("0" if live[-1] != "0" else "1")  # a live key id with a wrong secret
    credentials = [{}, {"authorization": ""}, {"authorization": "Bearer"}, {"authorization": "Bearer    "},
                   {"authorization": "garbage"}, {"authorization": "Basic dXNlcjpwYXNz"},
                   {"authorization": "Bearer garbage"}, {"authorization": f"Bearer {unknown}"},
                   {"authorization": f"Bearer {revoked}"}, {"authorization": f"Bearer {wrong_secret}"},
                   {"authorization": f"Bearer {live}x"}, {"authorization": f"Bearer {PLATFORM_KEY}x"},
                   {"authorization": f"Bearer {PLATFORM_KEY[:-1]}"}, {"authorization": f"Token {live}"},
                   {"authorization": "Bearer rk_" + "A" * 16 + "_" + "0" * 64}, {"authorization": "Bearer \u00e9t\u00e9"}]
    anonymous = Api(tenant_a.http, None)
    before = table_items()
    failures = []
    for route in NON_PUBLIC_ROUTES:
        for headers in credentials:
            reply = _call_route(anonymous, route, _values(route, ids_a), headers)
            try:
                assert_error(reply, 401, "unauthenticated")
            except AssertionError:
                failures.append((route_id(route), headers, reply.status, reply.json))
    assert not failures, failures
    assert table_items() == before


def test_the_platform_key_on_every_tenant_route_answers_403(world, platform):
    _, ids_a, _, _ = world
    before = table_items()
    tenant_routes = [r for r in NON_PUBLIC_ROUTES if r[2] == "tenant"]
    assert tenant_routes
    failures = []
    for route in tenant_routes:
        reply = _call_route(platform, route, _values(route, ids_a))
        if reply.status != 403 or reply.error.get("code") != "forbidden":
            failures.append((route_id(route), reply.status, reply.json))
        else:
            assert_error(reply, 403, "forbidden")
    assert not failures, failures
    assert table_items() == before


def test_a_tenant_key_on_every_platform_route_answers_403(world):
    tenant_a, ids_a, _, _ = world
    platform_routes = [r for r in NON_PUBLIC_ROUTES if r[2] == "platform"]
    assert platform_routes
    before = table_items()
    for route in platform_routes:
        reply = _call_route(tenant_a, route, _values(route, ids_a), body_for_all={"name": "Sneaky"})
        assert_error(reply, 403, "forbidden")
    assert table_items() == before


def test_a_revoked_key_fails_at_once_and_other_keys_keep_working(world):
    tenant_a, _, _, _ = world
    reply = tenant_a.post("/api-keys", {"name": "short-lived"})
    secret, key_id = reply.json["secret"], reply.json["api_key"]["key_id"]
    assert tenant_a.get("/tenant", key=secret).status == 200
    assert tenant_a.delete(f"/api-keys/{key_id}").status == 204
    assert_error(tenant_a.get("/tenant", key=secret), 401, "unauthenticated")
    assert tenant_a.get("/tenant").status == 200


@pytest.mark.parametrize("route", [r for r in all_routes() if r[2] == "public"], ids=route_id)
def test_public_routes_answer_without_credentials(chalice_client, route):
    method, path, _, params = route
    if params:  # the invitation link's pages: an unknown link answers the 404 page, not a 401
        assert params == ["token"], "teach the test how to fill a public route's path parameters"
        form = {"content-type": "application/x-www-form-urlencoded"} if method == "POST" else {}
        response = chalice_client.http.request(method, path.replace("{token}", "A" * 43), headers=form)
        assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html")
        return
    reply = Api(chalice_client.http).call(method, path, body={} if method in WRITE_METHODS else None)
    assert 200 <= reply.status < 300, reply


# --- person tokens ----------------------------------------------------------------------------------

ACCOUNT_ROUTES = [r for r in all_routes() if r[2] in ("tenant", "person") and "account_id" in r[3]]


@pytest.mark.parametrize("route", ACCOUNT_ROUTES, ids=route_id)
def test_person_tokens_of_another_tenant_or_account_get_404_on_an_accounts_routes(world, platform, route):
    """The customer of tenant B's account, and the customer of another account of tenant A,
    answer 404 on every route of tenant A's account, and change nothing."""
    from tests.functional.portal_helpers import person_api, trusted_issuer

    method, path, _, params = route
    tenant_a, ids_a, tenant_b, ids_b = world
    other_account = tenant_a.post("/accounts", {"name": "Other A"}).json["account_id"]
    add_contact(tenant_a, other_account, "carol@a.example", kind="customer")
    add_contact(tenant_b, ids_b["account_id"], "boss@b.example", kind="customer")
    # the same e-mail as a member of A's account, but a person of tenant B
    add_contact(tenant_b, ids_b["account_id"], "anna@a.example", roles=["admin"])
    values = {s: ids_a.get(s) or random_id(PARAMETER_KINDS.get(s, "account")) for s in slots_of(method, path, params)}
    with trusted_issuer() as issuer:
        tenant_id = {api.key: api.get("/tenant").json["tenant_id"] for api in (tenant_a, tenant_b)}
        intruders = {"customer of tenant B": person_api(tenant_b, issuer, tenant_id[tenant_b.key], "boss@b.example"),
                     "B's anna@a.example": person_api(tenant_b, issuer, tenant_id[tenant_b.key], "anna@a.example"),
                     "customer of another A account": person_api(tenant_a, issuer, tenant_id[tenant_a.key],
                                                                 "carol@a.example")}
        before = table_items()
        for who, intruder in intruders.items():
            reply = call(intruder, method, path, values)
            assert reply.status == 404, (who, reply.status, reply.json)
            assert_error(reply, 404, "not_found")
        assert table_items() == before
