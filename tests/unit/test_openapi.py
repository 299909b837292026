"""The OpenAPI document (GET /openapi.json, docs/openapi.json): valid OpenAPI 3.1, generated from
the routes' own contracts, current in the repository, and in step with docs/api.md."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import app as app_module
from chalicelib.handlers.openapi_document import build, render
from chalicelib.handlers.schema import (
    COUNTRY, E164, EMAIL, ID, AnyValue, Boolean, Enum, Integer, ListOf, MapOf, Moment, Object, Schema, String, nullable,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document() -> dict:
    return build(app_module.app)


def test_the_document_is_valid_openapi_3_1(document):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert not errors, errors[:5]
    assert document["openapi"] == "3.1.0"


def test_docs_openapi_json_is_the_generated_document():
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(app_module.app), "docs/openapi.json is stale: run `make openapi` and commit it"


def operations_of_the_app() -> set[tuple[str, str]]:
    return {(method, path) for path, methods in app_module.app.routes.items() for method in methods}


def operations_of(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def test_every_route_of_the_app_is_an_operation_and_nothing_else_is(document):
    assert operations_of(document) == operations_of_the_app()


def test_each_operation_describes_what_its_route_validates_and_answers(document):
    """Spot checks of the mapping: a body, a query, If-Match, the errors each declaration implies,
    the security scheme per kind of credential, and a public page."""
    create = document["paths"]["/accounts"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert body["properties"]["address"]["properties"]["country"]["enum"][-1] is None
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "415"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/Account"}
    assert create["security"] == [{"apiKey": []}]

    patch = document["paths"]["/accounts/{account_id}"]["patch"]
    assert {p["name"] for p in patch["parameters"]} == {"account_id", "If-Match"}
    assert patch["requestBody"]["content"]["application/json"]["schema"]["minProperties"] == 1
    assert set(patch["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "415", "422", "503"}
    assert patch["security"] == [{"apiKey": []}, {"personToken": []}] and patch["x-person-policy"] == "manage"

    listing = document["paths"]["/accounts"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit == {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}}

    assert document["paths"]["/tenants"]["post"]["security"] == [{"platformKey": []}]
    assert document["paths"]["/me"]["get"]["security"] == [{"personToken": []}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    page = document["paths"]["/invitations/{token}/accept"]["post"]
    assert page["security"] == [] and set(page["responses"]) == {"200", "404", "409", "410"}
    assert set(page["responses"]["200"]["content"]) == {"text/html", "application/json"}
    assert set(document["paths"]["/invitations/{token}"]["get"]["responses"]["410"]["content"]) == {"text/html"}


def test_creations_link_to_the_operations_on_what_they_created(document):
    links = document["paths"]["/accounts"]["post"]["responses"]["201"]["links"]
    assert links["get_account"] == {"operationId": "get_account",
                                    "parameters": {"account_id": "$response.body#/account_id"}}
    contact = document["paths"]["/accounts/{account_id}/contacts"]["post"]["responses"]["201"]["links"]
    assert contact["get_contact"]["parameters"] == {"account_id": "$response.body#/account_id",
                                                   "person_id": "$response.body#/person_id"}
    key = document["paths"]["/api-keys"]["post"]["responses"]["201"]["links"]
    assert key["revoke_api_key"]["parameters"] == {"key_id": "$response.body#/api_key/key_id"}


# --- each type's JSON Schema accepts exactly what the type accepts -------------------------------

CASES = [
    (String(max_length=5), ["a", " ab ", "abcde", "", "abcdef", 3, None]),
    (nullable(String()), [None, "x", ""]),
    (EMAIL, ["a@b.ch", "a@b", "a b@c.ch", "x" * 250 + "@b.ch"]),
    (E164, ["+41441234567", "+0123", "41441234567"]),
    (COUNTRY, ["CH", "ch", "XX"]),
    (ID, ["acc_abcdefghijklmnop", "acc_ABC", "acc_abcdefghijklmnop1"]),
    (Enum(("a", "b")), ["a", "c", None, 1]),
    (nullable(Enum(("a", "b"))), [None, "a", "c"]),
    (Integer(minimum=1, maximum=100), [1, 100, 0, 101, 1.5, True, "5"]),
    (Boolean(), [True, False, "true", 0]),
    (ListOf(Enum(("x", "y")), max_items=2), [[], ["x", "x"], ["x", "y", "x"], ["z"], "x"]),
    (Object({"a": String(), "b": Integer()}, required=("a",)), [{"a": "x"}, {"b": 1}, {"a": "x", "c": 1}, []]),
    (MapOf(Integer(), keys=("de", "fr")), [{"de": 1}, {"it": 1}, {"de": "1"}]),
    (Moment(), ["2026-12-01T22:00:00Z", "2026-12-01T22:00:00+01:00", "2026-12-01", "x" * 41]),
    (AnyValue(), [1, "x", [], {}]),
    (Object({"all": Boolean(), "ids": ListOf(ID)}, exactly_one="one of them"),
     [{"all": True}, {"ids": ["acc_abcdefghijklmnop"]}, {}, {"all": False}, {"ids": []},
      {"all": True, "ids": ["acc_abcdefghijklmnop"]}]),
]


@pytest.mark.parametrize("kind,values", CASES, ids=[type(kind).__name__ + str(i) for i, (kind, _) in enumerate(CASES)])
def test_a_types_json_schema_accepts_what_the_type_accepts(kind, values):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(kind.json_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for value in values:
        try:
            kind.check(value, "field")
            accepted = True
        except Exception:  # noqa: BLE001 - Invalid
            accepted = False
        assert validator.is_valid(value) == accepted, (value, kind.json_schema())


def test_the_one_documented_difference_blanks_count_only_in_the_schema():
    """docs/api.md: strings are trimmed before their length counts; the schema leaves that out
    (a pattern for it makes generated examples several times slower) and the route answers 400."""
    from jsonschema import Draft202012Validator

    kind = String(max_length=5)
    assert Draft202012Validator(kind.json_schema()).is_valid("   ")
    with pytest.raises(Exception):
        kind.check("   ", "field")


def test_a_schema_is_an_object_and_its_query_parameters():
    schema = Schema({"name": String(), "limit": Integer(minimum=1, from_text=True)}, required=("name",), non_empty=True)
    assert schema.json_schema() == {
        "type": "object", "required": ["name"], "additionalProperties": False, "minProperties": 1,
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                       "limit": {"type": "integer", "minimum": 1}}}
    assert [p["name"] for p in schema.parameters()] == ["name", "limit"]
    assert schema.parameters()[0]["required"] is True


# --- docs/api.md and the document list the same routes --------------------------------------------

def documented_routes() -> set[tuple[str, str]]:
    """The route tables of docs/api.md: rows like | `PATCH /accounts/{account_id}` | … and
    | `GET`, `HEAD /invitations/{token}` | …"""
    routes = set()
    for line in (ROOT / "docs" / "api.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*((?:`[A-Z]+`,\s*)*)`([A-Z]+) (/[^`?]*)[^`]*`\s*\|", line)
        if match:
            methods = re.findall(r"`([A-Z]+)`", match.group(1)) + [match.group(2)]
            routes |= {(method, match.group(3)) for method in methods}
    return routes


def test_the_route_tables_of_docs_api_md_list_every_operation_and_no_other(document):
    documented, generated = documented_routes(), operations_of(document)
    assert not generated - documented, f"give these routes a row in docs/api.md: {sorted(generated - documented)}"
    stale = sorted(documented - generated)
    assert not stale, f"docs/api.md lists routes the app does not have: {stale}"


def test_the_committed_document_parses_as_json():
    assert json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))["info"]["title"] == "Roster API"
