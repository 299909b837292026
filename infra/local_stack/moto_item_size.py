"""moto's 400 KB item check once per item instead of once per attribute.

moto 5.2.5 builds each written item attribute by attribute into a `LimitedSizeDict`, whose
`__setitem__` sums the size of every attribute already there: O(n²) in the item's attributes,
and each size walks nested maps and lists. A notice batch (50 recipient maps) and its 50 delivery
records spent about 15 % of the mail worker's time there (cProfile, in-process).

`install()` builds a new item's attributes without the per-key check and then checks the whole
item once, with moto's own sizes and limit: sizes only add up, so the total exceeds the limit
exactly when some step of moto's own loop would have, and the same ItemSizeTooLarge is raised.
Attributes set later (updates) still go through moto's check. A test compares both.
Installed by the local stack and the tests with the other moto patches.
"""
from __future__ import annotations

_installed = False
LIMIT = 405000  # moto's own (dynamo_type.LimitedSizeDict)


def install() -> None:
    """Patches moto's Item constructor (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    original = Item.__init__

    def __init__(self, hash_key, range_key, attrs):
        self.hash_key = hash_key
        self.range_key = range_key
        built = LimitedSizeDict.__new__(LimitedSizeDict)
        for key, value in attrs.items():
            dict.__setitem__(built, key, DynamoType(value))
        if sum(bytesize(key) + value.size() for key, value in built.items()) > LIMIT:
            raise ItemSizeTooLarge
        self.attrs = built

    __init__.__wrapped__ = original
    Item.__init__ = __init__
    _installed = True


def installed() -> bool:
    return _installed
