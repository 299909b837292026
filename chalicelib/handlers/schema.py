"""A small declarative validator for JSON bodies and query strings, and the JSON Schema of each.

Why not pydantic: importing it would take the whole cold-start budget on its own (docs/design.md,
"Validation"). These few types cover what the API accepts and name
every bad field with its problem. `json_schema()` describes the same rules for the OpenAPI
document (GET /openapi.json), and the same types describe the answers (handlers/responses.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib.domain.countries import COUNTRY_CODES
from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.ids import ID_PATTERN
from chalicelib.domain.text import ascii_email, email_problem, line_breaks_normalised, text_problem

MISSING = object()


class Invalid(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


class Type:
    nullable: bool = False

    def json_schema(self) -> dict:
        """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of what `check` accepts."""
        schema = self.describe()
        if self.nullable:
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
            elif "type" in schema:
                schema["type"] = [schema["type"], "null"]
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        return schema

    def describe(self) -> dict:
        raise NotImplementedError

    def check(self, value: Any, path: str) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise Invalid([Problem(path, "must not be null")])
        return self.convert(value, path)

    def convert(self, value: Any, path: str) -> Any:
        raise NotImplementedError


@dataclass
class String(Type):
    """One line of text by default; `multiline` texts keep line feeds (CR LF is stored as LF) and
    tabs. Neither may hold other control characters or bidirectional controls (domain/text.py)."""

    min_length: int = 1
    max_length: int | None = 200  # None: no limit (only answers use that)
    pattern: str | None = None
    nullable: bool = False
    strip: bool = True
    problem: str = "has the wrong format"
    allowed: frozenset[str] | None = None
    multiline: bool = False
    format: str | None = None  # a JSON Schema format, for the document only

    def describe(self) -> dict:
        schema: dict[str, Any] = {"type": "string"}
        if self.allowed is not None:
            return {"enum": sorted(self.allowed)}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"  # JSON Schema patterns search; the check matches whole
        if self.format:
            schema["format"] = self.format
        return schema

    def convert(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise Invalid([Problem(path, "must be a string")])
        text = value.strip() if self.strip else value
        if not _is_unicode(text):  # a lone surrogate ("\ud800") is valid JSON, but no storable text
            raise Invalid([Problem(path, "is not valid Unicode text")])
        if self.multiline:
            text = line_breaks_normalised(text)
        problem = text_problem(text, self.multiline)
        if problem:
            raise Invalid([Problem(path, problem)])
        if len(text) < self.min_length:
            raise Invalid([Problem(path, "must not be empty" if self.min_length == 1 else f"must have at least {self.min_length} characters")])
        if self.max_length is not None and len(text) > self.max_length:
            raise Invalid([Problem(path, f"must have at most {self.max_length} characters")])
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise Invalid([Problem(path, self.problem)])
        if self.allowed is not None and text not in self.allowed:
            raise Invalid([Problem(path, self.problem)])
        return text


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Enum(Type):
    """One of `values`."""

    values: tuple[str, ...]
    nullable: bool = False

    def describe(self) -> dict:
        return {"enum": list(self.values)}

    def convert(self, value: Any, path: str) -> str:
        if value not in self.values:
            raise Invalid([Problem(path, "must be one of " + ", ".join(self.values))])
        return value


@dataclass
class Integer(Type):
    """A whole number within the bounds given; `from_text` also takes its digits as text."""

    minimum: int | None = None
    maximum: int | None = None
    from_text: bool = False  # query strings carry numbers as text
    nullable: bool = False

    def describe(self) -> dict:
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def convert(self, value: Any, path: str) -> int:
        if self.from_text and isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid([Problem(path, "must be an integer")])
        if self.minimum is not None and value < self.minimum:
            raise Invalid([Problem(path, f"must be at least {self.minimum}")])
        if self.maximum is not None and value > self.maximum:
            raise Invalid([Problem(path, f"must be at most {self.maximum}")])
        return value


@dataclass
class Boolean(Type):
    """true or false; `from_text` also takes them as text (query strings)."""

    from_text: bool = False
    nullable: bool = False

    def describe(self) -> dict:
        return {"type": "boolean"}

    def convert(self, value: Any, path: str) -> bool:
        if self.from_text and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise Invalid([Problem(path, "must be true or false")])
        return value


@dataclass
class ListOf(Type):
    """A list of `item`s, at most `max_items` of them."""

    item: Type
    max_items: int | None = 50
    unique: bool = True  # duplicates are dropped, not refused
    nullable: bool = False

    def describe(self) -> dict:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema

    def convert(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise Invalid([Problem(path, "must be a list")])
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid([Problem(path, f"must have at most {self.max_items} items")])
        problems, items = [], []
        for index, element in enumerate(value):
            try:
                items.append(self.item.check(element, f"{path}[{index}]"))
            except Invalid as exc:
                problems.extend(exc.problems)
        if problems:
            raise Invalid(problems)
        if self.unique:
            items = list(dict.fromkeys(items))
        return items


@dataclass
class Object(Type):
    """A JSON object of the named `fields` and no others."""

    fields: dict[str, Type]
    required: tuple[str, ...] = ()
    nullable: bool = False
    exactly_one: str | None = None  # the problem unless exactly one field is sent, and set (true, not empty)

    def describe(self) -> dict:
        schema: dict[str, Any] = {"type": "object",
                                  "properties": {name: kind.json_schema() for name, kind in self.fields.items()}}
        if self.required:
            schema["required"] = list(self.required)
        schema["additionalProperties"] = False
        if self.exactly_one:
            schema["oneOf"] = [{"required": [name], "maxProperties": 1, "properties": {name: _set(kind)}}
                               for name, kind in self.fields.items()]
        return schema

    def convert(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise Invalid([Problem(path or "body", "must be an object")])
        prefix = f"{path}." if path else ""
        problems = [Problem(prefix + name, "unknown field") for name in value if name not in self.fields]
        result = {}
        for name, kind in self.fields.items():
            if name not in value:
                if name in self.required:
                    problems.append(Problem(prefix + name, "is required"))
                continue
            try:
                result[name] = kind.check(value[name], prefix + name)
            except Invalid as exc:
                problems.extend(exc.problems)
        if problems:
            raise Invalid(problems)
        if self.exactly_one and (len(value) != 1 or list(result.values())[0] in (False, [], "", None)):
            raise Invalid([Problem(path or "body", self.exactly_one)])
        return result


def _set(kind: Type) -> dict:
    """The JSON Schema of a value that counts as set: true, a non-empty list."""
    if isinstance(kind, Boolean):
        return {"const": True}
    if isinstance(kind, ListOf):
        return {"minItems": 1}
    return {"not": {"type": "null"}}


@dataclass
class Schema:
    """The top-level object of a body or a query string."""

    fields: dict[str, Type]
    required: tuple[str, ...] = ()
    non_empty: bool = False  # a PATCH must change something
    _object: Object = field(init=False)

    def __post_init__(self) -> None:
        self._object = Object(self.fields, self.required)

    def json_schema(self) -> dict:
        schema = self._object.json_schema()
        if self.non_empty:
            schema["minProperties"] = 1
        return schema

    def parameters(self) -> list[dict]:
        """The schema as OpenAPI query parameters."""
        return [{"name": name, "in": "query", "required": name in self.required, "schema": kind.json_schema()}
                for name, kind in self.fields.items()]

    def validate(self, data: Any, message: str) -> dict[str, Any]:
        try:
            result = self._object.check(data, "")
        except Invalid as exc:
            raise InvalidInput(message, exc.problems)
        if self.non_empty and not result:
            raise InvalidInput(message, [Problem("body", "must change at least one field")])
        return result


@dataclass
class Email(String):
    """An address SES can send to (domain/text.py: `email_problem`), returned with its domain in
    ASCII (an IDN domain as punycode): the form that is stored, sent and compared."""

    max_length: int = 254
    # the document's shape of an address (and a first check); email_problem then holds it to SES's rules
    pattern: str | None = r"[^@\s]+@[^@\s]+\.[^@\s]+"
    problem: str = "is not an e-mail address"

    def convert(self, value: Any, path: str) -> str:
        text = super().convert(value, path)
        problem = email_problem(text)
        if problem:
            raise Invalid([Problem(path, problem)])
        return ascii_email(text)


EMAIL = Email()
E164 = String(max_length=16, pattern=r"\+[1-9]\d{6,14}", problem="must be an E.164 number like +41441234567")
COUNTRY = String(min_length=2, max_length=2, allowed=COUNTRY_CODES,
                 problem="must be an ISO 3166-1 alpha-2 code in capitals")
ID = String(max_length=64, pattern=ID_PATTERN, problem="is not an id")
VERSION = Integer(minimum=1, maximum=10**15)
PAGE = {"limit": Integer(minimum=1, maximum=100, from_text=True), "cursor": String(max_length=2048)}


def nullable(kind: Type) -> Type:
    """The same type, also accepting null (which clears the field)."""
    return replace(kind, nullable=True)


@dataclass
class Moment(Type):
    """An ISO 8601 date-time with a zone (`2026-12-01T22:00:00Z`), stored as UTC milliseconds."""

    nullable: bool = False

    def describe(self) -> dict:
        return {"type": "string", "format": "date-time", "maxLength": 40}

    def convert(self, value: Any, path: str) -> str:
        from datetime import datetime, timezone

        problem = Invalid([Problem(path, "must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T22:00:00Z")])
        if not isinstance(value, str) or len(value) > 40:
            raise problem
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise problem
        if moment.tzinfo is None:
            raise problem
        return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class MapOf(Type):
    """An object whose keys are data (a notice's title per language, counts per language)."""

    value: Type
    keys: tuple[str, ...] | None = None  # when the keys come from a vocabulary
    nullable: bool = False

    def describe(self) -> dict:
        schema: dict[str, Any] = {"type": "object", "additionalProperties": self.value.json_schema()}
        if self.keys is not None:
            schema["propertyNames"] = {"enum": list(self.keys)}
        return schema

    def convert(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise Invalid([Problem(path or "body", "must be an object")])
        unknown = [Problem(f"{path}.{key}", "unknown field")
                   for key in value if self.keys is not None and key not in self.keys]
        if unknown:
            raise Invalid(unknown)
        return {key: self.value.check(item, f"{path}.{key}") for key, item in value.items()}


@dataclass
class AnyValue(Type):
    """Any JSON value. `documented_as` describes it when the view validates it itself (one batch
    item at a time, so that one bad item fails alone)."""

    documented_as: Type | Schema | None = None
    nullable: bool = False

    def describe(self) -> dict:
        return self.documented_as.json_schema() if self.documented_as is not None else {}

    def convert(self, value: Any, path: str) -> Any:
        return value
