"""Single-item reads and writes and paged Queries, shared by the repositories."""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.domain.errors import Contention, DomainError, NotFound, VersionConflict


def get_item(model_cls, hash_key: str, range_key: str):
    """The item, read strongly consistent, or None."""
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


def query_raw_page(query: Callable[..., Any], hash_attribute: str, hash_value: str,
                   limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """query_page with the items as DynamoDB sent them (DynamoDB JSON), for a partition that
    holds several kinds of item: the caller maps each by its kind."""
    from chalicelib.repositories import cursor as cursors
    from chalicelib.repositories.connection import table_connection

    model, index = _model_and_index(query)
    start = cursors.decode(cursor, hash_attribute, hash_value, _key_types(query))
    answer = table_connection(model).query(hash_value, index_name=index.Meta.index_name if index else None,
                                           limit=limit, exclusive_start_key=start)
    return answer.get("Items", []), cursors.encode(answer.get("LastEvaluatedKey"))


def raw_cursor(query: Callable[..., Any], raw: dict) -> str | None:
    """The cursor of a page that ends with the raw item `raw` (a page cut short by its reader)."""
    from chalicelib.repositories import cursor as cursors

    return cursors.encode({name: raw[name] for name in _key_types(query)})


def _model_and_index(query: Callable[..., Any]):
    """The model a bound `query` reads and its index (None: the table)."""
    owner = query.__self__
    return (owner, None) if isinstance(owner, type) else (owner._model, owner)


def _key_types(query: Callable[..., Any]) -> dict[str, str] | None:
    """The attributes (name → type) of a start key for `query`: the table's key plus the index's."""
    if getattr(query, "__self__", None) is None:
        return None
    model, index = _model_and_index(query)
    index_keys = [a for a in index.Meta.attributes.values() if a.is_hash_key or a.is_range_key] if index else []
    attributes = [model._hash_key_attribute(), model._range_key_attribute(), *index_keys]
    return {a.attr_name: a.attr_type for a in attributes if a is not None}


def update_item(model_cls, hash_key: str, range_key: str, actions: list, *, now: str, what: str,
                expected_version: int | None = None, condition=None,
                explain: Callable[[Any], DomainError] | None = None):
    """One conditional UpdateItem on a versioned item, returning the item as written.

    Only when the condition fails is the item read, to tell 404 from 409 from a rule error.
    """
    from pynamodb.exceptions import UpdateError

    item = model_cls(hash_key, range_key)
    full = model_cls.pk.exists()
    if expected_version is not None:
        full &= model_cls.version == expected_version
    if condition is not None:
        full &= condition
    try:
        item.update(actions + [model_cls.version.add(1), model_cls.updated_at.set(now)], condition=full,
                    add_version_condition=False)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = get_item(model_cls, hash_key, range_key)
        if current is None:
            raise NotFound(what)
        if expected_version is not None and current.version != expected_version:
            raise VersionConflict(what)
        raise explain(current) if explain is not None else Contention()
    return item


def update_versioned(tx, item_ref, actions: list, *, version: int, now: str, condition=None,
                     error: DomainError | None = None) -> None:
    """Puts into `tx` an update of a versioned item that still has the version read (and meets
    `condition`); it bumps the version and sets `updated_at`. A failed condition is Contention
    unless `error` says otherwise: the caller reads again."""
    model_cls = type(item_ref)
    full = model_cls.version == version
    if condition is not None:
        full &= condition
    tx.update(item_ref, actions + [model_cls.version.add(1), model_cls.updated_at.set(now)], condition=full,
              error=error or Contention())


def set_or_remove(attribute, value) -> object:
    """The update action that stores `value`, or removes the attribute for None and for empty
    values (a set attribute can't be empty in DynamoDB)."""
    empty = value is None or (isinstance(value, (dict, set, frozenset, list, tuple)) and not value)
    return attribute.remove() if empty else attribute.set(value)


def plain(value) -> dict:
    """A raw MapAttribute's content as a plain dict ({} when absent)."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value or {})
