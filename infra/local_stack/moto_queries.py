"""Query in moto without sorting the whole table on each call.

moto 5.2.5's `Table.query` starts from `self.all_items()`, which lists every item of the table
and sorts them all (by DynamoType comparisons in Python), and only then keeps the items of the
queried partition: on the table itself those under the hash key, on an index those whose
attributes equal the key condition's. Every Query therefore costs O(n log n) in the size of the
table. With every Roster item in one table, a profile of the local stack during the 1,000-mail
benchmark (py-spy, after `moto_transactions` had removed the whole-table copies) showed about
60 % of moto's time in `Table.query` → `all_items` and `DynamoType.__eq__`/`__lt__`: each
invitation costs a by-email Query and the mail worker two more.

`install()` wraps `Table.query`: while it runs (on its thread, for that table), `all_items()`
returns only the candidates, sorted as `all_items` sorts them:

- a query of the table: the items stored under the hash key (moto keeps exactly those with
  `item.hash_key == hash_key`);
- a query of an index: the items whose attributes have the key condition's type and value for
  every hash key attribute (strings and binaries compared as stored; other types through
  DynamoType's equality, as moto does).

Each is the subset of the table that moto's own filter keeps, so moto's code then sorts, pages,
filters and projects exactly as before, on far fewer items. Scans and everything else still see
the whole table. Installed with `moto_transactions` by the local stack and the tests.
"""
from __future__ import annotations

import threading
from typing import Any

_state = threading.local()
_installed = False


def install() -> None:
    """Patches moto's DynamoDB Table (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def all_items(self) -> list:
        narrowed = getattr(_state, "narrowed", None)
        if narrowed is not None and narrowed[0] is self:
            return narrowed[1]
        return original_all_items(self)

    def query(self, hash_key, *args: Any, **kwargs: Any):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        candidates = _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        if candidates is None:
            return original_query(self, hash_key, *args, **kwargs)
        outer = getattr(_state, "narrowed", None)
        _state.narrowed = (self, candidates)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _state.narrowed = outer

    query.__wrapped__ = original_query
    Table.query, Table.all_items = query, all_items
    _installed = True


def installed() -> bool:
    from moto.dynamodb.models.table import Table

    return hasattr(Table.query, "__wrapped__")


def _candidates(table, hash_key, index_name: str | None, hash_key_conditions) -> list | None:
    """The items moto's query could keep, in all_items' order; None: no narrowing (moto decides)."""
    if not index_name:
        if hash_key is None:
            return None
        stored = table.items.get(hash_key)
        if stored is None:
            return []
        items = list(stored.values()) if table.range_key_attr else [stored]
    else:
        if not hash_key_conditions:
            return None
        items = [item for item in _every_item(table) if _matches(item, hash_key_conditions)]
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _every_item(table) -> list:
    if table.range_key_attr:
        return [item for hash_set in table.items.values() for item in hash_set.values()]
    return list(table.items.values())


def _matches(item, conditions) -> bool:
    attrs = item.attrs
    for name, expected in conditions:
        value = attrs.get(name)
        if not value:
            return False
        if expected.type in ("S", "B"):
            if value.type != expected.type or value.value != expected.value:
                return False
        elif value != expected:
            return False
    return True
