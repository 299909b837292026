"""Tenants (T1): created by the platform operator; read and changed with the tenant's own key."""
import json
import re

from tests.functional.conftest import Api, assert_error, items_mentioning, new_tenant, table_items

API_KEY = re.compile(r"rk_[a-z2-7]{16}_[0-9a-f]{64}")


def test_platform_creates_a_tenant_and_shows_its_first_key_once(platform):
    reply = platform.post("/tenants", {"name": "  Acme Telecom  ", "description": "Cloud telephony",
                                       "default_language": "it"})
    assert reply.status == 201, reply.json
    assert set(reply.json) == {"tenant", "api_key"}
    tenant, secret = reply.json["tenant"], reply.json["api_key"]
    assert API_KEY.fullmatch(secret), secret
    assert re.fullmatch(r"ten_[a-z2-7]{16}", tenant["tenant_id"])
    assert tenant["name"] == "Acme Telecom"  # trimmed
    assert tenant["description"] == "Cloud telephony"
    assert tenant["default_language"] == "it"
    assert tenant["version"] == 1
    assert tenant["created_at"] == tenant["updated_at"]

    api = Api(platform.http, secret)
    own = api.get("/tenant")
    assert own.status == 200
    assert own.json == tenant
    # the secret is never shown again, and never stored in clear
    keys = api.get("/api-keys").json["items"]
    assert [k["name"] for k in keys] == ["initial"]
    assert secret not in json.dumps(keys) and secret not in json.dumps(own.json)
    assert keys[0]["hint"].endswith(secret[-4:]) and secret[-8:] not in keys[0]["hint"]
    assert not items_mentioning(secret.rsplit("_", 1)[1])


def test_default_language_is_english_and_description_optional(platform):
    reply = platform.post("/tenants", {"name": "Plain"})
    assert reply.status == 201, reply.json
    assert reply.json["tenant"]["default_language"] == "en"
    assert reply.json["tenant"]["description"] is None


def test_each_tenant_gets_its_own_id_and_key(platform):
    first = platform.post("/tenants", {"name": "Same name"}).json
    second = platform.post("/tenants", {"name": "Same name"}).json
    assert first["tenant"]["tenant_id"] != second["tenant"]["tenant_id"]
    assert first["api_key"] != second["api_key"]
    assert Api(platform.http, first["api_key"]).get("/tenant").json["tenant_id"] == first["tenant"]["tenant_id"]
    assert Api(platform.http, second["api_key"]).get("/tenant").json["tenant_id"] == second["tenant"]["tenant_id"]


def test_create_tenant_validates_its_body(platform):
    assert_error(platform.post("/tenants", {}), 400, fields={"name"})
    assert_error(platform.post("/tenants", {"name": "   "}), 400, fields={"name"})
    assert_error(platform.post("/tenants", {"name": "X", "default_language": "xx"}), 400, fields={"default_language"})
    assert_error(platform.post("/tenants", {"name": "X", "plan": "gold"}), 400, fields={"plan"})
    assert_error(platform.post("/tenants", {"name": "X", "description": "d" * 2001}), 400, fields={"description"})
    assert not [item for item in table_items() if item["sk"]["S"] == "TENANT"]


def test_patch_tenant_changes_fields_and_bumps_version(api):
    before = api.get("/tenant").json
    reply = api.patch("/tenant", {"name": "Acme Cloud", "description": "New", "default_language": "fr"})
    assert reply.status == 200, reply.json
    assert reply.json["name"] == "Acme Cloud"
    assert reply.json["description"] == "New"
    assert reply.json["default_language"] == "fr"
    assert reply.json["version"] == before["version"] + 1
    assert reply.json["tenant_id"] == before["tenant_id"]
    assert reply.json["created_at"] == before["created_at"]
    assert api.get("/tenant").json == reply.json
    cleared = api.patch("/tenant", {"description": None})
    assert cleared.status == 200 and cleared.json["description"] is None


def test_patch_tenant_rejects_stale_versions(api):
    current = api.get("/tenant").json
    assert api.patch("/tenant", {"name": "One", "version": current["version"]}).status == 200
    stale_body = api.patch("/tenant", {"name": "Two", "version": current["version"]})
    assert_error(stale_body, 409, "version_conflict")
    stale_header = api.patch("/tenant", {"name": "Three"}, headers={"if-match": str(current["version"])})
    assert_error(stale_header, 409, "version_conflict")
    assert api.get("/tenant").json["name"] == "One"
    fresh = api.patch("/tenant", {"name": "Four"}, headers={"if-match": f'"{current["version"] + 1}"'})
    assert fresh.status == 200, fresh.json
    assert fresh.json["name"] == "Four" and fresh.json["version"] == current["version"] + 2


def test_patch_tenant_validates_its_body(api):
    assert_error(api.patch("/tenant", {}), 400, fields={"body"})
    assert_error(api.patch("/tenant", {"name": None}), 400, fields={"name"})
    assert_error(api.patch("/tenant", {"tenant_id": "ten_aaaaaaaaaaaaaaaa"}), 400, fields={"tenant_id"})
    assert_error(api.patch("/tenant", {"version": 0, "name": "x"}), 400, fields={"version"})
    assert_error(api.patch("/tenant", {"name": "x"}, headers={"if-match": "abc"}), 400, fields={"If-Match"})


def test_a_tenant_only_ever_sees_itself(platform):
    first, second = new_tenant(platform, "First"), new_tenant(platform, "Second")
    first.patch("/tenant", {"description": "first only"})
    assert second.get("/tenant").json["description"] is None
    assert first.get("/tenant").json["name"] == "First"
