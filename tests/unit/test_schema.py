import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.handlers.schema import EMAIL, Enum, Integer, ListOf, Object, Schema, String, nullable

SCHEMA = Schema({
    "name": String(max_length=5), "kind": Enum(("a", "b")), "tags": ListOf(Enum(("x", "y")), max_items=2),
    "limit": Integer(minimum=1, maximum=100, from_text=True), "email": EMAIL,
    "address": Object({"city": nullable(String())}, nullable=True),
}, required=("name",))


def _problems(data):
    with pytest.raises(InvalidInput) as caught:
        SCHEMA.validate(data, "bad")
    return {(p.field, p.problem) for p in caught.value.details}


def test_valid_input_is_cleaned():
    assert SCHEMA.validate({"name": " ab ", "tags": ["x", "x"], "limit": "5", "address": {"city": None}}, "") == {
        "name": "ab", "tags": ["x"], "limit": 5, "address": {"city": None}}


def test_every_problem_names_its_field():
    assert _problems({"kind": "c", "tags": ["z"], "limit": 0, "email": "nope", "extra": 1, "address": {"zip": 1}}) == {
        ("name", "is required"), ("kind", "must be one of a, b"), ("tags[0]", "must be one of x, y"),
        ("limit", "must be at least 1"), ("email", "is not an e-mail address"), ("extra", "unknown field"),
        ("address.zip", "unknown field"),
    }


def test_types_are_strict():
    assert _problems({"name": 5, "limit": True, "tags": "x"}) == {
        ("name", "must be a string"), ("limit", "must be an integer"), ("tags", "must be a list")}
    assert _problems({"name": "toolongname"}) == {("name", "must have at most 5 characters")}
    assert _problems({"name": None}) == {("name", "must not be null")}


def test_non_empty_schema_refuses_an_empty_patch():
    with pytest.raises(InvalidInput):
        Schema({"name": String()}, non_empty=True).validate({}, "bad")


def test_country_must_be_an_assigned_code():
    from chalicelib.handlers.schema import COUNTRY

    schema = Schema({"country": COUNTRY})
    assert schema.validate({"country": "CH"}, "") == {"country": "CH"}
    for bad in ("XX", "ch", "CHE", ""):
        with pytest.raises(InvalidInput):
            schema.validate({"country": bad}, "bad")
