"""PynamoDB base for the single table. Schema only: no behaviour lives in models."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model


class RosterModel(Model):
    """Every item of the one table: a string partition key `pk` and sort key `sk`.

    The table name and region are bound at first use by `bind()`, never at import time.
    """

    class Meta:
        table_name = "roster"
        region = "eu-central-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


def bind(models: list[type[Model]], table_name: str, region: str) -> None:
    for model in models:
        model.Meta.table_name = table_name
        model.Meta.region = region
        model._connection = None
        for index in model._indexes.values():
            index._connection = None


def plain(value) -> dict:
    """A raw MapAttribute's content as a plain dict ({} when absent)."""
    return value.as_dict() if hasattr(value, "as_dict") else dict(value or {})
