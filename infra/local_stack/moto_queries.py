"""Query in moto at the cost of the page read, not of the table.

moto 5.2.5's `Table.query` starts from `self.all_items()`, which lists every item of the table
and sorts them all (by DynamoType comparisons in Python), keeps the items of the queried
partition, sorts those again, walks from the first of them to the ExclusiveStartKey and only
then reads the page. With every Roster item in one table, a profile of the local stack during
the 10,000-recipient notice benchmark (~50,000 items) put moto's Query at 24 % of all CPU: the
audience is read through one GSI partition of 10,000 items, about seven 1 MB pages, twice, and
every page cost O(table + partition log partition). DynamoDB's cost is O(page).

`install()` wraps `Table.query` and keeps moto's own code answering; it only chooses the list
that `all_items()` returns while the query runs (on its thread, for that table):

1. The partition, maintained as items are written. Per table (an attribute of moto's `Table`,
   dropped by a deep copy), per tuple of attribute names a query of an index has keyed on: a map
   from the key's values to the items whose attributes equal them (DynamoType equality: what
   moto's filter keeps; `hash` agrees with it, so `1` and `1.0` share a partition). Built by one
   walk of the table on the first such query, then kept up to date by re-filing one item after
   every write: `Table.put_item` and `Table.delete_item` (which BatchWriteItem, TransactWriteItems,
   PartiQL and imports go through), `DynamoDBBackend.update_item` (it changes the stored item in
   place: an update can move it into or out of a partition, or change its sort key or size) and
   the rollback of `moto_transactions` (which calls `changed`). A query of the table itself reads
   its partition from `table.items[hash_key]` as moto stores it.
2. The order. The partition's items in the order moto's sort gives them (`sorted_items` on an
   index, the range key on the table), cached until one of its items changes. The first query of
   an index partition runs moto's own query on the candidates just far enough to see which items
   its filter keeps and which attributes it sorts by (it stops at `sorted_items`). The cached
   order is used only when each sort attribute has one type (S, N or B) across the partition:
   then sorting by the plain values is moto's DynamoType order, and no two items compare equal
   (the table's key is among the sort attributes).
3. The page. moto walks from the start of the sorted partition to the first item that is not
   `_item_comes_before_dct` the ExclusiveStartKey; over a sorted order that is a bisection (with
   moto's own comparison). moto then reads item after item until its Limit or its 1 MB limit
   stops it, so its answer depends on nothing beyond the item it stops at: moto's query runs on
   the window from the start item to where the sizes say the page stops (one item more, the one
   that stops it). Its answer is taken when moto stopped inside the window (a LastEvaluatedKey)
   or the window reached the partition's end; otherwise (a range condition or legacy filter that
   skips items) the window doubles and moto runs again. While it runs, `Item.size` answers for
   the partition's items from sizes kept with the order (moto asks twice an item; the items
   have not changed since, or the order would have been dropped).
4. The page's copy. moto deep-copies the items it read before it projects, filters and
   answers them; about 60 % of a page's remaining cost. Nothing on that path changes an item's
   values (projection and filters build or read, the answer is serialized before the next
   request is served), so while the patched query runs the copy is shallow: new items over the
   same attribute values, which moto's own item copy would have duplicated.

Every shape the above does not cover (a table without range key, several range conditions,
mixed key types, an ExclusiveStartKey without the sort attributes, an unhashable key value) runs
moto's query on the partition's candidates in `all_items` order, as before; Scans and everything
else see the whole table. A self-check (`SELF_CHECK`, or ROSTER_MOTO_QUERY_CHECK=1) compares every
answer with moto's own over the whole table and raises on a difference: a missed write hook would
otherwise go unnoticed. The tests turn it on. Writes and queries must not run concurrently on one
table (the local stack serves one DynamoDB request at a time; moto itself is not safe otherwise).
Installed with `moto_transactions` by the local stack and the tests.
"""
from __future__ import annotations

import copy
import os
import threading
import types
from decimal import Decimal
from operator import itemgetter
from typing import Any

_state = threading.local()
_installed = False
SELF_CHECK = os.environ.get("ROSTER_MOTO_QUERY_CHECK") == "1"
ATTR = "_roster_partitions"  # the per-table state, an attribute of moto's Table
SORTABLE = ("S", "N", "B")


class _Captured(Exception):
    """Stops moto's query at its sort: the partition's order (None: not usable)."""

    def __init__(self, order: "_Order | None"):
        super().__init__()
        self.order = order


def install() -> None:
    """Patches moto's DynamoDB Table and backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    original_size = Item.size
    original_sorted_items = Table.sorted_items
    original_put, original_delete = Table.put_item, Table.delete_item
    original_update = models.DynamoDBBackend.update_item
    from moto.dynamodb.models import table as table_module

    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        if getattr(_state, "narrowed", None) is not None and type(value) is list \
                and all(type(item) is Item for item in value):
            return [_shallow(item) for item in value]
        return copy.deepcopy(value, memo)

    table_module.copy = types.SimpleNamespace(copy=copy.copy, deepcopy=deepcopy, Error=copy.Error)

    def all_items(self) -> list:
        narrowed = getattr(_state, "narrowed", None)
        if narrowed is not None and narrowed[0] is self:
            return narrowed[1]
        return original_all_items(self)

    def size(self) -> int:
        sizes = getattr(_state, "sizes", None)
        if sizes is not None:
            known = sizes.get(id(self))
            if known is not None:
                return known
        return original_size(self)

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        if getattr(_state, "capture", None) is self:
            raise _Captured(_Order.of(self, items, hash_key_attrs, range_key_attrs))
        return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)

    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
              projection_expressions, index_name=None, consistent_read=False, filter_expression=None,
              **kwargs: Any):
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                projection_expressions, index_name, consistent_read, filter_expression)
        if not SELF_CHECK:
            return _Query(self, original_query, args, kwargs).answer()
        return _checked(self, original_query, args, kwargs)

    def put_item(self, item_attrs, *args: Any, **kwargs: Any):
        stored = None
        try:
            stored = original_put(self, item_attrs, *args, **kwargs)
            return stored
        finally:
            if ATTR in self.__dict__:
                if stored is not None:
                    changed(self, stored.hash_key, stored.range_key)
                else:
                    _changed_attrs(self, item_attrs)

    def delete_item(self, hash_key, range_key):
        try:
            return original_delete(self, hash_key, range_key)
        finally:
            if ATTR in self.__dict__:
                if self.range_key_attr and not range_key:
                    forget(self)  # moto popped the whole hash key's dict
                else:
                    changed(self, hash_key, range_key)

    def update_item(self, table_name, key, *args: Any, **kwargs: Any):
        table = self.tables.get(table_name) if isinstance(table_name, str) else None
        if table is None or ATTR not in table.__dict__:
            return original_update(self, table_name, key, *args, **kwargs)
        try:
            keys = _update_keys(table, key)
        except Exception:  # noqa: BLE001 - moto decides what it makes of the key
            keys = None
        try:
            return original_update(self, table_name, key, *args, **kwargs)
        finally:  # the stored item changed in place (or was created), even if moto then raised
            if keys is None:
                forget(table)
            else:
                changed(table, *keys)

    for wrapper, original in ((query, original_query), (all_items, original_all_items),
                              (sorted_items, original_sorted_items), (put_item, original_put),
                              (delete_item, original_delete)):
        wrapper.__wrapped__ = original
        setattr(Table, original.__name__, wrapper)
    size.__wrapped__ = original_size
    Item.size = size
    update_item.__wrapped__ = original_update
    models.DynamoDBBackend.update_item = update_item
    _installed = True


def installed() -> bool:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    return all(hasattr(f, "__wrapped__") for f in (Table.query, Table.put_item, Table.delete_item,
                                                   models.DynamoDBBackend.update_item))


# --- the partitions, kept up to date by every write -----------------------------------------

class _Partitions:
    """One table's index partitions and cached orders; a copy of the table starts without."""

    def __init__(self, items_dict: Any = None):
        self.items_ref = items_dict  # the table's `items`: another dict means another table state
        self.maps: dict[tuple, _Map] = {}  # attribute names -> partitions by their values
        self.table_orders: dict[Any, _Order] = {}  # hash key -> the order of its items

    def __deepcopy__(self, memo: dict) -> "_Partitions":
        return _Partitions()

    def __reduce__(self):
        return _Partitions, ()


class _Map:
    """The items of a table by the values of some attributes (those a query keys on)."""

    def __init__(self, names: tuple, table: Any):
        self.names = names
        self.filed: dict[tuple, tuple] = {}  # primary key -> the values it is filed under
        self.parts: dict[tuple, dict] = {}  # values -> {primary key: item}
        self.unhashable: dict[tuple, Any] = {}  # primary key -> item whose values have no hash
        self.orders: dict[tuple, dict] = {}  # values -> {index fingerprint: _Order}
        for primary, item in _stored_items(table):
            self.file(primary, item)

    def file(self, primary: tuple, item: Any) -> None:
        attrs = item.attrs
        values = tuple(attrs.get(name) for name in self.names)
        if any(value is None for value in values):
            return  # moto keeps no item without the attribute
        if not _hashable(values):  # a set, list or map: moto compares it item by item
            self.unhashable[primary] = item
            return
        self.filed[primary] = values
        self.parts.setdefault(values, {})[primary] = item
        self.orders.pop(values, None)

    def unfile(self, primary: tuple) -> None:
        self.unhashable.pop(primary, None)
        values = self.filed.pop(primary, None)
        if values is None:
            return
        part = self.parts[values]
        del part[primary]
        if not part:
            del self.parts[values]
        self.orders.pop(values, None)


def _hashable(values: tuple) -> bool:
    try:
        hash(values)  # DynamoType's hash: its type and cast value, as its equality
        return True
    except Exception:  # noqa: BLE001 - TypeError, or a number Decimal cannot read
        return False


def changed(table: Any, hash_value: Any, range_value: Any) -> None:
    """The item stored under this key may have been written, changed or removed: re-file it.
    Every writer of moto's table calls this (the wrappers above; moto_transactions' rollback)."""
    state = table.__dict__.get(ATTR)
    if state is None:
        return
    if state.items_ref is not table.items:
        forget(table)
        return
    try:
        primary = (hash_value, range_value if table.range_key_attr else None)
        item = _stored(table, *primary)
        state.table_orders.pop(hash_value, None)
        for partitions in state.maps.values():
            partitions.unfile(primary)
            if item is not None:
                partitions.file(primary, item)
    except Exception:  # noqa: BLE001 - rebuilt from the table on the next query
        forget(table)


def forget(table: Any) -> None:
    """Drops the table's partitions; the next query builds them again from the table."""
    table.__dict__.pop(ATTR, None)


def _partitions(table: Any) -> _Partitions:
    state = table.__dict__.get(ATTR)
    if state is None or state.items_ref is not table.items:
        state = _Partitions(table.items)
        setattr(table, ATTR, state)
    return state


def _stored_items(table: Any):
    if table.range_key_attr:
        for hash_value, hash_set in list(table.items.items()):
            for range_value, item in list(hash_set.items()):
                yield (hash_value, range_value), item
    else:
        for hash_value, item in list(table.items.items()):
            yield (hash_value, None), item


def _stored(table: Any, hash_value: Any, range_value: Any) -> Any:
    stored = table.items.get(hash_value)  # get: moto's items is a defaultdict
    if not table.range_key_attr:
        return stored
    if range_value is None or not stored:
        return None
    return stored.get(range_value)


def _changed_attrs(table: Any, item_attrs: Any) -> None:
    """After a put that raised: the key as moto reads it from the item, if it can."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(item_attrs[table.hash_key_attr])
        range_value = DynamoType(item_attrs[table.range_key_attr]) if table.range_key_attr else None
    except Exception:  # noqa: BLE001 - no key, so moto stored nothing
        return
    changed(table, hash_value, range_value)


def _update_keys(table: Any, key: Any) -> tuple:
    """The key `DynamoDBBackend.update_item` reads (moto 5.2.5's three cases)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if table.hash_key_attr in key and table.range_key_attr in key:
        return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])
    if table.hash_key_attr in key:
        return DynamoType(key[table.hash_key_attr]), None
    return DynamoType(key), None


# --- the sorted partition -------------------------------------------------------------------

class _Order:
    """A partition sorted as moto sorts it, with what moto's walk compares."""

    def __init__(self, items: list, hash_attrs: list, range_attrs: list, kinds: dict):
        self.items = items
        self.hash_attrs, self.range_attrs = hash_attrs, range_attrs
        self.kinds = kinds  # sort attribute -> (DynamoType type, Python type of its value)
        self._reversed: list | None = None
        self.sizes: dict[int, int] = {}  # id of an item -> its size, filled as pages are read

    @classmethod
    def of(cls, table: Any, items: list, hash_attrs: list, range_attrs: list) -> "_Order | None":
        """The items sorted by moto's sort attributes, if each has one type (else None)."""
        names = table._generate_attr_to_sort_by(hash_attrs, range_attrs)
        kinds: dict[str, tuple] = {}
        keyed = []
        try:
            for item in items:
                attrs = item.attrs
                key = []
                for name in names:
                    value = attrs.get(name)
                    if value is None:
                        return None
                    kind = (value.type, type(value.value))
                    known = kinds.setdefault(name, kind)
                    if known != kind or kind[0] not in SORTABLE:
                        return None
                    key.append(Decimal(value.value) if kind[0] == "N" else value.value)  # DynamoType.cast_value
                keyed.append((tuple(key), item))
            keyed.sort(key=itemgetter(0))
        except Exception:  # noqa: BLE001 - moto sorts and decides
            return None
        return cls([item for _, item in keyed], list(hash_attrs), list(range_attrs), kinds)

    def sequence(self, forward: bool) -> list:
        if forward:
            return self.items
        if self._reversed is None:
            self._reversed = self.items[::-1]
        return self._reversed

    def size(self, item: Any) -> int:
        size = self.sizes.get(id(item))
        if size is None:
            size = self.sizes[id(item)] = item.size()
        return size


class _Query:
    """One call of the patched Table.query."""

    def __init__(self, table: Any, original: Any, args: tuple, kwargs: dict):
        self.table, self.original, self.args, self.kwargs = table, original, args, kwargs

    def run(self, items: list | None, sizes: dict | None = None):
        """moto's own query, with `all_items()` returning `items` (None: the whole table) and
        `Item.size` answering from `sizes` (id of an item -> its size) where it can."""
        if items is None:
            return self.original(self.table, *self.args, **self.kwargs)
        outer = getattr(_state, "narrowed", None), getattr(_state, "sizes", None)
        _state.narrowed, _state.sizes = (self.table, items), sizes
        try:
            return self.original(self.table, *self.args, **self.kwargs)
        finally:
            _state.narrowed, _state.sizes = outer

    def answer(self):
        order = self.order()
        if order is None:
            return self.run(self.candidates())
        limit, start_key, forward = self.args[3:6]
        items = order.sequence(forward)
        start = self.start(order, items, start_key, forward)
        if start is None:
            return self.run(self.candidates())
        end = self.page_end(order, items, start, limit)
        while True:
            window = items[start:end]
            answer = self.run(window if forward else window[::-1], order.sizes)
            if answer[2] is not None or end >= len(items):
                return answer  # moto stopped inside the window, or saw the rest of the partition
            end = min(len(items), end + max(end - start, 16))

    # the partition's order, when the fast path applies
    def order(self) -> _Order | None:
        hash_key, forward, index_name = self.args[0], self.args[5], self.args[7]
        if not isinstance(forward, bool):
            return None
        table = self.table
        state = _partitions(table)
        if not index_name:
            if hash_key is None or not table.range_key_attr or not _hashable((hash_key,)):
                return None
            order = state.table_orders.get(hash_key)
            if order is None:
                hash_set = table.items.get(hash_key)
                order = _Order.of(table, list(hash_set.values()) if hash_set else [],
                                  [table.hash_key_attr], [table.range_key_attr])
                if order is None:
                    return None
                state.table_orders[hash_key] = order
            return order
        conditions = self.kwargs.get("hash_key_conditions")
        range_conditions = self.kwargs.get("range_key_conditions")
        if not conditions or (range_conditions and len(range_conditions) > 1):
            return None
        index = {i.name: i for i in table.all_indexes()}.get(index_name)
        if index is None:
            return None
        partitions, values = self.partition(state, conditions)
        if partitions is None or partitions.unhashable:
            return None
        fingerprint = (index_name, id(index), tuple((k.get("AttributeName"), k.get("KeyType")) for k in index.schema))
        orders = partitions.orders.get(values)
        order = orders.get(fingerprint) if orders else None
        if order is None:
            order = self.capture(list(partitions.parts.get(values, {}).values()))
            if order is None:
                return None
            partitions.orders.setdefault(values, {})[fingerprint] = order
        return order

    def partition(self, state: _Partitions, conditions: list) -> tuple:
        names = tuple(name for name, _ in conditions)
        values = tuple(value for _, value in conditions)
        if not _hashable(values):
            return None, None
        partitions = state.maps.get(names)
        if partitions is None:
            partitions = state.maps[names] = _Map(names, self.table)
        return partitions, values

    def capture(self, candidates: list) -> _Order | None:
        """moto's query on the candidates, up to its sort: the items it keeps, sorted."""
        outer = getattr(_state, "capture", None)
        _state.capture = self.table
        try:
            self.run(candidates)
        except _Captured as captured:
            return captured.order
        finally:
            _state.capture = outer
        return None  # moto did not sort: not the query this module knows

    def start(self, order: _Order, items: list, start_key: Any, forward: bool) -> int | None:
        """The first item moto's walk does not skip: a bisection with moto's own comparison."""
        if start_key is None:
            return 0
        from moto.dynamodb.models.dynamo_type import DynamoType

        try:
            for name, kind in order.kinds.items():
                value = DynamoType(start_key[name])
                if (value.type, type(value.value)) != kind:
                    return None
            before = self.table._item_comes_before_dct
            low, high = 0, len(items)
            while low < high:
                middle = (low + high) // 2
                if before(items[middle], start_key, order.hash_attrs, order.range_attrs, forward):
                    low = middle + 1
                else:
                    high = middle
            return low
        except Exception:  # noqa: BLE001 - moto walks and decides
            return None

    @staticmethod
    def page_end(order: _Order, items: list, start: int, limit: Any) -> int:
        """Where moto's page stops if it keeps every item it reads, plus that item."""
        from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

        total = count = 0
        index = start
        while index < len(items):
            if count == limit:
                break
            size = order.size(items[index])
            if total + size > RESULT_SIZE_LIMIT:
                break
            total += size
            count += 1
            index += 1
        return min(index + 1, len(items))

    # the general case: moto's query on the partition's candidates
    def candidates(self) -> list | None:
        """The items moto's query could keep, in all_items' order; None: the whole table."""
        hash_key, index_name = self.args[0], self.args[7]
        table = self.table
        if not index_name:
            if hash_key is None:
                return None
            if not _hashable((hash_key,)):
                return None
            stored = table.items.get(hash_key)
            if stored is None:
                return []
            items = list(stored.values()) if table.range_key_attr else [stored]
        else:
            conditions = self.kwargs.get("hash_key_conditions")
            if not conditions:
                return None
            partitions, values = self.partition(_partitions(table), conditions)
            if partitions is not None:
                items = list(partitions.parts.get(values, {}).values())
                items += [item for item in partitions.unhashable.values() if _matches(item, conditions)]
            else:
                items = [item for _, item in _stored_items(table) if _matches(item, conditions)]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _matches(item: Any, conditions: list) -> bool:
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


# --- the self-check -------------------------------------------------------------------------

def _checked(table: Any, original: Any, args: tuple, kwargs: dict):
    """The patched answer, compared with moto's own over the whole table (SELF_CHECK)."""
    query = _Query(table, original, args, kwargs)
    fast = slow = fast_error = slow_error = None
    try:
        fast = query.answer()
    except Exception as error:  # noqa: BLE001 - compared below
        fast_error = error
    try:
        slow = query.run(None)
    except Exception as error:  # noqa: BLE001
        slow_error = error
    if fast_error is not None or slow_error is not None:
        if type(fast_error) is not type(slow_error) or str(fast_error) != str(slow_error):
            raise AssertionError(f"moto_queries: {table.name} {args[7] or 'table'} query raised "
                                 f"{fast_error!r}, moto's own {slow_error!r}") from fast_error
        raise fast_error
    if _plain(fast) != _plain(slow):
        raise AssertionError(f"moto_queries: {table.name} {args[7] or 'table'} query answered\n"
                             f"{_plain(fast)}\nmoto's own\n{_plain(slow)}")
    return fast


def _plain(answer: tuple) -> tuple:
    items, scanned, last = answer
    return [item.to_json() for item in items], scanned, last


def _shallow(item: Any) -> Any:
    """A new Item over the same attribute values (moto's copy without copying the values)."""
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    copied = Item.__new__(Item)
    copied.hash_key, copied.range_key = item.hash_key, item.range_key
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, item.attrs)
    copied.attrs = attrs
    return copied
