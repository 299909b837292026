"""DynamoDB responses in moto without walking the AttributeValue shape for every value.

moto 5.2.5 serialises every response through botocore's model (`moto/core/serialize.py`). For
each attribute value of each returned item it visits all ten members of the `AttributeValue`
structure (S, N, B, SS, NS, BS, M, L, NULL, BOOL), building a picker context per member: about
4 ms per item of 25 attributes. Reading a notice's audience (10,000 memberships and people)
spent most of its time there (bench/notices.py, issue 4 §6) — a cost AWS does not have.

moto hands the serializer attribute values already in DynamoDB's JSON form (`{"S": "x"}`), so
`install()` writes them as they are, encoding only what the shape walk would change: binary
values (`B`, `BS`) become base64 text, and maps and lists are handled recursively. A test
compares whole responses with and without the patch (tests/local_stack/test_moto_responses.py).
Installed by the local stack and the tests, with the other moto patches.
"""
from __future__ import annotations

import base64
from typing import Any

_installed = False
_original = None  # the unpatched BaseJSONSerializer._serialize (tests compare against it)


def install() -> None:
    """Patches moto's JSON response serializer for DynamoDB attribute values (idempotent)."""
    global _installed, _original
    if _installed:
        return
    from moto.core.serialize import BaseJSONSerializer

    original = _original = BaseJSONSerializer._serialize

    def _serialize(self, serialized, value, shape, key):
        if shape.name == "AttributeValue" and isinstance(value, dict) and _is_dynamodb(self):
            serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
            return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize = _serialize
    _installed = True


def installed() -> bool:
    return _installed


def _is_dynamodb(serializer) -> bool:
    return serializer.service_model.service_name in ("dynamodb", "dynamodbstreams")


def attribute_value(value: dict) -> dict:
    """One attribute value as the shape walk would write it."""
    out: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue  # the walk drops members whose value is None
        if kind == "M":
            out[kind] = {name: attribute_value(v) for name, v in inner.items()}
        elif kind == "L":
            out[kind] = [attribute_value(v) for v in inner]
        elif kind == "B":
            out[kind] = _base64(inner)
        elif kind == "BS":
            out[kind] = [_base64(v) for v in inner]
        elif kind in ("S", "N"):
            out[kind] = inner if isinstance(inner, str) or inner in ({}, []) else str(inner)
        elif kind in ("SS", "NS"):
            out[kind] = [v if isinstance(v, str) else str(v) for v in inner]
        else:  # BOOL, NULL
            out[kind] = inner
    return out


def _base64(value: str | bytes) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")
