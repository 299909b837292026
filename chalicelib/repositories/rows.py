"""Reads by the ten thousand (a notice's audience) as light records instead of PynamoDB models,
and writes by the ten thousand (delivery records) from plain values.

PynamoDB builds a Model instance per item and sets every attribute the model declares, defaults
included: several times the CPU of reading the few fields the audience projects, for every item
of an audience (docs/design.md). These reads go through the same PynamoDB connection and pagination; only the mapping differs, and
each field is deserialized by the model's own attribute."""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Callable, Iterator

from pynamodb.pagination import ResultIterator

from chalicelib.repositories.connection import table_connection

BATCH_GET_LIMIT = 100  # keys a BatchGetItem request may ask for
FIRST_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 0.05, 1.0  # before asking again for unprocessed keys


def row_reader(model, fields: list[str]) -> Callable[[dict], SimpleNamespace]:
    """Raw item → a record with exactly `fields` (None where the item has no value)."""
    attributes = [(name, model.get_attributes()[name]) for name in fields]

    def row(raw: dict) -> SimpleNamespace:
        values = {}
        for name, attribute in attributes:
            value = raw.get(attribute.attr_name)
            values[name] = None if value is None else attribute.deserialize(attribute.get_value(value))
        return SimpleNamespace(**values)

    return row


def raw_writer(model, fields: list[str]) -> Callable[..., dict]:
    """The other way round: keyword values of `fields` → the raw item (DynamoDB JSON), each value
    serialized by the model's own attribute and None left out, as a saved model would be. A
    missing value of an attribute that may not be null raises, as PynamoDB's save does."""
    attributes = [(name, model.get_attributes()[name]) for name in fields]

    def raw(**values) -> dict:
        item = {}
        for name, attribute in attributes:
            value = values.get(name)
            if value is not None:
                item[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
            elif not attribute.null:
                raise ValueError(f"{model.__name__}.{name} may not be null")
        return item

    return raw


def query(model, hash_key: str, fields: list[str], **conditions) -> Iterator[SimpleNamespace]:
    """Model.query(hash_key, **conditions) read as rows of `fields`, page by page. `conditions`
    are PynamoDB's: range_key_condition, filter_condition, index_name."""
    return ResultIterator(table_connection(model).query, (hash_key,),
                          {**conditions, "attributes_to_get": fields}, map_fn=row_reader(model, fields))


def batch_get(model, key_pairs: list[tuple[str, str]], fields: list[str],
              sleep: Callable[[float], None] = time.sleep) -> list[SimpleNamespace]:
    """Model.batch_get of a RosterModel's (pk, sk) pairs read as rows of `fields`, 100 keys a
    request. Missing items are left out."""
    row = row_reader(model, fields)
    return [row(raw) for raw in batch_get_raw(model, key_pairs, fields, sleep)]


def batch_get_raw(model, key_pairs: list[tuple[str, str]], fields: list[str] | None = None,
                  sleep: Callable[[float], None] = time.sleep, consistent_read: bool = False) -> list[dict]:
    """The raw items (DynamoDB JSON) of (pk, sk) pairs in `model`'s table, of any item type,
    100 keys a request; every attribute unless `fields` are named. Keys DynamoDB leaves
    unprocessed (it is throttling) are asked again after a pause that doubles each time, up to
    a second. Missing items are left out. Eventually consistent unless `consistent_read`."""
    connection, table = table_connection(model), model.Meta.table_name
    found, held_back = [], 0
    pending = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(key_pairs)]
    while pending:
        request, pending = pending[:BATCH_GET_LIMIT], pending[BATCH_GET_LIMIT:]
        answer = connection.batch_get_item(request, attributes_to_get=fields, consistent_read=consistent_read)
        found.extend(answer.get("Responses", {}).get(table, ()))
        unprocessed = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        if unprocessed:
            sleep(min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** held_back))
            held_back += 1
            pending = unprocessed + pending
    return found
