"""TransactWriteItems in moto without a copy of the whole table per transaction.

moto 5.2.5's `DynamoDBBackend.transact_write_items` keeps its rollback backup by calling
`copy.deepcopy(self.tables[name])` once for every item of the transaction that names a table,
before it applies anything. A transaction therefore costs O(items in the table x items in the
transaction): on the local stack, with every Roster item in one table, creating 200 invitations
took 228 s and two batches of 100 took 59 s and then 131 s. DynamoDB's cost does not grow with
the table, so the emulator, not Roster, was what the mail benchmark measured.

`install()` wraps that method. The wrapper

1. snapshots, before moto applies anything, only the items the transaction writes (Put, Update,
   Delete; a ConditionCheck changes nothing): a deep copy of each current item, or "absent",
   plus the length of the table's stream shard, if it has one;
2. calls moto's own method, so every check, validation and error of moto's stays as it is, while
   `copy.deepcopy` of a whole `Table` inside that call returns the table itself: moto's "restore
   the backup" then puts the same table object back, which changes nothing;
3. if moto's method raises (a cancelled transaction, a validation error, anything), puts each
   snapshot back: the item as it was, or no item where there was none (a Put of a new item or
   an Update that created one), and drops the stream records the transaction added.

The result is the same as moto's rollback for everything the transaction touched, and the
table's other items are not rebuilt: a write another thread committed meanwhile is no longer
wiped out by the restore (moto restored a copy of the whole table).

It fails safe: the table is returned uncopied only while the wrapper runs, on its own thread.
If a later moto no longer backs up with `copy.deepcopy(table)`, its own rollback runs as
before and the snapshot restore only writes back the same state.

Installed by the local stack (`EmbeddedAws.start`, before moto serves) and by the test suite
(`tests/conftest.py`), for the in-process `mock_aws` fixtures.
"""
from __future__ import annotations

import copy
import threading
import types
from dataclasses import dataclass
from typing import Any

from infra.local_stack import moto_queries

_state = threading.local()
_installed = False
WRITE_OPS = ("Put", "Update", "Delete")


def install() -> None:
    """Patches moto's DynamoDB backend (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        if isinstance(value, Table) and getattr(_state, "active", False):
            return value  # the wrapper keeps its own, per-item backup
        return copy.deepcopy(value, memo)

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        snapshots = _snapshots(self, transact_items)
        _state.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            for snapshot in reversed(snapshots):
                snapshot.restore()
            raise
        finally:
            _state.active = False

    transact_write_items.__wrapped__ = original
    transact_write_items.__doc__ = "moto's transact_write_items with a per-item backup (infra/local_stack/moto_transactions.py)"
    models.copy = types.SimpleNamespace(**{name: getattr(copy, name) for name in ("copy", "Error")}, deepcopy=deepcopy)
    models.DynamoDBBackend.transact_write_items = transact_write_items
    _installed = True


def installed() -> bool:
    """Whether moto's DynamoDB backend uses the per-item backup."""
    from moto.dynamodb import models

    return hasattr(models.DynamoDBBackend.transact_write_items, "__wrapped__")


@dataclass
class _Snapshot:
    """One item as it was before the transaction (`item` None: there was none)."""

    table: Any
    hash_value: Any
    range_value: Any
    item: Any
    stream_length: int | None

    def restore(self) -> None:
        items = self.table.items
        if self.range_value is None:
            if self.item is None:
                items.pop(self.hash_value, None)
            else:
                items[self.hash_value] = self.item
        elif self.item is None:
            items.get(self.hash_value, {}).pop(self.range_value, None)
        else:
            items[self.hash_value][self.range_value] = self.item
        moto_queries.changed(self.table, self.hash_value, self.range_value)  # its partitions, if any
        shard = self.table.stream_shard
        if shard is not None and self.stream_length is not None:
            del shard.items[self.stream_length:]


def _snapshots(backend, transact_items: list[dict[str, Any]]) -> list[_Snapshot]:
    """A snapshot of every item the transaction may write. An operation moto will reject (no
    such table, no key) is skipped: moto fails it, and the others are restored."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    snapshots = []
    for entry in transact_items:
        for op_type, op in entry.items():
            if op_type not in WRITE_OPS or not isinstance(op, dict):
                continue
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") if op_type == "Put" else op.get("Key")
            try:
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError, AttributeError):
                continue
            if range_value is None:
                current = table.items.get(hash_value)
            else:
                current = table.items.get(hash_value, {}).get(range_value)
            shard = table.stream_shard
            snapshots.append(_Snapshot(table, hash_value, range_value, copy.deepcopy(current),
                                       len(shard.items) if shard is not None else None))
    return snapshots
