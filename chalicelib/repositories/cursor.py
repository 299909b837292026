"""Opaque pagination cursors: DynamoDB's LastEvaluatedKey, base64url-encoded.

A cursor is only accepted for the partition it was issued for, so a cursor cannot reach
another tenant's items, and a forged one is a 400, never a 500.
"""
from __future__ import annotations

import base64
import json
import re
from typing import Any

from chalicelib.domain import json_input
from chalicelib.domain.errors import InvalidInput, Problem


def encode(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NUMBER = re.compile(r"-?\d{1,38}(\.\d{1,38})?")


def decode(cursor: str | None, hash_attribute: str, hash_value: str,
           key_types: dict[str, str] | None = None) -> dict[str, Any] | None:
    """The LastEvaluatedKey in `cursor`, if it is one of the queried partition.

    With `key_types` (attribute → "S"/"N": the table's and the index's key) the cursor must
    name exactly those attributes with those types; DynamoDB refuses any other start key.
    """
    if not cursor:
        return None
    invalid = InvalidInput("The cursor is not valid for this list.", [Problem("cursor", "is invalid")], "invalid_cursor")
    try:
        key = json_input.parse(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):  # MalformedJSON and binascii.Error are ValueErrors
        raise invalid
    if not isinstance(key, dict) or key.get(hash_attribute) != {"S": hash_value}:
        raise invalid
    for value in key.values():
        if not (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N")
                and isinstance(next(iter(value.values())), str)):
            raise invalid
        if "N" in value and not NUMBER.fullmatch(value["N"]):
            raise invalid
    if key_types is not None and {name: next(iter(value)) for name, value in key.items()} != key_types:
        raise invalid
    return key
