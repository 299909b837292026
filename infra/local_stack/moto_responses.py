"""DynamoDB responses in moto with each attribute value written once.

moto 5.2.5 writes an item-returning response (Query, Scan, GetItem, BatchGetItem,
TransactGetItems, the ReturnValues of writes) in two Python passes over every attribute value:

1. `DynamoResult.__init__` (moto/dynamodb/responses.py) turns the handler's result into plain
   data with `dynamo_to_dict`: one recursive call per value, each `DynamoType` becoming
   `{type: value}` (binary decoded from base64 to bytes).
2. The serializer (moto/core/serialize.py) walks botocore's output shape over that data: for
   each attribute value all ten members of `AttributeValue` (S, N, B, SS, NS, BS, M, L, NULL,
   BOOL), with a picker context per member (~4 ms per item of 25 attributes), and its generic
   `_serialize` dispatch for every item and every attribute.

The first version of this patch wrote the values of step 2 as they are (reading a notice's
audience, bench/notices.py, had spent most of its time in that walk, issue 4 §6). A profile of
the moto server under the same bench still put the two steps together at ~16 % of its CPU — a
cost AWS does not have. `install()` now writes each value once:

- `DynamoResult` converts the result as `dynamo_to_dict` does (the same dicts, lists,
  `to_json()` objects and datetimes) but keeps the `DynamoType` values as they are.
- The serializer writes an `AttributeValue`, and any map or list made only of them
  (`AttributeMap`, `Key`, `ItemList`, `BatchGetResponseMap`, `KeyList`, …), in one comprehension:
  a `DynamoType` straight into its JSON form (`dynamo_value`), a plain `{"S": "x"}` as the shape
  walk writes it (`attribute_value`: binary as base64 text, maps and lists recursively). Only
  the usual forms are written this way — one known member holding the type moto keeps there
  (S and N strings, BOOL and NULL bools, lists of strings for SS and NS, dicts for M, lists for
  L, bytes or text for B and BS). Anything else (None, several members, a number held as an
  int, a shape that renames its members) is walked by moto, binary `DynamoType` values go
  through moto's `dynamo_to_dict`, and a `DynamoType` met where no writer applies is converted
  by `dynamo_to_dict` first, as `DynamoResult` would have done. Errors do not come here (moto
  writes DynamoDB errors from their own JSON).

The values are read when the response is written, right after the handler returns in the same
request, instead of when the handler builds its result (the local stack serves one DynamoDB
request at a time). Tests compare whole responses, byte for byte, with moto's own conversion and
serializer for every attribute type and every item-returning operation, and results holding
unusual values (tests/local_stack/test_moto_responses.py).

Measured in-process with the other DynamoDB patches (`time.process_time` around moto's
`call_action`, median of 3 runs): a Query answering one page of 1,000 items of 8 attributes took
725 ms with moto's own code, 64 ms with the first version of this patch and 29 ms now; writing
its response (`DynamoResult` and the serializer, `json.dumps` included) 53 -> 18 ms. With a
projection of 4 names 54 -> 39 ms; a BatchGetItem of 100 such items 8.6 -> 5.7 ms. Installed by
the local stack and the tests, with the other moto patches.
"""
from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Callable

_installed = False
_original = None  # the unpatched BaseJSONSerializer._serialize (tests compare against it)
_original_result_init = None  # the unpatched DynamoResult.__init__ (likewise)

_writers: dict[tuple[str, str], Callable[[Any], Any] | None] = {}  # (service, shape) -> writer
_DYNAMODB = ("dynamodb", "dynamodbstreams")
_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}  # written as moto holds them
_DynamoType: Any = None  # moto's DynamoType and dynamo_to_dict, bound by install()
_dynamo_to_dict: Any = None


class _NotPlain(Exception):
    """A value the one-pass writers leave to moto's walk."""


def install() -> None:
    """Patches moto's DynamoResult and JSON response serializer for DynamoDB (idempotent)."""
    global _installed, _original, _original_result_init
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import dynamo_to_dict
    from moto.dynamodb.responses import DynamoResult

    global _DynamoType, _dynamo_to_dict
    _DynamoType, _dynamo_to_dict = DynamoType, dynamo_to_dict
    original = _original = BaseJSONSerializer._serialize
    _original_result_init = DynamoResult.__init__

    def _serialize(self, serialized, value, shape, key):
        service = self.service_model.service_name
        if service in _DYNAMODB:
            write = _writer(service, shape)
            if write is not None:
                try:
                    serialized[self.get_serialized_name(shape, key)] = write(value)
                    return
                except _NotPlain:
                    pass
            if isinstance(value, DynamoType):
                value = dynamo_to_dict(value)  # where DynamoResult would have converted it
        original(self, serialized, value, shape, key)

    def __init__(self, result: object) -> None:
        ActionResult.__init__(self, _converted(result))

    BaseJSONSerializer._serialize = _serialize
    DynamoResult.__init__ = __init__
    _installed = True


def installed() -> bool:
    return _installed


def _converted(obj: Any) -> Any:
    """moto's `dynamo_to_dict`, except that `DynamoType` values are kept for the serializer."""
    if type(obj) is dict:  # an exact dict has no to_json: moto's order of checks is kept
        return {k: v if type(v) is _DynamoType else _converted(v) for k, v in obj.items()}
    if type(obj) is list:
        return [v if type(v) is _DynamoType else _converted(v) for v in obj]
    if isinstance(obj, _DynamoType):
        return obj
    if not isinstance(obj, datetime) and hasattr(obj, "to_json"):
        return _converted(obj.to_json())
    if isinstance(obj, dict):
        return {k: _converted(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_converted(v) for v in obj]
    return obj


def _writer(service: str, shape) -> Callable[[Any], Any] | None:
    """The one-pass writer of a shape made only of attribute values, or None (moto walks it)."""
    try:
        return _writers[service, shape.name]
    except KeyError:
        pass
    write = None
    if shape.name == "AttributeValue":
        write = _one_value
    elif shape.type_name == "map" and not shape.value.serialization.get("name"):
        inner = _writer(service, shape.value)
        if inner is not None:
            write = _map_of(inner)
    elif shape.type_name == "list" and not shape.member.serialization.get("name"):
        inner = _writer(service, shape.member)
        if inner is not None:
            write = _list_of(inner)
    _writers[service, shape.name] = write
    return write


def _map_of(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def write(value):
        if type(value) is not dict:
            raise _NotPlain
        return {k: inner(v) for k, v in value.items()}
    return write


def _list_of(inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def write(value):
        if type(value) is not list:
            raise _NotPlain
        return [inner(v) for v in value]
    return write


def _one_value(value: Any) -> dict:
    """An attribute value met in a converted result: a kept `DynamoType` or a plain value."""
    if type(value) is _DynamoType:
        return dynamo_value(value)
    return attribute_value(value)


def dynamo_value(value) -> dict:
    """A `DynamoType` as moto writes it (the walk over `dynamo_to_dict(value)`), in one pass."""
    kind, inner = value.type, value.value
    if type(inner) is _SCALARS.get(kind):
        return {kind: inner}
    written = _container(kind, inner, _inner_value)
    if written is None:  # binary (base64 decoded, then encoded, as moto does) and the unusual
        return attribute_value(_dynamo_to_dict(value))
    return written


def _inner_value(value: Any) -> dict:
    """A member of a `DynamoType` map or list: nothing in it was converted yet."""
    if type(value) is _DynamoType:
        return dynamo_value(value)
    return attribute_value(_dynamo_to_dict(value))


def attribute_value(value: Any) -> dict:
    """One plain attribute value (`{"S": "x"}`, as after `dynamo_to_dict`) as the shape walk
    writes it. Only the usual form — one known member, its value of the type moto keeps there —
    is written here; anything else raises `_NotPlain` and is walked by moto."""
    if type(value) is not dict or len(value) != 1:
        raise _NotPlain
    ((kind, inner),) = value.items()
    if type(inner) is _SCALARS.get(kind):
        return {kind: inner}
    written = _container(kind, inner, _one_value)
    if written is not None:
        return written
    if kind == "B" and type(inner) in (bytes, str):
        return {kind: _base64(inner)}
    if kind == "BS" and type(inner) is list and all(type(v) in (bytes, str) for v in inner):
        return {kind: [_base64(v) for v in inner]}
    raise _NotPlain


def _container(kind: str, inner: Any, member: Callable[[Any], dict]) -> dict | None:
    """M, L, SS and NS values in their usual form (members written by `member`), else None."""
    if kind == "M" and type(inner) is dict:
        return {kind: {name: member(v) for name, v in inner.items()}}
    if kind == "L" and type(inner) is list:
        return {kind: [member(v) for v in inner]}
    if (kind == "SS" or kind == "NS") and type(inner) is list and all(type(v) is str for v in inner):
        return {kind: inner}
    return None


def _base64(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")
