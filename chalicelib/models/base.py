"""PynamoDB base for the single table. Schema only: no behaviour lives in models."""
from __future__ import annotations

import json
import zlib

from pynamodb.attributes import BinaryAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


def index_meta(index_name: str):
    """The Meta of a GlobalSecondaryIndex of the table: every index projects all attributes."""
    class Meta:
        projection = AllProjection()

    Meta.index_name = index_name
    return Meta


class ByList(GlobalSecondaryIndex):
    """The by_list index, shared by every item that is listed: a partition per list, in order."""

    Meta = index_meta("by_list")
    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class RosterModel(Model):
    """Every item of the one table: a string partition key `pk` and sort key `sk`.

    The table name and region are bound at first use (repositories/connection.py), never at
    import time.
    """

    class Meta:
        table_name = "roster"
        region = "eu-central-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class PackedJSONAttribute(BinaryAttribute):
    """A JSON value stored as one zlib-compressed binary attribute.

    For data that is only ever read and written whole, never queried or updated by path (a
    notice batch's recipients): much smaller than the same data as nested maps, so fewer write
    units for every update of the item, and one value to (de)serialize instead of a walk over
    hundreds of typed attributes."""

    def __init__(self, **kwargs):
        super().__init__(legacy_encoding=False, **kwargs)

    def serialize(self, value) -> bytes:
        return zlib.compress(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), 6)

    def deserialize(self, value: bytes):
        return json.loads(zlib.decompress(value))
