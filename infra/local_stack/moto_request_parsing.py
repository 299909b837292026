"""DynamoDB requests in moto parsed without walking botocore's shapes for every value.

moto 5.2.5 parses each request body with its botocore-model-driven `JSONParser`
(`moto/core/parse.py`, called from `BaseResponse.parse_parameters`): after `json.loads` it visits
every shape of the input, and for each attribute value of each item looks up all ten members of
the `AttributeValue` structure: ~3 ms for a TransactWriteItems of 52 items, ~0.7 ms for a
BatchGetItem of 100 keys, about 12 % of the local stack's moto CPU under the benchmark — a cost
AWS does not have. With the patch: ~0.6 ms and ~0.1 ms, of which `json.loads` is 0.25 and 0.05.

What the walk changes in the JSON it loaded is small and fixed by the operation's input shape:
structures keep only their known members whose value is not null (in member order), blobs (the
`B` and `BS` of attribute values) are base64-decoded to bytes, timestamps parsed, integers and
doubles converted. `install()` compiles, once per operation, one small function per shape from
the same botocore model that does exactly that; strings, booleans and lists or maps of them are
returned as loaded, with no walk. An `AttributeValue` with one member, the usual one, is
answered by a dictionary lookup: itself when its member needs no work (`S`, `N`, `BOOL`, ...).

Only DynamoDB requests of the JSON 1.0 protocol (X-Amz-Target `DynamoDB_20120810.*`) with a
JSON object body take this path; anything else — another action source or content type, a body
that is not a JSON object, a value of an unexpected JSON type, any error — is parsed by moto's
own parser, which also raises what it would have raised. Tests compare both parsers' results
for every operation Roster uses and for random attribute value trees
(tests/local_stack/test_moto_request_parsing.py). Installed by the local stack and the tests,
with the other moto patches.
"""
from __future__ import annotations

import json
from typing import Any, Callable

TARGET_PREFIX = "DynamoDB_20120810."
_IDENTITY_TYPES = ("string", "boolean", "character")  # the JSON parser returns these as loaded
_installed = False
_original = None  # the unpatched parse_parameters (tests compare against it)
_plans: dict[str, Callable[[Any], Any] | None] = {}  # operation name -> parse of a loaded body
_plans_model = None  # the service model the plans were compiled from
_structures: dict[str, Callable[[Any], Any]] = {}  # shape name -> compiled structure (shared)


class _Fallback(Exception):
    """The fast path does not know this input: moto's parser answers it."""


class _Unsupported(Exception):
    """The operation's shapes use something the compiler does not mirror."""


def install() -> None:
    """Patches DynamoDB's parse_parameters (idempotent)."""
    global _installed, _original
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = _original = DynamoHandler.parse_parameters

    def parse_parameters(self, request):
        parse = _plan_for(self, request)
        if parse is not None:
            try:
                self.params = parse(_loaded_body(request.data))
                return
            except Exception:  # noqa: BLE001 - moto's parser answers, or raises what it raises
                pass
        _original(self, request)

    parse_parameters.__wrapped__ = original
    DynamoHandler.parse_parameters = parse_parameters
    _installed = True


def installed() -> bool:
    return _installed


def _loaded_body(data: bytes | str) -> Any:
    """The body as moto's `_parse_body_as_json` loads it, if that did not need its fallbacks."""
    if not data:
        return {}
    if isinstance(data, bytes):
        data = data.decode("utf-8")  # moto keeps undecodable bytes: the error falls back to it
    return json.loads(data)  # moto answers {"message": body} when this fails: falls back too


def _plan_for(handler, request) -> Callable[[Any], Any] | None:
    """The compiled parse for this request's operation, or None when moto's parser must run."""
    global _plans_model
    from moto.core import responses

    if handler.PROTOCOL_PARSER_MAP_TYPE is not dict or handler.boto3_service_name != "dynamodb":
        return None
    action = handler._get_action()
    target = request.headers.get("X-Amz-Target") or ""
    if not action or target != TARGET_PREFIX + action:
        return None
    service_model = responses.get_service_model("dynamodb")
    try:
        if responses.determine_request_protocol(service_model, request.content_type) != "json":
            return None
    except Exception:  # noqa: BLE001 - moto raises it again
        return None
    if service_model is not _plans_model:
        _plans.clear()
        _structures.clear()
        _plans_model = service_model
    if action not in _plans:
        _plans[action] = _compile_operation(service_model, action)
    return _plans[action]


def _compile_operation(service_model, action: str) -> Callable[[Any], Any] | None:
    try:
        shape = service_model.operation_model(action).input_shape
        if shape is None or shape.type_name != "structure":
            return None
        compiled = dict(_structures)  # a structure that fails to compile is not kept
        structure = compile_shape(shape, compiled)
        _structures.update(compiled)
    except Exception:  # noqa: BLE001 - unknown operation or shape: moto's parser decides
        return None

    def parse(body):
        if type(body) is not dict:
            raise _Fallback
        return structure(body)

    return parse


def compile_shape(shape, compiled: dict[str, Any]) -> Callable[[Any], Any] | None:
    """A function giving what moto's JSONParser gives for a loaded value of `shape` (with dict
    maps), or None when that is the value itself. It raises _Fallback for a value of a JSON type
    it does not expect. `compiled` holds the structures compiled so far, by name (recursion)."""
    from moto.core import parse as moto_parse

    kind = shape.type_name
    if kind in _IDENTITY_TYPES:
        return None
    if kind in ("integer", "long", "short", "byte"):
        return _integer
    if kind in ("float", "double"):
        return _float
    if kind == "blob":
        return moto_parse.default_blob_parser
    if kind == "timestamp":
        return moto_parse.default_timestamp_parser
    if kind == "list":
        return _list(compile_shape(shape.member, compiled))
    if kind == "map":
        if shape.key.type_name not in _IDENTITY_TYPES:
            raise _Unsupported(shape.name)
        return _map(compile_shape(shape.value, compiled))
    if kind == "structure":
        if shape.is_document_type:
            raise _Unsupported(shape.name)
        if shape.name in compiled:
            return compiled[shape.name]
        by_json_name: dict[str, tuple[str, Callable | None]] = {}
        members: list[tuple[str, str, Callable | None]] = []
        simple: set[str] = set()
        compiled[shape.name] = _structure(by_json_name, members, simple)
        for name, member in shape.members.items():
            json_name = member.serialization.get("name", name)
            if json_name in by_json_name:
                raise _Unsupported(f"{shape.name}.{name}")
            parse = compile_shape(member, compiled)
            by_json_name[json_name] = (name, parse)
            members.append((name, json_name, parse))
            if parse is None and name == json_name:
                simple.add(name)
        return compiled[shape.name]
    raise _Unsupported(f"{shape.name}: {kind}")


def _integer(value):
    return value if type(value) is int else int(value)


def _float(value):
    return value if type(value) is float else float(value)


def _list(parse_member):
    simple = getattr(parse_member, "simple", None)
    if parse_member is None:
        def parse_list(value):
            if type(value) is not list:
                raise _Fallback  # moto would iterate a string or a map's keys
            return value
    elif simple is not None:  # a list of structures: the one-member ones needing no work stay
        def parse_list(value):
            if type(value) is not list:
                raise _Fallback
            for index, item in enumerate(value):
                if type(item) is dict and len(item) == 1:
                    tag, = item
                    if tag in simple and item[tag] is not None:
                        continue
                value[index] = parse_member(item)
            return value
    else:
        def parse_list(value):
            if type(value) is not list:
                raise _Fallback
            return [parse_member(item) for item in value]
    return parse_list


def _map(parse_value):
    simple = getattr(parse_value, "simple", None)
    if parse_value is None:
        def parse_map(value):
            if type(value) is not dict:
                raise _Fallback
            return value
    elif simple is not None:  # a map of structures (an item): as the list above
        def parse_map(value):
            if type(value) is not dict:
                raise _Fallback
            for key, item in value.items():
                if type(item) is dict and len(item) == 1:
                    tag, = item
                    if tag in simple and item[tag] is not None:
                        continue
                value[key] = parse_value(item)  # replaces a value: the map keeps its order
            return value
    else:
        def parse_map(value):
            if type(value) is not dict:
                raise _Fallback
            return {key: parse_value(item) for key, item in value.items()}
    return parse_map


def _structure(by_json_name: dict, members: list, simple: set):
    """moto keeps the known members that are not null, in the shape's order, under their names.
    `simple`: the members kept as they are (no work, the same name), filled in by the caller."""
    def parse_structure(value):
        if value is None:
            return None  # moto returns a null structure as null
        if type(value) is not dict:
            raise _Fallback
        if len(value) == 1:  # the usual attribute value: one member, no order to restore
            for json_name, item in value.items():
                known = by_json_name.get(json_name)
                if known is None or item is None:
                    return {}
                name, parse = known
                if parse is None:
                    return value if name == json_name else {name: item}
                return {name: parse(item)}
        parsed = {}
        for name, json_name, parse in members:
            item = value.get(json_name)
            if item is not None:
                parsed[name] = item if parse is None else parse(item)
        return parsed

    parse_structure.simple = simple
    return parse_structure
