"""One TransactWriteItems call, its items given by PynamoDB's own operation arguments, its failed
conditions turned into domain errors."""
from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.errors import Contention, DomainError

MAX_TRANSACTION_ITEMS = 100


class Transaction:
    """Each item comes from PynamoDB's `get_save_kwargs_from_instance` and its siblings, and may
    name the error its failed condition means (an error or a callable that makes it)."""

    def __init__(self, connection: Connection):
        self._connection = connection
        self._items: dict[str, list[dict]] = {"check": [], "delete": [], "put": [], "update": []}
        self._errors: dict[str, list] = {"check": [], "delete": [], "put": [], "update": []}

    def check(self, model_cls, hash_key: str, range_key: str, condition, error: DomainError) -> None:
        if condition is None:
            raise TypeError("a condition check needs a condition")
        self._add("check", model_cls.get_operation_kwargs_from_class(hash_key, range_key, condition=condition), error)

    def put(self, item, condition=None, error: DomainError | None = None) -> None:
        self._add("put", item.get_save_kwargs_from_instance(condition=condition), error)

    def put_raw(self, model_cls, raw: dict) -> None:
        """An unconditional put of an item already in DynamoDB's form (`rows.raw_writer`): for
        items written by the ten thousand, where a model instance per item costs more CPU than
        the write itself."""
        self._add("put", {"TableName": model_cls.Meta.table_name, "Item": raw}, None)

    def update(self, item, actions: list, condition=None, error: DomainError | None = None) -> None:
        self._add("update", item.get_update_kwargs_from_instance(actions=actions, condition=condition,
                                                                 add_version_condition=False), error)

    def delete(self, item, condition=None, error: DomainError | None = None) -> None:
        self._add("delete", item.get_delete_kwargs_from_instance(condition=condition, add_version_condition=False),
                  error)

    def _add(self, kind: str, operation: dict, error: DomainError | None) -> None:
        self._items[kind].append(operation)
        self._errors[kind].append(error)

    @property
    def size(self) -> int:
        return sum(len(errors) for errors in self._errors.values())

    def commit(self) -> None:
        if not self.size:
            return
        try:
            self._connection.transact_write_items(
                condition_check_items=self._items["check"], delete_items=self._items["delete"],
                put_items=self._items["put"], update_items=self._items["update"])
        except TransactWriteError as exc:
            raise self._domain_error(exc) from exc

    def _domain_error(self, exc: TransactWriteError) -> Exception:
        # PynamoDB sends condition checks, deletes, puts, updates in that order.
        ordered = self._errors["check"] + self._errors["delete"] + self._errors["put"] + self._errors["update"]
        reasons = exc.cancellation_reasons or []
        for reason, error in zip(reasons, ordered):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                if callable(error):
                    error = error()
                return error or Contention()
        if any(reason is not None and reason.code == "TransactionConflict" for reason in reasons):
            return Contention()
        return exc
