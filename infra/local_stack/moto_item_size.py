"""moto's item sizes in one pass: the 400 KB check once per item, each value's size without
moto's per-value Python walk, and the key size check without wrapping the keys.

moto 5.2.5 builds each written item attribute by attribute into a `LimitedSizeDict`, whose
`__setitem__` sums the size of every attribute already there: O(n²) in the item's attributes,
and each size walks nested maps and lists. A notice batch (50 recipient maps) and its 50 delivery
records spent about 15 % of the mail worker's time there (cProfile, in-process). The first
version of this patch summed once per item, but with moto's `DynamoType.size` and `bytesize`:
method calls (`is_number`, `is_set`, `is_list`, `is_map`) and a UTF-8 encoding for what is
mostly `len()` of a short ASCII string: under cProfile ~55 % of a PutItem's cost inside
TransactWriteItems, and `Table._validate_key_sizes`, which wrapped every key value in a new
`DynamoType` to size it, ~15 % (the profiler inflates such call-heavy code; the figures below
are without it).

`install()` patches

- `DynamoType.size`: the size moto's method gives, computed in one function for the usual forms
  (a value of the Python type moto keeps for its kind: S and B as text or bytes, N as text,
  BOOL and NULL as bools, SS/NS/BS as lists of text or bytes, L as a list and M as a dict of
  `DynamoType`s, map names as text): text is `len()` when ASCII, else the length of its UTF-8
  encoding, exactly as `bytesize`. Any other form anywhere in the value (a number held as an int,
  a set member that is a bool, an unwrapped list member, …) is sized by moto's own method, whose
  members are sized by this one again, so every value gets moto's size, and moto's exception.
- `Item.__init__`: each attribute is wrapped as `DynamoType(value)` wraps it (one function,
  without moto's `list(dict)[0]` and type-test calls) and its size added to the item's; the
  first attribute that takes the total over moto's limit raises moto's `ItemSizeTooLarge`, as
  moto's loop does at that attribute (sizes only add up). Attributes set later (updates) still
  go through moto's `LimitedSizeDict` check, with these sizes. An item whose attribute names are
  not all text is built by moto's own constructor.
- `Table._validate_key_sizes`: the same names, order and exceptions (`HashKeyTooLong`,
  `RangeKeyTooLong`), an S, N or B key value sized without building a `DynamoType` for it.

`item_size(attrs)` is moto's `Item.size()` of an item's attributes, for the other patches
(`moto_projection` gives projected items their size). Tests compare every size, item and
refusal with moto's own, on seeded random values of every type, non-ASCII text and the limits'
boundaries (tests/local_stack/test_moto_item_size.py).

Measured in-process (`time.process_time` around moto's `call_action`, the other patches
installed, least of 9 runs): 40 TransactWriteItems of 50 small puts (the notice delivery records)
took 194 ms of moto's CPU with the first version, 171 ms now (131 ms with `moto_keys`).
Installed by the local stack and the tests with the other moto patches.
"""
from __future__ import annotations

from typing import Any

_installed = False
LIMIT = 405000  # moto's own (dynamo_type.LimitedSizeDict)
_ITERATED = ("SS", "NS", "BS", "L", "M")  # the kinds whose value moto's size iterates
_DynamoType: Any = None  # moto's class and its own size method, bound by bind()
_original_size: Any = None


class Unusual(Exception):
    """A value of a form the one-pass size leaves to moto's own method."""


def bind() -> None:
    """Binds moto's DynamoType (idempotent); install() and moto_projection call it."""
    global _DynamoType, _original_size
    if _DynamoType is None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        _original_size = getattr(DynamoType.size, "__wrapped__", DynamoType.size)
        _DynamoType = DynamoType


def install() -> None:
    """Patches moto's DynamoType.size, Item constructor and Table key size check (idempotent)."""
    global _installed
    if _installed:
        return
    bind()
    from moto.dynamodb.exceptions import HashKeyTooLong, ItemSizeTooLarge, RangeKeyTooLong
    from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
    from moto.dynamodb.models.table import Table

    original_init = Item.__init__
    original_key_sizes = Table._validate_key_sizes

    def __init__(self, hash_key, range_key, attrs):
        if type(attrs) is not dict:
            return original_init(self, hash_key, range_key, attrs)
        self.hash_key = hash_key
        self.range_key = range_key
        built = LimitedSizeDict.__new__(LimitedSizeDict)
        total = 0
        for key, value in attrs.items():
            if type(key) is not str:
                return original_init(self, hash_key, range_key, attrs)
            value = wrap(value)
            total += (len(key) if key.isascii() else len(key.encode("utf-8"))) + value_size(value)
            if total > LIMIT:
                raise ItemSizeTooLarge
            dict.__setitem__(built, key, value)
        self.attrs = built

    def _validate_key_sizes(self, item_attrs):
        for hash_name in self.hash_key_names:
            hash_value = item_attrs.get(hash_name)
            if hash_value:
                if key_size(hash_value) > HASH_KEY_MAX_LENGTH:
                    raise HashKeyTooLong
        for range_name in self.range_key_names:
            range_value = item_attrs.get(range_name)
            if range_value:
                if key_size(range_value) > RANGE_KEY_MAX_LENGTH:
                    raise RangeKeyTooLong

    for patched, original in ((__init__, original_init), (_validate_key_sizes, original_key_sizes),
                              (value_size, _original_size)):
        patched.__wrapped__ = original
    Item.__init__ = __init__
    Table._validate_key_sizes = _validate_key_sizes
    _DynamoType.size = value_size
    _installed = True


def installed() -> bool:
    return _installed


def wrap(value: Any) -> Any:
    """`DynamoType(value)`: a one-member dict wrapped here (lists and maps recursively), anything
    else by moto's constructor."""
    if type(value) is dict and len(value) == 1:
        ((kind, inner),) = value.items()
        if kind == "L":
            if type(inner) is not list:
                return _DynamoType(value)
            inner = [wrap(member) for member in inner]
        elif kind == "M":
            if type(inner) is not dict:
                return _DynamoType(value)
            inner = {name: wrap(member) for name, member in inner.items()}
        made = object.__new__(_DynamoType)
        made.type = kind
        made.value = inner
        return made
    return _DynamoType(value)


def key_size(value: Any) -> int:
    """`DynamoType(value).size()` of a key value as a request holds it ({"S": "text"})."""
    if type(value) is dict and len(value) == 1:
        ((kind, inner),) = value.items()
        if type(inner) is str:
            if kind == "N":
                return len(inner)
            if kind == "S" or kind == "B":
                return len(inner) if inner.isascii() else len(inner.encode("utf-8"))
        elif type(inner) is bytes and (kind == "B" or kind == "S"):
            return len(inner)
    return value_size(wrap(value))


def value_size(value: Any) -> int:
    """moto's `DynamoType.size()` (the patched method)."""
    try:
        return _size(value)
    except Unusual:
        return _original_size(value)  # moto's code; its members come back here


def item_size(attrs: dict) -> int:
    """moto's `Item.size()` of these attributes (its names' UTF-8 lengths and its values' sizes,
    as a map's members are summed); raises Unusual where moto's own must answer."""
    total = 0
    for name, value in attrs.items():
        if type(name) is not str or type(value) is not _DynamoType:
            raise Unusual
        total += (len(name) if name.isascii() else len(name.encode("utf-8"))) + _size(value)
    return total


def _size(value: Any) -> int:
    """moto's size of a value of the usual forms; Unusual for any other form anywhere in it.

    A map member is sized as itself where moto sizes `DynamoType(member)`: for the usual forms
    that copy has the same type and values."""
    kind = value.type
    inner = value.value
    cls = type(inner)
    if cls is str:
        if kind == "N":
            return len(inner)  # moto: len(str(value)), not the UTF-8 length
        if kind in _ITERATED:
            raise Unusual
        return len(inner) if inner.isascii() else len(inner.encode("utf-8"))
    if cls is dict:
        if kind != "M":
            raise Unusual
        return item_size(inner)
    if cls is list:
        total = 0
        if kind == "L":
            for member in inner:
                if type(member) is not _DynamoType:
                    raise Unusual
                total += _size(member)
        elif kind == "NS":
            for member in inner:
                if type(member) is not str:
                    raise Unusual
                total += len(member)
        elif kind == "SS" or kind == "BS":
            for member in inner:
                if type(member) is str:
                    total += len(member) if member.isascii() else len(member.encode("utf-8"))
                elif type(member) is bytes:
                    total += len(member)
                else:
                    raise Unusual
        else:
            raise Unusual
        return total
    if (cls is bool or cls is bytes) and kind != "N" and kind not in _ITERATED:
        return 1 if cls is bool else len(inner)
    raise Unusual
