"""Portal identity and permissions (issue 3 §3): person tokens, /me, the permission policy of
every route (walked over the app's route table), C6 read-only fields, and the audit trail."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import app as app_module
from tests.functional.conftest import (
    COMPLETE_ACCOUNT, Api, add_contact, assert_error, dynamodb_operations, hide_from_by_person, random_id, skip_ahead,
    table_items,
)
from tests.functional.portal_helpers import person_api, trusted_issuer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def issuer(chalice_client):
    with trusted_issuer() as trusted:
        yield trusted


def tenant_id_of(api: Api) -> str:
    return api.get("/tenant").json["tenant_id"]


# --- the policy of every route -------------------------------------------------------------------

def policy_of(entry) -> str:
    view = entry.view_function
    auth = getattr(view, "auth", "public")
    if auth in ("public", "platform"):
        return auth
    if auth == "person":
        return "self"
    return getattr(view, "people", None) or "api_key"


def route_policies() -> dict[tuple[str, str], str]:
    return {(method, path): policy_of(entry)
            for path, methods in app_module.app.routes.items() for method, entry in methods.items()}


def documented_policies() -> dict[tuple[str, str], str]:
    """The matrix in docs/permissions.md: rows like | `GET /accounts/{account_id}` | member | …"""
    rows = {}
    for line in (ROOT / "docs" / "permissions.md").read_text().splitlines():
        match = re.match(r"\|\s*`([A-Z]+) ([^`]+)`\s*\|\s*([a-z_]+)\s*\|", line)
        if match:
            rows[(match.group(1), match.group(2))] = match.group(3)
    return rows


def test_every_route_has_a_policy_entry_in_the_matrix_and_it_matches_the_route():
    actual, documented = route_policies(), documented_policies()
    missing = sorted(f"{m} {p}" for m, p in actual.keys() - documented.keys())
    assert not missing, f"give these routes a row in docs/permissions.md: {missing}"
    stale = sorted(f"{m} {p}" for m, p in documented.keys() - actual.keys())
    assert not stale, f"docs/permissions.md lists routes the app no longer has: {stale}"
    wrong = {f"{m} {p}": (documented[(m, p)], actual[(m, p)]) for m, p in actual if documented[(m, p)] != actual[(m, p)]}
    assert not wrong, f"(documented, route) policies differ: {wrong}"
    assert set(actual.values()) <= {"public", "platform", "api_key", "member", "manage", "self"}


def test_people_policies_open_only_account_routes_and_new_routes_default_to_api_key_only():
    from chalice import Blueprint

    from chalicelib.handlers.http import route

    for (method, path), policy in route_policies().items():
        if policy in ("member", "manage"):
            assert "{account_id}" in path, f"{method} {path}: a people policy needs the account in the path"
    bp = Blueprint("probe")

    @route(bp, "/probe/{account_id}", responses={200: None})
    def probe(call, account_id):  # pragma: no cover - never called
        return {}

    assert probe.people is None and probe.auth == "tenant"


# A scene per call: an account with its customer, an admin, a plain member, a target member,
# an inactive member, and an outsider (customer of another account of the same tenant).
ROLES = ("api_key", "customer", "admin", "member", "inactive", "outsider")
BODIES = {
    ("PATCH", "/accounts/{account_id}"): {"language": "fr"},
    ("POST", "/accounts/{account_id}/contacts"): {"email": "newcomer@x.example"},
    ("PATCH", "/accounts/{account_id}/contacts/{person_id}"): {"permissions": ["billing"]},
    ("PUT", "/accounts/{account_id}/designated-contacts"): {"technical": "{person_id}"},
    ("PATCH", "/me/memberships/{account_id}"): {"notifications": ["outage"]},
    ("POST", "/accounts/{account_id}/invitations"): {"email": "invitee2@x.example"},
    ("POST", "/accounts/{account_id}/invitations/batch"): {"invitations": [{"email": "invitee3@x.example"}]},
}
PARAMETERS = {"account_id", "person_id", "invitation_id"}


def scene(api: Api) -> dict:
    aid = api.post("/accounts", COMPLETE_ACCOUNT).json["account_id"]
    other = api.post("/accounts", {"name": "Other AG"}).json["account_id"]
    ids = {"account_id": aid}
    ids["customer"] = add_contact(api, aid, "cu@x.example", kind="customer")["person_id"]
    ids["admin"] = add_contact(api, aid, "ad@x.example", roles=["admin"])["person_id"]
    ids["member"] = add_contact(api, aid, "me@x.example", permissions=["support"])["person_id"]
    ids["person_id"] = add_contact(api, aid, "target@x.example")["person_id"]
    ids["inactive"] = add_contact(api, aid, "in@x.example", roles=["admin"])["person_id"]
    assert api.patch(f"/accounts/{aid}/contacts/{ids['inactive']}", {"status": "inactive"}).status == 200
    add_contact(api, other, "out@x.example", kind="customer")
    # each scene invites its own address: a tenant may send one address 5 invitation mails a day
    invitation = api.post(f"/accounts/{aid}/invitations", {"email": f"invitee-{aid}@x.example"})
    assert invitation.status == 201, invitation.json
    ids["invitation_id"] = invitation.json["invitation_id"]
    return ids


EMAILS = {"customer": "cu@x.example", "admin": "ad@x.example", "member": "me@x.example", "inactive": "in@x.example",
          "outsider": "out@x.example"}


def expected(policy: str, role: str, has_account: bool) -> str:
    """'ok' (the call is let through), 403 or 404."""
    if role == "api_key":
        return "403" if policy == "self" else "ok"
    if policy == "self":
        return "404" if has_account and role in ("inactive", "outsider") else "ok"
    if has_account and role in ("inactive", "outsider"):
        return "404"  # no active membership: like a missing account
    if policy == "member" or (policy == "manage" and role in ("customer", "admin")):
        return "ok"
    return "403"


def fill(value, ids):
    if isinstance(value, str):
        return re.sub(r"\{([a-z_]+)\}", lambda m: ids[m.group(1)], value)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


TENANT_SIDE = sorted((m, p, pol) for (m, p), pol in route_policies().items() if pol in ("api_key", "member", "manage", "self"))


@pytest.mark.parametrize("method,path,policy", TENANT_SIDE, ids=[f"{m} {p}" for m, p, _ in TENANT_SIDE])
def test_the_permission_matrix_route_by_route(api, issuer, method, path, policy):
    params = set(re.findall(r"\{([a-z_]+)\}", path))
    foreign = params - PARAMETERS  # ids of tenant-level objects (key_id, job_id): closed to people anyway
    assert not foreign or policy == "api_key", f"{method} {path}: teach the walk to fill {foreign}"
    has_account = "account_id" in params
    tenant_id = tenant_id_of(api)
    failures = []
    # a fresh scene for each caller of a write on an account; reads and tenant routes share one
    shared = None if method != "GET" and has_account else scene(api)
    for role in ROLES:
        if role == "api_key" and foreign:
            continue  # the key's own 2xx on these routes is tested elsewhere; a random id would be 404
        ids = shared or scene(api)
        ids = {**ids, **{name: random_id(name.removesuffix("_id")) for name in foreign}}
        caller = api if role == "api_key" else person_api(api, issuer, tenant_id, EMAILS[role])
        body = BODIES.get((method, path), {} if method in ("POST", "PUT", "PATCH") else None)
        want = expected(policy, role, has_account)
        before = table_items() if want != "ok" else None
        reply = caller.call(method, fill(path, ids), body=fill(body, ids))
        got = "ok" if reply.status not in (401, 403, 404) else str(reply.status)
        if got != want:
            failures.append((role, want, reply.status, reply.json))
        if want != "ok":
            assert_error(reply, int(want))
            assert table_items() == before, (role, "a refused call changed items")
    assert not failures, failures


def test_a_person_never_reaches_the_tenant_wide_routes(api, issuer, account):
    add_contact(api, account["account_id"], "boss@x.example", kind="customer")
    boss = person_api(api, issuer, tenant_id_of(api), "boss@x.example")
    for method, path in (("GET", "/accounts"), ("POST", "/accounts"), ("GET", "/tenant"), ("PATCH", "/tenant"),
                         ("GET", "/people"), ("GET", "/api-keys"), ("POST", "/api-keys")):
        reply = boss.call(method, path, body={"name": "x"} if method != "GET" else None)
        assert_error(reply, 403, "forbidden")


# --- tokens ---------------------------------------------------------------------------------------

def test_token_refusals(api, issuer, account):
    tenant_id = tenant_id_of(api)
    add_contact(api, account["account_id"], "anna@x.example")
    ok = person_api(api, issuer, tenant_id, "anna@x.example")
    assert ok.get("/me").status == 200
    # authenticated, but no person of the tenant: 403 (no access)
    assert_error(person_api(api, issuer, tenant_id, "nobody@x.example").get("/me"), 403, "forbidden")
    assert_error(person_api(api, issuer, None, "anna@x.example").get("/me"), 403, "forbidden")
    assert_error(person_api(api, issuer, "garbage", "anna@x.example").get("/me"), 403, "forbidden")
    assert_error(person_api(api, issuer, tenant_id, "anna@x.example", email_verified=False).get("/me"), 403)
    # not valid: 401
    assert_error(person_api(api, issuer, tenant_id, "anna@x.example", exp=1).get("/me"), 401, "unauthenticated")
    assert_error(person_api(api, issuer, tenant_id, "anna@x.example", aud="someone-else").get("/me"), 401)
    assert_error(person_api(api, issuer, tenant_id, "anna@x.example", iss="https://evil.example").get("/me"), 401)
    tampered = ok.key[:-4] + ("AAAA" if not ok.key.endswith("AAAA") else "BBBB")
    assert_error(Api(api.http, tampered).get("/me"), 401, "unauthenticated")
    # the e-mail matches case-insensitively, like every e-mail of the API
    assert person_api(api, issuer, tenant_id, "Anna@X.example").get("/me").status == 200


def test_a_time_claim_that_is_no_number_or_a_missing_iat_is_401(api, issuer, account):
    import json
    import time

    tenant_id = tenant_id_of(api)
    add_contact(api, account["account_id"], "anna@x.example")
    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": issuer.kid}).encode()
    now = int(time.time())
    base = {"iss": issuer.issuer, "aud": issuer.audience, "email": "anna@x.example", "custom:tenant_id": tenant_id}
    assert Api(api.http, issuer.sign(header, json.dumps({**base, "iat": now, "exp": now + 600}).encode())).get(
        "/me").status == 200
    for claims in ({"iat": now, "exp": str(now + 600)}, {"exp": now + 600}, {"iat": str(now), "exp": now + 600}):
        token = issuer.sign(header, json.dumps({**base, **claims}).encode())
        assert_error(Api(api.http, token).get("/me"), 401, "unauthenticated")


def test_hostile_json_in_a_token_is_401_never_500(api, issuer, account):
    """Deeply nested JSON makes json.loads raise RecursionError: in the header of a token nobody
    signed, or in the payload of one the issuer did, the answer is 401."""
    import base64
    import json

    tenant_id = tenant_id_of(api)
    add_contact(api, account["account_id"], "anna@x.example")
    deep = b"[" * 3000

    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    _, payload, signature = issuer.issue(tenant_id, "anna@x.example").split(".")
    hostile_header = segment(b'{"alg":"RS256","kid":"' + issuer.kid.encode() + b'","x":' + deep)
    signed_header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": issuer.kid}).encode()
    for token in (f"{hostile_header}.{payload}.{signature}",
                  issuer.sign(signed_header, b'{"email":' + deep),
                  issuer.sign(signed_header, deep)):
        assert_error(Api(api.http, token).get("/me"), 401, "unauthenticated")
    assert person_api(api, issuer, tenant_id, "anna@x.example").get("/me").status == 200


def test_without_an_issuer_configured_a_token_is_401(api, account):
    from infra.local_stack.token_issuer import TokenIssuer

    token = TokenIssuer().issue(tenant_id_of(api), "anna@x.example")
    assert_error(Api(api.http, token).get("/me"), 401, "unauthenticated")


def test_a_fixed_tenant_serves_a_single_tenant_portal(api, chalice_client, account):
    add_contact(api, account["account_id"], "anna@x.example")
    with trusted_issuer(ROSTER_OIDC_TENANT_ID=tenant_id_of(api)) as single:
        reply = person_api(api, single, None, "anna@x.example").get("/me")
        assert reply.status == 200, reply.json
        assert reply.json["person"]["email"] == "anna@x.example"


def test_the_jwks_is_fetched_once_and_again_for_an_unknown_kid(api, issuer, account):
    add_contact(api, account["account_id"], "anna@x.example")
    tenant_id = tenant_id_of(api)
    for _ in range(3):
        assert person_api(api, issuer, tenant_id, "anna@x.example").get("/me").status == 200
    assert len(issuer.fetched) == 1


# --- /me ------------------------------------------------------------------------------------------

def test_me_lists_the_person_and_every_membership_for_the_account_picker(api, issuer):
    first = api.post("/accounts", COMPLETE_ACCOUNT).json["account_id"]
    second = api.post("/accounts", {"name": "Beispiel GmbH"}).json["account_id"]
    third = api.post("/accounts", {"name": "Zeta SA"}).json["account_id"]
    add_contact(api, first, "anna@x.example", kind="customer", first_name="Anna")
    add_contact(api, second, "anna@x.example", roles=["caretaker"], permissions=["support"])
    pid = add_contact(api, third, "anna@x.example", roles=["admin"])["person_id"]
    api.patch(f"/accounts/{third}/contacts/{pid}", {"status": "inactive"})
    reply = person_api(api, issuer, tenant_id_of(api), "anna@x.example").get("/me")
    assert reply.status == 200, reply.json
    assert reply.json["person"]["person_id"] == pid and reply.json["person"]["first_name"] == "Anna"
    rows = {row["account_id"]: row for row in reply.json["memberships"]}
    assert rows[first] | {} == {**rows[first], "company_name": "Muster AG", "kind": "customer", "status": "active",
                                "can_manage": True}
    assert rows[second]["company_name"] == "Beispiel GmbH" and rows[second]["roles"] == ["caretaker"]
    assert rows[second]["permissions"] == ["support"] and rows[second]["can_manage"] is False
    assert rows[third]["status"] == "inactive" and rows[third]["can_manage"] is False  # only active grants
    assert [row["account_id"] for row in reply.json["memberships"]][-1] == third  # active ones first
    assert_error(api.get("/me"), 403, "forbidden")  # an API key is not a person


def test_me_takes_the_person_from_the_by_person_query_and_the_table_only_when_the_index_lags(api, issuer, account):
    pid = add_contact(api, account["account_id"], "anna@x.example", first_name="Anna")["person_id"]
    anna = person_api(api, issuer, tenant_id_of(api), "anna@x.example")
    with dynamodb_operations() as operations:
        shown = anna.get("/me")
    assert shown.status == 200 and shown.json["person"]["first_name"] == "Anna"
    assert operations == ["Query", "Query", "BatchGetItem"]  # the token's Query, then the person with memberships
    hide_from_by_person(tenant_id_of(api), pid)
    with dynamodb_operations() as operations:
        lagging = anna.get("/me")
    assert lagging.status == 200 and lagging.json == shown.json
    assert operations == ["Query", "Query", "GetItem", "BatchGetItem"]


def test_patch_me_changes_only_the_persons_own_details(api, issuer, account):
    add_contact(api, account["account_id"], "anna@x.example")
    anna = person_api(api, issuer, tenant_id_of(api), "anna@x.example")
    reply = anna.patch("/me", {"first_name": "Anna", "last_name": "Muster", "phone": "+41791234567", "language": "fr"})
    assert reply.status == 200, reply.json
    assert (reply.json["first_name"], reply.json["phone"], reply.json["language"]) == ("Anna", "+41791234567", "fr")
    assert_error(anna.patch("/me", {"email": "other@x.example"}), 400, fields={"email"})
    assert_error(anna.patch("/me", {"first_name": "A", "version": 1}), 409, "version_conflict")
    assert anna.patch("/me", {"phone": None, "version": reply.json["version"]}).json["phone"] is None
    assert_error(anna.patch(f"/me/memberships/{account['account_id']}", {"roles": ["admin"], "notifications": []}),
                 400, fields={"roles"})


def test_patch_my_membership_sets_my_notification_choices(api, issuer, account):
    aid = account["account_id"]
    pid = add_contact(api, aid, "anna@x.example", notifications=["billing"])["person_id"]
    anna = person_api(api, issuer, tenant_id_of(api), "anna@x.example")
    reply = anna.patch(f"/me/memberships/{aid}", {"notifications": ["outage", "maintenance"]})
    assert reply.status == 200, reply.json
    assert reply.json["notifications"] == ["maintenance", "outage"]
    assert api.get(f"/accounts/{aid}/contacts/{pid}").json["notifications"] == ["maintenance", "outage"]
    assert_error(anna.patch(f"/me/memberships/{random_id('account')}", {"notifications": []}), 404, "not_found")
    api.patch(f"/accounts/{aid}/contacts/{pid}", {"status": "inactive"})
    assert_error(anna.patch(f"/me/memberships/{aid}", {"notifications": []}), 404, "not_found")


# --- C6: fields owned by the level above ------------------------------------------------------------

def test_provider_owned_account_fields_answer_403_naming_each_field(api, issuer, account):
    aid = account["account_id"]
    add_contact(api, aid, "boss@x.example", kind="customer")
    boss = person_api(api, issuer, tenant_id_of(api), "boss@x.example")
    before = table_items()
    reply = boss.patch(f"/accounts/{aid}", {"name": "Mine AG"})
    assert_error(reply, 403, "forbidden", fields={"name"})
    assert reply.error["details"] == [{"field": "name", "problem": "is managed by your provider"}]
    reply = boss.patch(f"/accounts/{aid}", {"business_type": "retail", "status": "inactive",
                                            "email_domains": ["x.example"], "language": "fr"})
    assert_error(reply, 403, "forbidden", fields={"business_type", "status", "email_domains"})
    assert table_items() == before
    changed = boss.patch(f"/accounts/{aid}", {"language": "it", "address": {**COMPLETE_ACCOUNT["address"], "city": "Bern"}})
    assert changed.status == 200, changed.json
    assert changed.json["address"]["city"] == "Bern" and changed.json["name"] == "Muster AG"
    assert api.patch(f"/accounts/{aid}", {"name": "Staff may AG"}).status == 200  # the provider's own key may


# --- the audit trail ----------------------------------------------------------------------------------

def test_each_account_scoped_write_records_who_acted(api, issuer):
    key_id = api.key.split("_")[1]
    aid = api.post("/accounts", COMPLETE_ACCOUNT).json["account_id"]
    boss_id = add_contact(api, aid, "boss@x.example", kind="customer")["person_id"]
    care = add_contact(api, aid, "care@x.example", roles=["caretaker"])["person_id"]
    assert api.patch(f"/accounts/{aid}", {"name": "Muster Holding AG"}).status == 200
    boss = person_api(api, issuer, tenant_id_of(api), "boss@x.example")
    # the boss adds directly only someone who already shares an account with them (issue 14 §1)
    sister = api.post("/accounts", {**COMPLETE_ACCOUNT, "name": "Muster Schwester AG"}).json["account_id"]
    add_contact(api, sister, "boss@x.example")
    add_contact(api, sister, "site@x.example")
    site = boss.post(f"/accounts/{aid}/contacts", {"email": "site@x.example", "roles": ["on_site_admin"]})
    assert site.status == 201, site.json
    assert boss.patch(f"/accounts/{aid}/contacts/{care}", {"permissions": ["support"]}).status == 200
    assert boss.put(f"/accounts/{aid}/designated-contacts", {"technical": care}).status == 200
    assert boss.delete(f"/accounts/{aid}/contacts/{site.json['person_id']}").status == 204
    assert api.post(f"/accounts/{aid}/contacts", {"email": "s2@x.example", "roles": ["on_site_admin"]}).status == 201
    assert api.post(f"/accounts/{aid}/onboarding/complete").status == 200

    entries = api.get(f"/accounts/{aid}/audit").json["items"]
    by_key, by_boss = {"type": "api_key", "id": f"key_{key_id}"}, {"type": "person", "id": boss_id}
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("account.onboarded", by_key, aid),
        ("contact.added", by_key, entries[1]["target"]),
        ("contact.removed", by_boss, site.json["person_id"]),
        ("designated_contacts.changed", by_boss, aid),
        ("contact.updated", by_boss, care),
        ("contact.added", by_boss, site.json["person_id"]),
        ("account.updated", by_key, aid),
        ("contact.added", by_key, care),
        ("contact.added", by_key, boss_id),
        ("account.created", by_key, aid),
    ]
    assert entries[6]["changed"] == ["name"] and entries[4]["changed"] == ["permissions"]
    assert entries[3]["changed"] == ["technical"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["at"]) for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    # paginated, newest first, the pages in order
    first = api.get(f"/accounts/{aid}/audit?limit=4").json
    second = api.get(f"/accounts/{aid}/audit?limit=4&cursor={first['next_cursor']}").json
    assert first["items"] + second["items"] == entries[:8]
    # readable by the customer and admins; closed to plain members (403) and strangers (404)
    assert boss.get(f"/accounts/{aid}/audit").status == 200
    assert_error(api.get(f"/accounts/{random_id('account')}/audit"), 404, "not_found")


def test_a_refused_or_failed_change_writes_no_audit_entry(api, account):
    aid = account["account_id"]
    count = len(api.get(f"/accounts/{aid}/audit").json["items"])
    assert_error(api.patch(f"/accounts/{aid}", {"name": "X", "version": 99}), 409, "version_conflict")
    assert_error(api.post(f"/accounts/{aid}/onboarding/complete"), 422)
    add_contact(api, aid, "t@x.example", roles=["technical"])
    assert_error(api.post(f"/accounts/{aid}/contacts", {"email": "u@x.example", "roles": ["technical"]}), 409)
    assert len(api.get(f"/accounts/{aid}/audit").json["items"]) == count + 1  # only the successful add


def test_invitations_are_audited_with_who_acted(api, issuer, account):
    aid = account["account_id"]
    boss_id = add_contact(api, aid, "boss@x.example", kind="customer")["person_id"]
    boss = person_api(api, issuer, tenant_id_of(api), "boss@x.example")
    by_key = api.post(f"/accounts/{aid}/invitations", {"email": "one@x.example", "roles": ["caretaker"]})
    assert by_key.status == 201, by_key.json
    by_boss = boss.post(f"/accounts/{aid}/invitations", {"email": "two@x.example"})
    assert by_boss.status == 201, by_boss.json
    skip_ahead(61)  # past the resend cooldown
    assert boss.post(f"/accounts/{aid}/invitations/{by_key.json['invitation_id']}/resend").status == 200
    assert api.delete(f"/accounts/{aid}/invitations/{by_boss.json['invitation_id']}").status == 204
    entries = api.get(f"/accounts/{aid}/audit?limit=4").json["items"]
    key_ref = {"type": "api_key", "id": "key_" + api.key.split("_")[1]}
    boss_ref = {"type": "person", "id": boss_id}
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("invitation.revoked", key_ref, by_boss.json["invitation_id"]),
        ("invitation.resent", boss_ref, by_key.json["invitation_id"]),
        ("invitation.created", boss_ref, by_boss.json["invitation_id"]),
        ("invitation.created", key_ref, by_key.json["invitation_id"]),
    ]
    assert entries[3]["changed"] == ["roles"]


def test_the_invitees_answer_is_audited_as_their_own_act(api, chalice_client, account):
    from tests.functional.invitation_helpers import accept, decline, invite, token_of

    aid = account["account_id"]
    yes, no = invite(api, aid, "yes@x.example"), invite(api, aid, "no@x.example")
    assert accept(chalice_client, token_of(yes)).status == 200
    assert decline(chalice_client, token_of(no)).status == 200
    entries = api.get(f"/accounts/{aid}/audit?limit=2").json["items"]
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("invitation.declined", {"type": "person", "id": no["person_id"]}, no["invitation_id"]),
        ("invitation.accepted", {"type": "person", "id": yes["person_id"]}, yes["invitation_id"]),
    ]
