"""TransactWriteItems in moto 5.2.5 that rolls back its own items, not a copy of the whole table.

moto's `DynamoDBBackend.transact_write_items` backs up with `copy.deepcopy(table)` once for
every item of the transaction and, when the transaction fails, puts that copy in place of the
table. So (1) a write another thread committed while the transaction ran is lost with the
failed transaction, and (2) every transaction costs a copy of the whole table per item, which
grows with the data (Roster keeps every item in one table).

`install()` wraps that method: before moto applies anything it deep-copies only the items the
transaction writes (or notes that there is none) and the length of the table's stream; while
moto's own method runs, `copy.deepcopy` of a `Table` inside moto's module returns the table
itself; if that method raises, the items are put back as they were and the stream records it
added are dropped. Every check, error and write is still moto's.

Written for moto 5.2.5: `install()` raises on any other version (`moto_version.py`), so an
upgrade shows whether the patch is still needed (docs/local-stack.md, "moto patches").
"""
from __future__ import annotations

import copy
import threading
import types
from typing import Any

from infra.local_stack import moto_version

_state = threading.local()


def install() -> None:
    """Patches moto's DynamoDB backend (idempotent)."""
    moto_version.check_moto_version(__name__)
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    if hasattr(original, "__wrapped__"):
        return

    def deepcopy(value: Any, memo: dict | None = None) -> Any:
        if isinstance(value, Table) and getattr(_state, "active", False):
            return value  # restoring it changes nothing: the wrapper restores the items
        return copy.deepcopy(value, memo)

    def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
        restores = [_snapshot(self, op_type, op) for entry in transact_items for op_type, op in entry.items()]
        _state.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            for restore in reversed(restores):
                restore()
            raise
        finally:
            _state.active = False

    transact_write_items.__wrapped__ = original
    models.copy = types.SimpleNamespace(copy=copy.copy, deepcopy=deepcopy, Error=copy.Error)
    models.DynamoDBBackend.transact_write_items = transact_write_items


def uninstall() -> None:
    """Gives moto its own method back (for tests that compare)."""
    from moto.dynamodb import models

    models.DynamoDBBackend.transact_write_items = getattr(
        models.DynamoDBBackend.transact_write_items, "__wrapped__", models.DynamoDBBackend.transact_write_items)
    models.copy = copy


def installed() -> bool:
    from moto.dynamodb import models

    return hasattr(models.DynamoDBBackend.transact_write_items, "__wrapped__")


def _snapshot(backend, op_type: str, op: Any):
    """A function putting back the item a Put, Update or Delete may write, as it is now; a no-op
    for a ConditionCheck or an operation moto will reject (no such table, no key)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
    if op_type not in ("Put", "Update", "Delete") or table is None:
        return lambda: None
    try:
        key = op["Item"] if op_type == "Put" else op["Key"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError):
        return lambda: None
    slot = hash_key if range_key is None else range_key
    partition = table.items if range_key is None else table.items.get(hash_key, {})
    before = copy.deepcopy(partition.get(slot))
    shard = table.stream_shard
    stream_length = len(shard.items) if shard is not None else None

    def restore() -> None:
        partition = table.items if range_key is None else table.items.setdefault(hash_key, {})
        if before is None:
            partition.pop(slot, None)
        else:
            partition[slot] = before
        if shard is not None:
            del shard.items[stream_length:]

    return restore
