"""The DynamoDB session: binds the models, runs transactions and turns their failures into
domain errors. Repositories hang off it."""
from __future__ import annotations

from typing import Any, Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError

from chalicelib.domain.errors import Conflict, DomainError
from chalicelib.models.base import bind
from chalicelib.models.audit import AUDIT_MODELS
from chalicelib.models.entities import ALL_MODELS

MAX_TRANSACTION_ITEMS = 100


class Contention(Conflict):
    """Another write touched the same items at the same moment; the caller may retry."""

    def __init__(self) -> None:
        super().__init__("The items changed concurrently; retry the request.", "concurrent_update")


class Transaction:
    """One TransactWriteItems call, each item given by PynamoDB's own operation arguments for it
    (`get_save_kwargs_from_instance` and its siblings). Each item may name the error its failed
    condition means."""

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


class Database:
    def __init__(self, table_name: str, region: str):
        models = [*ALL_MODELS, *AUDIT_MODELS]
        bind(models, table_name, region)
        from chalicelib.adapters.dynamodb_items import parse_items_as_sent

        self.connection = Connection(region=region)
        parse_items_as_sent(self.connection.session)  # before the client exists
        # PynamoDB gives each model its own botocore session and client; building each costs
        # ~70 ms of cold start, so every model (one table) shares the transactions' client.
        shared_client = self.connection.client
        for model in models:
            model._get_connection().connection._client = shared_client
        from chalicelib.repositories.accounts import AccountRepository
        from chalicelib.repositories.api_keys import ApiKeyRepository
        from chalicelib.repositories.mail import MailRepository
        from chalicelib.repositories.people import PeopleRepository
        from chalicelib.repositories.sender_identities import SenderIdentityRepository
        from chalicelib.repositories.tenants import TenantRepository

        self.tenants = TenantRepository(self)
        self.sender_identities = SenderIdentityRepository()
        self.api_keys = ApiKeyRepository()
        self.accounts = AccountRepository()
        self.people = PeopleRepository()
        self.mail = MailRepository(self)

    def transaction(self) -> Transaction:
        return Transaction(self.connection)

    def audit(self, tx: Transaction, tenant_id: str, account_id: str, actor: dict | None, action: str, now: str,
              target: str | None = None, changed=()) -> None:
        """Puts an audit entry into `tx` (nothing without an actor: internal calls)."""
        item = self.audit_item(tenant_id, account_id, actor, action, now, target, changed)
        if item is not None:
            tx.put(item)

    def audit_item(self, tenant_id: str, account_id: str, actor: dict | None, action: str, now: str,
                   target: str | None = None, changed=()):
        if actor is None:
            return None
        from chalicelib.repositories.audit import entry_item

        return entry_item(tenant_id, account_id, actor, action, now, target or account_id, changed)

    def write(self, build: Callable[[Transaction], Any]) -> Any:
        tx = self.transaction()
        result = build(tx)
        tx.commit()
        return result


def retry_on_contention(attempts: int, action: Callable[[], Any]) -> Any:
    """Runs a read-compute-write step again when its conditional write lost a race."""
    for attempt in range(attempts):
        try:
            return action()
        except Contention:
            if attempt == attempts - 1:
                raise


def update_item(model_cls, hash_key: str, range_key: str, actions: list, *, now: str, what: str,
                expected_version: int | None = None, condition=None,
                explain: Callable[[Any], DomainError] | None = None):
    """One conditional UpdateItem on a versioned item, returning the item as written.

    Only when the condition fails is the item read, to tell 404 from 409 from a rule error.
    """
    from pynamodb.exceptions import UpdateError

    item = model_cls(hash_key, range_key)
    try:
        item.update(actions + [model_cls.version.add(1), model_cls.updated_at.set(now)],
                    condition=_versioned_condition(model_cls, expected_version, condition), add_version_condition=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise _why_it_failed(model_cls, hash_key, range_key, what, expected_version, explain)
    return item


def _versioned_condition(model_cls, expected_version: int | None, condition):
    full = model_cls.pk.exists()
    if expected_version is not None:
        full &= model_cls.version == expected_version
    if condition is not None:
        full &= condition
    return full


def _why_it_failed(model_cls, hash_key: str, range_key: str, what: str, expected_version: int | None,
                   explain: Callable[[Any], DomainError] | None) -> Exception:
    """Reads the item a conditional write could not change, to tell 404 from 409 from a rule."""
    from chalicelib.domain.errors import NotFound, VersionConflict

    current = get_item(model_cls, hash_key, range_key)
    if current is None:
        return NotFound(what)
    if expected_version is not None and current.version != expected_version:
        return VersionConflict(what)
    if explain is not None:
        return explain(current)
    return Contention()


def get_item(model_cls, hash_key: str, range_key: str):
    try:
        return model_cls.get(hash_key, range_key, consistent_read=True)
    except model_cls.DoesNotExist:
        return None


def query_page(query: Callable[..., Any], hash_attribute: str, hash_value: str,
               limit: int, cursor: str | None, **kwargs) -> tuple[list, str | None]:
    """One Query call for one page; the cursor is checked against the queried partition."""
    from chalicelib.repositories import cursor as cursors

    start = cursors.decode(cursor, hash_attribute, hash_value, _key_types(query))
    result = query(hash_value, limit=limit, last_evaluated_key=start, page_size=limit, **kwargs)
    items = list(result)
    return items, cursors.encode(result.last_evaluated_key)


def _key_types(query: Callable[..., Any]) -> dict[str, str] | None:
    """The attributes (name → type) of a start key for `query`: the table's key plus the index's."""
    owner = getattr(query, "__self__", None)
    if owner is None:
        return None
    if isinstance(owner, type):  # Model.query
        model, index_keys = owner, []
    else:  # an Index's query
        model = owner._model
        index_keys = [a for a in owner.Meta.attributes.values() if a.is_hash_key or a.is_range_key]
    attributes = [model._hash_key_attribute(), model._range_key_attribute(), *index_keys]
    return {a.attr_name: a.attr_type for a in attributes if a is not None}


class _ConditionFailed(Contention):
    """The changed item's condition failed inside an audited transaction (explained after a read)."""


def update_item_audited(database: "Database", model_cls, hash_key: str, range_key: str, actions: list, *,
                        audit_item, now: str, what: str, expected_version: int | None = None, condition=None,
                        explain: Callable[[Any], DomainError] | None = None):
    """`update_item`'s contract, with the audit entry in the same TransactWriteItems."""
    return update_item_with(database, model_cls, hash_key, range_key, actions, also=lambda tx: tx.put(audit_item),
                            now=now, what=what, expected_version=expected_version, condition=condition,
                            explain=explain)


def update_item_with(database: "Database", model_cls, hash_key: str, range_key: str, actions: list, *,
                     also: Callable[[Transaction], None], now: str, what: str, expected_version: int | None = None,
                     condition=None, explain: Callable[[Any], DomainError] | None = None):
    """`update_item`'s contract, in one TransactWriteItems with what `also` adds to it (an audit
    entry, a condition on another item: that item's own error wins).

    A transaction returns no values, so the item is read back afterwards (strongly consistent):
    two requests where the plain UpdateItem (ReturnValues=ALL_NEW) was one.
    """
    from chalicelib.domain.errors import NotFound

    full = _versioned_condition(model_cls, expected_version, condition)
    tx = database.transaction()
    tx.update(model_cls(hash_key, range_key), actions + [model_cls.version.add(1), model_cls.updated_at.set(now)],
              condition=full, error=_ConditionFailed())
    also(tx)
    try:
        tx.commit()
    except _ConditionFailed:
        raise _why_it_failed(model_cls, hash_key, range_key, what, expected_version, explain)
    item = get_item(model_cls, hash_key, range_key)
    if item is None:  # deleted between the write and the read
        raise NotFound(what)
    return item
