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


def _checked(kind, value):
    return Schema({"x": kind}).validate({"x": value}, "bad")["x"]


def _problem(kind, value) -> str:
    with pytest.raises(InvalidInput) as caught:
        Schema({"x": kind}).validate({"x": value}, "bad")
    [problem] = caught.value.details
    assert problem.field == "x"
    return problem.problem


@pytest.mark.parametrize("char", ["\x00", "\x08", "\t", "\n", "\r", "\x1b", "\x7f", "\x80", "\x85", "\x9f"])
def test_one_line_refuses_every_control_character(char):
    assert _problem(String(), f"a{char}b") == "must not contain control characters"


def test_bidirectional_controls_are_refused_and_the_harmless_marks_kept():
    for char in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"):
        for kind in (String(), String(multiline=True)):
            assert _problem(kind, f"a{char}b") == \
                "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"
    for text in ("Ali\u200f", "\u200eAG", "a\u061cb", "Zero\u200bwidth", "Müller\u00a0AG"):
        assert _checked(String(), text) == text


def test_one_line_refuses_line_and_paragraph_separators():
    for char in ("\u2028", "\u2029"):
        assert _problem(String(), f"a{char}b") == "must not contain line or paragraph separators"


def test_multi_line_keeps_line_feeds_and_tabs_and_stores_lf_only():
    kind = String(multiline=True, max_length=20)
    assert _checked(kind, "a\r\nb\rc\u2028d\u2029e\n\tf") == "a\nb\nc\nd\ne\n\tf"
    assert _checked(kind, "x" * 19 + "\r\n") == "x" * 19  # outer line breaks are trimmed
    for char in ("\x00", "\x0b", "\x0c", "\x85", "\x7f"):
        assert _problem(kind, f"a{char}b") == "must not contain control characters"


BAD_ADDRESSES = {
    "a" * 65 + "@example.com": "must have at most 64 characters before the @",
    "a" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 54 + ".example": "must have at most 254 characters",
    # 249 characters, but 255 in the ASCII form SES gets
    "a" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "ü" * 48 + ".example": "must have at most 254 characters",
    "ä@example.com": "must have an ASCII local part (before the @)",
    "a@b@example.com": "is not an e-mail address",
    "@example.com": "is not an e-mail address",
    "a@": "is not an e-mail address",
    ".a@example.com": "is not an e-mail address",
    "a@example": "is not an e-mail address",
    "a@[192.0.2.1]": "is not an e-mail address",
    "a@exa_mple.com": "is not an e-mail address",
    "a@ex\u00a0ample.com": "is not an e-mail address",
    "a@" + "ü" * 60 + ".example": "is not an e-mail address",  # its ASCII label is longer than 63
    "a\x00@example.com": "must not contain control characters",
}


def test_bad_addresses_are_refused_naming_the_problem():
    assert {value: _problem(EMAIL, value) for value in BAD_ADDRESSES} == BAD_ADDRESSES


def test_addresses_keep_their_local_part_and_get_an_ascii_domain():
    assert _checked(EMAIL, " Anna.Muster+roster@Example.COM ") == "Anna.Muster+roster@example.com"
    assert _checked(EMAIL, "a" * 64 + "@example.com") == "a" * 64 + "@example.com"
    assert _checked(EMAIL, "info@Müller.example") == "info@xn--mller-kva.example"
    assert _checked(EMAIL, "info@xn--mller-kva.example") == "info@xn--mller-kva.example"
    assert _checked(EMAIL, "o'brien@bücher.example") == "o'brien@xn--bcher-kva.example"


def test_ids_have_one_shape_in_bodies_and_paths():
    from chalicelib.domain.ids import new_id
    from chalicelib.handlers.http import ID_SHAPE
    from chalicelib.handlers.schema import ID, Invalid

    made = [new_id(kind) for kind in ("tenant", "account", "person", "notice") for _ in range(50)]
    assert all(ID.check(value, "account_id") == value and ID_SHAPE.fullmatch(value) for value in made)
    for impossible in ("acc_0123456789abcdef", "acc_aaaaaaaaaaaaaaa8", "acc_aaaaaaaaaaaaaaa1"):  # not base32
        assert not ID_SHAPE.fullmatch(impossible)
        with pytest.raises(Invalid):
            ID.check(impossible, "account_id")
