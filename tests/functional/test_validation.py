"""Bad input answers a 4xx in the one error format, naming the field; nothing ever answers 5xx."""
import base64
import json
import random
from urllib.parse import quote

import pytest

import app as app_module
from tests.functional.conftest import Api, COMPLETE_ACCOUNT, add_contact, assert_error, random_id, table_items


@pytest.fixture
def member(api, account) -> dict:
    return add_contact(api, account["account_id"], "member@example.com", roles=["caretaker"])


# --- the body as a whole --------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{", b"{'name': 'x'}", b"{\"name\": }", b"nul", b"\xff\xfe{}", b"{\"a\":1}}",
                                 b"[1,", b"\"unterminated"])
def test_malformed_json_is_400(api, raw):
    reply = api.call("POST", "/accounts", raw=raw)
    assert_error(reply, 400, fields={"body"})


@pytest.mark.parametrize("raw", [b"[]", b"[{\"name\": \"x\"}]", b"\"text\"", b"42", b"true", b"null"])
def test_a_body_that_is_not_an_object_is_400(api, raw):
    assert_error(api.call("POST", "/accounts", raw=raw), 400, fields={"body"})


def test_body_over_64_kib_is_413(api, account):
    big = json.dumps({"name": "x" * (64 * 1024)}).encode()
    assert_error(api.call("POST", "/accounts", raw=big), 413, fields={"body"})
    assert_error(api.call("PATCH", f"/accounts/{account['account_id']}", raw=big), 413, fields={"body"})
    assert_error(api.call("POST", f"/accounts/{account['account_id']}/contacts", raw=big), 413, fields={"body"})
    # just under the limit is read (and then refused for its content, not its size)
    padded = b'{"name": "' + b"x" * (64 * 1024 - 20) + b'"}'
    assert len(padded) <= 64 * 1024
    assert_error(api.call("POST", "/accounts", raw=padded), 400, fields={"name"})


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_foreign_content_type_on_a_post_is_415(api, content_type):
    before = table_items()
    reply = api.call("POST", "/accounts", raw=json.dumps(COMPLETE_ACCOUNT).encode(),
                     headers={"content-type": content_type})
    assert_error(reply, 415, "unsupported_media_type", fields={"Content-Type"})
    assert table_items() == before


def test_json_with_a_charset_is_accepted(api):
    reply = api.call("POST", "/accounts", raw=json.dumps({"name": "Charset AG"}).encode(),
                     headers={"content-type": "application/json; charset=utf-8"})
    assert reply.status == 201, reply.json


def test_an_empty_body_counts_as_an_empty_object(api):
    reply = api.call("POST", "/accounts", raw=b"")
    assert reply.status == 201, reply.json


# --- fields ---------------------------------------------------------------------------------------

ACCOUNT_CASES = [
    ({"name": 5}, "name"),
    ({"name": ["x"]}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": ""}, "name"),
    ({"business_type": "bakery"}, "business_type"),
    ({"business_type": 1}, "business_type"),
    ({"language": "es"}, "language"),
    ({"address": "Bahnhofstrasse 1"}, "address"),
    ({"address": {"country": "ch"}}, "address.country"),
    ({"address": {"country": "CHE"}}, "address.country"),
    ({"address": {"country": "C1"}}, "address.country"),
    ({"address": {"postal_code": 8001}}, "address.postal_code"),
    ({"address": {"planet": "Earth"}}, "address.planet"),
    ({"address": {"city": "x" * 101}}, "address.city"),
    ({"email_domains": "example.com"}, "email_domains"),
    ({"email_domains": ["not a domain"]}, "email_domains[0]"),
    ({"email_domains": ["ok.example", "bad_domain"]}, "email_domains[1]"),
    ({"email_domains": [f"d{i}.example" for i in range(21)]}, "email_domains"),
    ({"status": "active"}, "status"),
    ({"account_id": "acc_aaaaaaaaaaaaaaaa"}, "account_id"),
    ({"version": 1}, "version"),
    ({"Name": "Muster"}, "Name"),
]


@pytest.mark.parametrize("body,field", ACCOUNT_CASES, ids=[c[1] + ":" + json.dumps(c[0])[:30] for c in ACCOUNT_CASES])
def test_bad_account_fields_are_400_naming_the_field(api, body, field):
    reply = api.post("/accounts", body)
    assert_error(reply, 400, "invalid_request", fields={field})
    assert not [item for item in table_items() if item["sk"]["S"] == "ACCOUNT"]


def test_every_bad_field_is_named_at_once(api):
    reply = api.post("/accounts", {"name": 1, "language": "xx", "extra": True, "address": {"country": "x"}})
    assert_error(reply, 400, fields={"name", "language", "extra", "address.country"})


CONTACT_CASES = [
    ({}, "email"),
    ({"email": "no-at-sign"}, "email"),
    ({"email": "two@@example.com"}, "email"),
    ({"email": "a b@example.com"}, "email"),
    ({"email": "anna@example"}, "email"),
    ({"email": 42}, "email"),
    ({"email": None}, "email"),
    ({"email": "x" * 250 + "@example.com"}, "email"),
    ({"email": "ok@example.com", "phone": "0441234567"}, "phone"),
    ({"email": "ok@example.com", "phone": "+41 44 123 45 67"}, "phone"),
    ({"email": "ok@example.com", "phone": "+0441234567"}, "phone"),
    ({"email": "ok@example.com", "phone": "+4112"}, "phone"),
    ({"email": "ok@example.com", "phone": 41441234567}, "phone"),
    ({"email": "ok@example.com", "kind": "guest"}, "kind"),
    ({"email": "ok@example.com", "kind": "owner"}, "kind"),
    ({"email": "ok@example.com", "roles": ["boss"]}, "roles[0]"),
    ({"email": "ok@example.com", "roles": "caretaker"}, "roles"),
    ({"email": "ok@example.com", "roles": ["admin"] * 7}, "roles"),
    ({"email": "ok@example.com", "permissions": ["billing", "root"]}, "permissions[1]"),
    ({"email": "ok@example.com", "permissions": ["billing"] * 6}, "permissions"),
    ({"email": "ok@example.com", "notifications": ["outage", None]}, "notifications[1]"),
    ({"email": "ok@example.com", "notifications": ["general"] * 6}, "notifications"),
    ({"email": "ok@example.com", "language": "EN"}, "language"),
    ({"email": "ok@example.com", "first_name": "x" * 101}, "first_name"),
    ({"email": "ok@example.com", "status": "active"}, "status"),
    ({"email": "ok@example.com", "person_id": "per_aaaaaaaaaaaaaaaa"}, "person_id"),
]


@pytest.mark.parametrize("body,field", CONTACT_CASES, ids=[c[1] + ":" + json.dumps(c[0])[:40] for c in CONTACT_CASES])
def test_bad_contact_fields_are_400_naming_the_field(api, account, body, field):
    before = table_items()
    reply = api.post(f"/accounts/{account['account_id']}/contacts", body)
    assert_error(reply, 400, "invalid_request", fields={field})
    assert table_items() == before


def test_bad_contact_changes_are_400(api, account, member):
    path = f"/accounts/{account['account_id']}/contacts/{member['person_id']}"
    for body, field in (({}, "body"), ({"status": "pending"}, "status"), ({"roles": ["x"]}, "roles[0]"),
                        ({"kind": "customer"}, "kind"), ({"version": "1", "roles": []}, "version"),
                        ({"version": 0, "roles": []}, "version"), ({"email": "new@example.com"}, "email")):
        assert_error(api.patch(path, body), 400, fields={field})


def test_bad_person_changes_are_400(api, member):
    path = f"/people/{member['person_id']}"
    for body, field in (({}, "body"), ({"email": "nope"}, "email"), ({"phone": "12345"}, "phone"),
                        ({"language": "xx"}, "language"), ({"first_name": 3}, "first_name"),
                        ({"person_id": "per_aaaaaaaaaaaaaaaa"}, "person_id"), ({"version": True, "phone": None}, "version")):
        assert_error(api.patch(path, body), 400, fields={field})


def test_bad_designated_contacts_bodies_are_400(api, account, member):
    path = f"/accounts/{account['account_id']}/designated-contacts"
    for body, field in (({}, "body"), ({"technical": "anna"}, "technical"), ({"administrative": 5}, "administrative"),
                        ({"billing": member["person_id"]}, "billing"), ({"technical": [member["person_id"]]}, "technical")):
        assert_error(api.put(path, body), 400, fields={field})


def test_bad_if_match_is_400(api, account):
    reply = api.patch(f"/accounts/{account['account_id']}", {"name": "x"}, headers={"if-match": "yesterday"})
    assert_error(reply, 400, fields={"If-Match"})


def test_text_that_is_not_valid_unicode_is_400(api, account):
    # a lone surrogate is valid JSON ("\ud800") but not text that can be stored
    raw = b'{"name": "Muster \\ud800 AG"}'
    assert_error(api.call("POST", "/accounts", raw=raw), 400, fields={"name"})
    raw = b'{"email": "x\\udfff@example.com"}'
    assert_error(api.call("POST", f"/accounts/{account['account_id']}/contacts", raw=raw), 400, fields={"email"})


# --- query strings and cursors --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/accounts", "/people", "/api-keys", "/accounts/{aid}/contacts", "/people/{pid}/access"])
def test_invalid_limits_are_400(api, account, member, path):
    path = path.format(aid=account["account_id"], pid=member["person_id"])
    for limit in ("0", "101", "abc", "-1", "1.5", "", "99999999999999999999"):
        assert_error(api.get(f"{path}?limit={quote(limit)}"), 400, fields={"limit"})
    assert api.get(f"{path}?limit=100").status == 200
    assert api.get(f"{path}?limit=1").status == 200


def test_unknown_or_bad_query_parameters_are_400(api, account):
    assert_error(api.get("/accounts?sort=name"), 400, fields={"sort"})
    assert_error(api.get("/accounts?status=deleted"), 400, fields={"status"})
    assert_error(api.get("/accounts?warning=no_coffee"), 400, fields={"warning"})
    assert_error(api.get(f"/accounts/{account['account_id']}/contacts?role=boss"), 400, fields={"role"})
    assert_error(api.get(f"/accounts/{account['account_id']}/contacts?kind=owner"), 400, fields={"kind"})
    assert_error(api.get(f"/accounts/{account['account_id']}/contacts?status=gone"), 400, fields={"status"})
    assert_error(api.get("/people?email=not-an-email"), 400, fields={"email"})


def _encode(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


CURSOR_LISTS = ["/accounts", "/accounts?status=draft", "/accounts?warning=no_caretaker", "/people", "/api-keys",
                "/accounts/{aid}/contacts", "/accounts/{aid}/contacts?role=caretaker", "/people/{pid}/access"]


def test_bad_and_tampered_cursors_are_400_on_every_list(api):
    aids = [api.post("/accounts", {"name": f"A{i}"}).json["account_id"] for i in range(3)]
    pid = None
    for i in range(3):
        pid = add_contact(api, aids[0], f"p{i}@example.com", roles=["caretaker"])["person_id"]
        add_contact(api, aids[1 + i % 2], f"p{i}@example.com")
        api.post("/api-keys", {"name": f"k{i}"})
    add_contact(api, aids[2], "p2@example.com")
    failures = []
    for template in CURSOR_LISTS:
        path = template.format(aid=aids[0], pid=pid)
        sep = "&" if "?" in path else "?"
        cursor = api.get(f"{path}{sep}limit=1").json["next_cursor"]
        assert cursor, path
        key = _decode(cursor)
        some_key = sorted(k for k in key if k != "pk")[0]
        tampered = [
            "not-a-cursor", "%%%", cursor[:-3], cursor[::-1], _encode([1, 2]), _encode("x"), _encode({}),
            _encode({k: {"S": "x"} for k in key}),                              # another partition
            _encode({**key, some_key: {"S": "1"} if "N" in key[some_key] else {"N": "1"}}),  # wrong key type
            _encode({**key, some_key: {"N": "one"}}),
            _encode({**key, "extra": {"S": "x"}}),                              # an attribute too many
            _encode({**key, some_key: {"S": 1}}),                               # a value of the wrong type
            _encode({**key, some_key: {"BOOL": True}}),
            _encode({k: v for k, v in key.items() if k != some_key}),          # a key missing
            _encode({k: v for k, v in key.items() if k != "sk"}),
            _encode({**key, "sk": {"S": "x" * 3000}}),                          # too long for a key
            "A" * 3000,
        ]
        for bad in tampered:
            reply = api.get(f"{path}{sep}limit=1&cursor={quote(bad)}")
            if reply.status != 400 or reply.fields() != {"cursor"}:
                failures.append((path, bad[:60], reply.status, reply.json))
    assert not failures, failures


# --- no input yields a 5xx -------------------------------------------------------------------------

def _random_json(rng: random.Random, depth: int = 0):
    """Random JSON values biased towards the API's field names and vocabularies."""
    choice = rng.random()
    scalars = [None, True, False, 0, -1, 1, 2 ** 31, 10 ** 40, 1.5, -0.0, "", " ", "x", "é" * 3, "\u0000",
               "\ud800", "a" * 300, "+41441234567", "CH", "ch", "de", "active", "inactive", "draft",
               "customer", "contact", "guest", "caretaker", "technical", "administrative", "billing",
               "anna@example.com", " Anna@Example.COM ", "acc_aaaaaaaaaaaaaaaa", "per_aaaaaaaaaaaaaaaa",
               "example.com", "{}", "[]", "null", "%s%n", "../../etc/passwd", "' OR 1=1 --", "<script>"]
    if depth > 2 or choice < 0.5:
        return rng.choice(scalars)
    if choice < 0.7:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["name", "address", "street", "postal_code", "city", "country", "business_type", "language",
            "email_domains", "status", "version", "email", "first_name", "last_name", "phone", "kind", "roles",
            "permissions", "notifications", "technical", "administrative", "description", "default_language",
            "cursor", "limit", "", "__proto__", "x" * 50]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _random_body(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.6:
        return json.dumps(_random_json(rng, 1 if rng.random() < 0.8 else 0)).encode()
    if kind < 0.8:
        text = json.dumps(_random_json(rng))
        cut = rng.randint(0, len(text))
        return (text[:cut] + rng.choice(["", "}", "{", "\"", ",", "\\", "\x00"])).encode()
    if kind < 0.9:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 40)))
    # nested past the 32-level bound, up to beyond Python's recursion limit, closed or not
    levels = rng.choice([33, 100, 999, 3000])
    opener, closer = rng.choice([("[", "]"), ('{"name": ', "}"), ('{"address": [', "]}")])
    return (opener * levels + rng.choice(["", "1" + closer * levels])).encode()


def test_fuzzed_bodies_never_yield_a_5xx(api, platform, account, member):
    """300 random bodies (deterministic seed) on every POST/PATCH/PUT route of the route table."""
    rng = random.Random(20240601)
    aid, pid = account["account_id"], member["person_id"]
    notice = api.post("/notices", {"type": "outage", "title": {"de": "Störung"}, "body": {"de": "Störung"},
                                   "affected": {"account_ids": [aid]}})
    fill = {"account_id": aid, "person_id": pid, "key_id": random_id("key"), "invitation_id": random_id("invitation"),
            "notice_id": notice.json["notice_id"]}
    # the invitation and preferences links' pages answer HTML whatever the body (test_invitation_pages.py)
    routes = [(method, path, entry.view_function.auth)
              for path, methods in app_module.app.routes.items() for method, entry in methods.items()
              if method in ("POST", "PATCH", "PUT") and not path.startswith(("/invitations/", "/preferences/"))]
    assert len(routes) >= 8
    failures = []
    for i in range(300):
        method, path, auth = routes[i % len(routes)]
        caller: Api = platform if auth == "platform" else api
        raw = _random_body(rng)
        reply = caller.call(method, path.format(**fill), raw=raw)
        if reply.status >= 500:
            failures.append((method, path, raw[:200], reply.status, reply.json))
            continue
        if reply.status >= 400:
            try:
                assert_error(reply, reply.status)
            except AssertionError as exc:
                failures.append((method, path, raw[:200], reply.status, str(exc)[:200]))
        else:
            assert isinstance(reply.json, dict), (method, path, raw)
    assert not failures, failures[:10]


def test_fuzzed_query_strings_and_path_ids_never_yield_a_5xx(api, account, member):
    rng = random.Random(7)
    aid, pid = account["account_id"], member["person_id"]
    weird = ["", "0", "-1", "x" * 3000, "%00", "%ff", "%2F", "é", "../", "acc_" + "a" * 16, "null", "[]",
             "per_%ED%A0%80", quote("\u202e"), "a b", "%25", "1e9"]
    notice_id = api.post("/notices", {"type": "outage", "title": {"de": "Störung"}, "body": {"de": "Störung"},
                                      "affected": {"all": True}}).json["notice_id"]
    gets = ["/accounts", "/people", "/api-keys", f"/accounts/{aid}/contacts", f"/people/{pid}/access", "/notices",
            f"/notices/{notice_id}/deliveries", f"/notices/{notice_id}/coverage"]
    params = ["limit", "cursor", "status", "warning", "role", "kind", "email", "x", "type", "from", "to", "event"]
    failures = []
    for _ in range(150):
        query = "&".join(f"{rng.choice(params)}={rng.choice(weird)}" for _ in range(rng.randint(1, 3)))
        path = f"{rng.choice(gets)}?{query}"
        reply = api.get(path)
        if reply.status >= 500:
            failures.append((path[:120], reply.status))
    for value in weird:
        for template in ("/accounts/{}", "/accounts/{}/contacts", "/accounts/" + aid + "/contacts/{}",
                         "/people/{}", "/people/{}/access", "/accounts/{}/designated-contacts"):
            if not value or value in ("../", "%2F"):
                continue
            path = template.format(value)
            for method in ("GET", "DELETE"):
                reply = api.call(method, path)
                if reply.status >= 500 or reply.status == 200 and method == "DELETE":
                    failures.append((method, path[:120], reply.status))
            reply = api.call("PATCH", path, body={"name": "x"} if template.startswith("/accounts/{}") else {"first_name": "x"})
            if reply.status >= 500:
                failures.append(("PATCH", path[:120], reply.status))
    assert not failures, failures[:10]


def test_ids_that_cannot_exist_answer_404_without_reaching_dynamodb(api, account):
    aid = account["account_id"]
    for path in (f"/accounts/{'a' * 3000}", f"/accounts/{aid}/contacts/not-an-id", "/people/per_TOOSHORT"):
        reply = api.get(path)
        assert reply.status == 404, path
        assert reply.json["error"]["code"] == "not_found"


def test_versions_beyond_any_real_one_are_refused(api, account):
    aid = account["account_id"]
    reply = api.patch(f"/accounts/{aid}", {"name": "X", "version": 10**40})
    assert reply.status == 400 and "version" in reply.fields()
    reply = api.patch(f"/accounts/{aid}", {"name": "X"}, headers={"If-Match": "9" * 40})
    assert reply.status == 400 and "If-Match" in reply.fields()


def test_every_answer_to_head_has_no_body(api, account):
    """A keep-alive client reads no body after a HEAD answer: one there would be taken for the
    start of the next answer. Every route is asked, those without HEAD (405) too."""
    import re

    aid = account["account_id"]
    answers = {}
    for path in app_module.app.routes:
        concrete = re.sub(r"\{([a-z_]+)\}", lambda m: aid if m.group(1) == "account_id" else "x", path)
        response = api.http.request("HEAD", concrete, headers={"authorization": f"Bearer {api.key}"})
        answers[concrete] = (response.status_code, response.body)
    assert {path: status for path, (status, _) in answers.items() if status != 405} == {
        "/invitations/x": 404, "/preferences/x": 404}  # the only routes with HEAD
    assert {path: body for path, (_, body) in answers.items() if body} == {}
    post_only = api.http.request("HEAD", f"/accounts/{aid}/onboarding/complete")
    assert (post_only.status_code, post_only.headers["Allow"], post_only.body) == (405, "POST", b"")
