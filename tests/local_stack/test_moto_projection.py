"""moto's top-level projections answered from the item (infra/local_stack/moto_projection.py):
every projection equals moto's own."""
from __future__ import annotations

import pytest

from infra.local_stack import moto_projection

ITEM = {"pk": {"S": "P"}, "sk": {"S": "1"}, "n": {"N": "12.5"}, "b": {"B": b"\x00"}, "ss": {"SS": ["a", "b"]},
        "t": {"BOOL": True}, "z": {"NULL": True}, "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2"}]}, "k": {"S": "v"}}},
        "l": {"L": [{"S": "first"}, {"M": {"deep": {"S": "d"}}}]}}
PROJECTIONS = [[["pk"]], [["n"], ["ss"], ["missing"]], [["m"], ["l"], ["b"], ["t"], ["z"]], [["m", "k"]],
               [["l[1]"]], [["m", "x"], ["n"]], [["missing"]]]


@pytest.mark.parametrize("projection", PROJECTIONS, ids=str)
def test_every_projection_equals_moto_s_own(projection):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_projection.install()
    item = Item(DynamoType({"S": "P"}), DynamoType({"S": "1"}), ITEM)
    fast = Item.project(item, projection)
    slow = Item.project.__wrapped__(item, projection)
    assert unordered_sets(fast.to_json()) == unordered_sets(slow.to_json())  # a set has no order
    assert (fast.hash_key, fast.range_key) == (slow.hash_key, slow.range_key)
    assert item.to_json()["Attributes"] == Item(item.hash_key, item.range_key, ITEM).to_json()["Attributes"]  # untouched


def unordered_sets(value):
    if isinstance(value, dict):
        return {k: (sorted(v) if k in ("SS", "NS", "BS") else unordered_sets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [unordered_sets(v) for v in value]
    return value
