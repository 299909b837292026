"""moto's item keys at the cost of their text: hashing, the empty-key and the duplicate-key checks.

moto 5.2.5 files items in dicts keyed by `DynamoType`, whose `__hash__` and `__eq__` read
`cast_value`, a property that asks five `is_*` methods before it returns a string's own value
(cProfile: ~15 % of moto's time in a TransactWriteItems of small puts and in a BatchGetItem;
every read and write looks its key up). TransactWriteItems and PutItem check each item for
empty key values with `validate_put_has_empty_keys` (moto/dynamodb/responses.py), which lists
the table's index keys and tests every attribute of the item (~10 % of a put); BatchGetItem and
BatchWriteItem look for duplicate keys with `_contains_duplicates`, a list-membership test for
each key: O(n²) dict comparisons over the up to 100 keys of a request.

`install()` patches

- `DynamoType.cast_value`: an S, B or BOOL value is its own value, as moto's property returns it
  after its tests; every other type goes through moto's property. `DynamoType.__hash__` hashes an
  S or B value's (type, value) pair directly, as moto's does through the property.
- `validate_put_has_empty_keys`: moto's function raises only for an attribute whose first
  member is S or B with the value "" (a key, or a global index's key, set to it). An item whose
  attributes are all non-empty dicts and which has no such attribute passes straight away;
  any other goes through moto's function (its messages, its checks).
- `DynamoHandler._contains_duplicates`: the keys of a request are plain JSON values (dicts,
  lists, text, bytes, bools, ints); each is turned into a hashable value that is equal exactly
  when moto's `==` finds the keys equal (a map as the set of its name and value pairs, a list as
  a tuple), and a set finds whether one repeats. Anything else goes to moto's loop.

Tests compare each with moto's own on seeded random values and keys, keys that differ only in
type or nesting, and the refusals through the API (tests/local_stack/test_moto_keys.py).

Measured in-process (`time.process_time` around moto's `call_action`, the other patches
installed, least of 9 runs): 40 TransactWriteItems of 50 small puts 171 -> 131 ms of moto's CPU;
a BatchGetItem of 2,000 projected people (20 requests of 100) 73 -> 60 ms; a Query of 2,000
projected memberships 60 -> 52 ms. The duplicate check of 100 keys: ~280 -> ~95 µs.
Installed by the local stack and the tests with the other moto patches.
"""
from __future__ import annotations

from typing import Any

_installed = False
_PLAIN = ("S", "B", "BOOL")  # the types whose cast_value is their value


class _Unusual(Exception):
    """A key that is not plain JSON: moto's own check decides."""


def install() -> None:
    """Patches moto's DynamoType hashing and the DynamoDB request key checks (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType

    original_cast = DynamoType.cast_value.fget
    original_hash = DynamoType.__hash__
    original_empty_keys = responses.validate_put_has_empty_keys
    original_duplicates = responses.DynamoHandler._contains_duplicates

    def cast_value(self):
        if self.type in _PLAIN:
            return self.value
        return original_cast(self)

    def __hash__(self):
        kind = self.type
        if kind == "S" or kind == "B":
            return hash((kind, self.value))
        return original_hash(self)

    def validate_put_has_empty_keys(field_updates, table, custom_error_msg=None):
        if not table:
            return None
        if type(field_updates) is dict:
            for value in field_updates.values():
                if type(value) is not dict or not value:
                    break
                for kind, inner in value.items():  # the first member, as moto reads it
                    if (kind == "S" or kind == "B") and inner == "":
                        return original_empty_keys(field_updates, table, custom_error_msg)
                    break
            else:
                return None  # no attribute moto would count as an empty string
        return original_empty_keys(field_updates, table, custom_error_msg)

    def _contains_duplicates(self, keys):
        if type(keys) is list:
            try:
                return contains_duplicates(keys)
            except _Unusual:
                pass
        return original_duplicates(self, keys)

    cast_value.__wrapped__ = original_cast
    __hash__.__wrapped__ = original_hash
    validate_put_has_empty_keys.__wrapped__ = original_empty_keys
    _contains_duplicates.__wrapped__ = original_duplicates
    DynamoType.cast_value = property(cast_value)
    DynamoType.__hash__ = __hash__
    responses.validate_put_has_empty_keys = validate_put_has_empty_keys
    responses.DynamoHandler._contains_duplicates = _contains_duplicates
    _installed = True


def installed() -> bool:
    return _installed


def contains_duplicates(keys: list) -> bool:
    """moto's `_contains_duplicates` (a key equal to an earlier one) for plain JSON keys."""
    return len(set(map(hashable, keys))) < len(keys)


def hashable(value: Any) -> Any:
    """A hashable form of a plain JSON value: two forms are equal exactly when the values are.

    A map is the frozenset of its (name, form of the value) pairs, a list the tuple of its
    members' forms; JSON has no tuples or sets, so neither equals a text, a number or the other.
    A member that is a one-member map of text or bytes (an attribute value: {"S": "x"}) is the
    triple (name, type, value) instead: which form a member takes follows from its value alone
    (text equals only text, bytes only bytes), so equal maps give equal sets."""
    cls = type(value)
    if cls is str or cls is bytes or cls is bool or cls is int or value is None:
        return value
    if cls is dict:
        pairs = []
        for name, member in value.items():
            if type(name) is not str:
                raise _Unusual
            if type(member) is dict and len(member) == 1:
                ((kind, inner),) = member.items()
                if type(kind) is str and (type(inner) is str or type(inner) is bytes):
                    pairs.append((name, kind, inner))
                    continue
            pairs.append((name, hashable(member)))
        return frozenset(pairs)
    if cls is list:
        return tuple([hashable(member) for member in value])
    raise _Unusual
