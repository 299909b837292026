"""Tenant API keys (T1): issued with the secret shown once, listed without secrets, revoked at once."""
import json
import re

from tests.functional.conftest import assert_error, items_mentioning, random_id, walk

API_KEY = re.compile(r"rk_([a-z2-7]{16})_([0-9a-f]{64})")


def test_create_key_shows_the_secret_once_in_the_documented_format(api):
    reply = api.post("/api-keys", {"name": "CRM sync"})
    assert reply.status == 201, reply.json
    assert set(reply.json) == {"api_key", "secret"}
    key, secret = reply.json["api_key"], reply.json["secret"]
    match = API_KEY.fullmatch(secret)
    assert match, secret
    assert key["key_id"] == f"key_{match.group(1)}"
    assert key["name"] == "CRM sync"
    assert key["hint"].endswith(secret[-4:])
    assert match.group(2) not in json.dumps(key)
    assert key["created_by"].startswith("key_")  # the key that made it
    # the new key works, and nothing shows its secret again
    assert api.get("/tenant", key=secret).status == 200
    listed = api.get("/api-keys").json
    assert match.group(2) not in json.dumps(listed)
    assert not items_mentioning(match.group(2)), "the secret is stored in clear"


def test_keys_are_listed_without_secrets(api):
    secrets = [api.post("/api-keys", {"name": f"key {i}"}).json["secret"] for i in range(2)]
    reply = api.get("/api-keys")
    assert reply.status == 200
    items = reply.json["items"]
    assert [item["name"] for item in items] == ["initial", "key 0", "key 1"]
    for item in items:
        assert set(item) == {"key_id", "name", "hint", "created_at", "created_by"}
    text = json.dumps(reply.json)
    for secret in secrets:
        assert secret not in text and secret.rsplit("_", 1)[1] not in text


def test_a_key_without_name_is_allowed(api):
    reply = api.post("/api-keys", {})
    assert reply.status == 201, reply.json
    assert reply.json["api_key"]["name"] is None


def test_revoked_key_answers_401_at_once_and_the_others_keep_working(api):
    made = api.post("/api-keys", {"name": "temp"}).json
    secret, key_id = made["secret"], made["api_key"]["key_id"]
    assert api.get("/accounts", key=secret).status == 200
    assert api.delete(f"/api-keys/{key_id}").status == 204
    assert_error(api.get("/accounts", key=secret), 401, "unauthenticated")
    assert_error(api.post("/accounts", {}, key=secret), 401, "unauthenticated")
    assert api.get("/accounts").status == 200
    assert key_id not in {item["key_id"] for item in api.get("/api-keys").json["items"]}
    assert not items_mentioning(key_id)
    # revoking again: the key is gone
    assert_error(api.delete(f"/api-keys/{key_id}"), 404, "not_found")


def test_a_key_can_revoke_itself(api):
    made = api.post("/api-keys", {"name": "self"}).json
    assert api.delete(f"/api-keys/{made['api_key']['key_id']}", key=made["secret"]).status == 204
    assert_error(api.get("/tenant", key=made["secret"]), 401)


def test_revoking_a_missing_or_malformed_key_id_is_404(api):
    assert_error(api.delete(f"/api-keys/{random_id('key')}"), 404, "not_found")
    assert_error(api.delete("/api-keys/not-a-key"), 404, "not_found")
    assert api.get("/tenant").status == 200


def test_keys_paginate_with_an_opaque_cursor(api):
    made = {api.post("/api-keys", {"name": f"k{i}"}).json["api_key"]["key_id"] for i in range(3)}
    seen = [item["key_id"] for item in walk(api, "/api-keys", limit=1)]
    assert len(seen) == len(set(seen)) == 4
    assert made <= set(seen)
    assert_error(api.get("/api-keys?cursor=bm90LWEtY3Vyc29y"), 400, fields={"cursor"})


def test_create_key_validates_its_body(api):
    assert_error(api.post("/api-keys", {"name": "x" * 101}), 400, fields={"name"})
    assert_error(api.post("/api-keys", {"scopes": ["all"]}), 400, fields={"scopes"})
    assert_error(api.post("/api-keys", {"name": 5}), 400, fields={"name"})
    assert len(api.get("/api-keys").json["items"]) == 1
