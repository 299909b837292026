"""moto's top-level projections answered from the item (infra/local_stack/moto_projection.py):
every projection, its size and its refusals equal moto's own, and so do the reads that project
(GetItem, BatchGetItem with its 16 MB limit, Query, Scan, TransactGetItems, index projections)."""
from __future__ import annotations

import copy
import random

import pytest

from infra.local_stack import moto_projection
from tests.local_stack.moto_originals import answers, fresh_table, moto_own
from tests.local_stack.test_moto_item_size import moto_item_bytes, outcome, shape
from tests.local_stack.test_moto_request_parsing import NAME_POOL, random_item

ITEM = {"pk": {"S": "P"}, "sk": {"S": "1"}, "n": {"N": "12.5"}, "b": {"B": b"\x00"}, "ss": {"SS": ["a", "b"]},
        "t": {"BOOL": True}, "z": {"NULL": True}, "m": {"M": {"x": {"L": [{"S": "y"}, {"N": "2"}]}, "k": {"S": "v"}}},
        "l": {"L": [{"S": "first"}, {"M": {"deep": {"S": "d"}}}]}}
PROJECTIONS = [[["pk"]], [["n"], ["ss"], ["missing"]], [["m"], ["l"], ["b"], ["t"], ["z"]], [["m", "k"]],
               [["l[1]"]], [["m", "x"], ["n"]], [["missing"]], [["n"], ["pk"], ["n"]], []]
MIB16 = 16 * 1024 * 1024


@pytest.mark.parametrize("projection", PROJECTIONS, ids=str)
def test_every_projection_equals_moto_s_own(projection):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_projection.install()
    item = Item(DynamoType({"S": "P"}), DynamoType({"S": "1"}), ITEM)
    fast = Item.project(item, projection)
    with moto_own():
        slow = Item.project(item, projection)
        slow_size = slow.size()
    assert unordered_sets(fast.to_json()) == unordered_sets(slow.to_json())  # a set has no order
    assert (fast.hash_key, fast.range_key) == (slow.hash_key, slow.range_key)
    assert fast.size() == slow_size
    assert item.to_json()["Attributes"] == Item(item.hash_key, item.range_key, ITEM).to_json()["Attributes"]  # untouched


def unordered_sets(value):
    if isinstance(value, dict):
        return {k: (sorted(set(v)) if k in ("SS", "NS", "BS") else unordered_sets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [unordered_sets(v) for v in value]
    return value


def random_projection(rng: random.Random, names: list[str]) -> list[list[str]]:
    pool = names + [rng.choice(NAME_POOL), "missing"]
    projection = [[rng.choice(pool)] for _ in range(rng.randrange(0, 8))]
    if rng.random() < 0.1:
        projection.append([rng.choice(pool), "inner"] if rng.random() < 0.5 else [rng.choice(pool) + "[0]"])
    return projection


def constructed(item, projection):
    """What the first version of the patch answered: the projected names through moto's own
    constructor (its copies of the values, its 400 KB check, its sizes)."""
    from moto.dynamodb.models.dynamo_type import Item

    picked = {path[0]: item.attrs[path[0]] for path in projection if path[0] in item.attrs}
    with moto_own():
        made = Item(item.hash_key, item.range_key, picked)
        return made, Item.size(made)


@pytest.mark.parametrize("seed", range(30))
def test_random_projections_keep_the_item_s_values_and_moto_s_size(seed):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_projection.install()
    rng = random.Random(seed)
    for _ in range(20):
        item = Item(DynamoType({"S": "P"}), None, random_item(rng))
        before = shape(item.attrs)
        projection = random_projection(rng, list(item.attrs))
        fast = outcome(lambda: unordered_sets(item.project(projection).to_json()))
        with moto_own():
            slow = outcome(lambda: unordered_sets(item.project(projection).to_json()))
        assert fast == slow
        assert shape(item.attrs) == before  # the item is untouched
        if all(len(path) == 1 and "[" not in path[0] for path in projection):
            fast = item.project(projection)
            made, size = constructed(item, projection)
            assert shape(fast.attrs) == shape(made.attrs) and list(fast.attrs) == list(made.attrs)
            assert all(fast.attrs[name] is item.attrs[name] for name in fast.attrs)  # shared, not copied
            assert fast.size() == size == moto_item_bytes(fast)
            copied = copy.deepcopy(fast)
            assert moto_projection.SIZE not in vars(copied) and copied.size() == size


def test_a_projection_over_the_limit_is_refused_as_moto_refuses_it():
    """An update of a nested value is not size-checked by moto: a stored item can outgrow the
    limit, and moto's projection (its constructor) then refuses it."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_projection.install()
    item = Item(DynamoType({"S": "P"}), None, {"pk": {"S": "P"}, "m": {"M": {"a": {"S": "x"}}}, "small": {"N": "1"}})
    for grown in (404_988, 404_989, 404_990, 404_998, 404_999, 500_000):  # all of it 405,000 bytes at 404,989, m at 404,998
        item.attrs["m"].value["a"] = DynamoType({"S": "x" * grown})
        for projection in ([["m"]], [["small"], ["m"], ["pk"]], [["pk"], ["small"]], [["m", "a"]]):
            fast = outcome(lambda: Item.project(item, projection).size())
            with moto_own():
                slow = outcome(lambda: Item.project(item, projection).size())
            assert fast == slow, (grown, projection)
    assert outcome(lambda: item.project([["m"]]))[1] == "ItemSizeTooLarge"


@pytest.fixture
def table():
    """A table with an INCLUDE and a KEYS_ONLY index, in a fresh in-process moto."""
    with fresh_table({"pk": "S", "sk": "S", "g": "S"}, [
        {"IndexName": "include", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "big"]}},
        {"IndexName": "keys", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "KEYS_ONLY"}},
    ]) as client:
        yield client


def both_ways(client, calls) -> tuple[list, list]:
    """The calls' answers (sets in order) or errors, with the patches and with moto's own code."""
    fast = answers(client, calls, unordered_sets)
    with moto_own():
        slow = answers(client, calls, unordered_sets)
    return fast, slow


def keys(*names) -> list[dict]:
    return [{"pk": {"S": "P"}, "sk": {"S": name}} for name in names]


def test_batch_get_stops_at_16_mb_as_moto_does(table):
    """41 items of 400,000 bytes and one that brings them to 16 MiB exactly: it is answered, the
    next one is left unprocessed; projected items count their projected size only."""
    def put(sk, size, extra=""):
        base = {"pk": {"S": "P"}, "sk": {"S": sk}, "big": {"S": ""}, "other": {"S": extra}}
        base["big"]["S"] = "x" * (size - (2 + 1) - (2 + len(sk)) - 3 - (5 + len(extra)))
        table.put_item(TableName="t", Item=base)

    names = [f"s{i:02d}" for i in range(41)]
    for name in names:
        put(name, 400_000, extra="e" * 1_000)
    put("last", MIB16 - 41 * 400_000)
    put("more", 10)
    put("over", MIB16 - 41 * 400_000 + 1)
    request = {"RequestItems": {"t": {"Keys": keys(*names, "last", "more")}}}
    over = {"RequestItems": {"t": {"Keys": keys(*names, "over", "more")}}}
    projected = {"RequestItems": {"t": {"Keys": keys(*names, "over", "more"), "ProjectionExpression": "pk, sk, big"}}}
    fast, slow = both_ways(table, [("batch_get_item", r) for r in (request, over, projected)])
    assert fast == slow
    returned = [len(answer["Responses"]["t"]) for answer in fast]
    assert returned == [42, 42, 43], returned  # 16 MiB exactly; one byte over (the small one after it fits); projected


def test_projected_reads_answer_as_moto_s_own(table):
    rng = random.Random(7)
    for i in range(30):
        item = {name: value for name, value in random_item(rng).items() if name}  # no empty names
        item.update({"pk": {"S": "P"}, "sk": {"S": f"{i:03d}"}, "g": {"S": "G"}})
        item.update({"a": {"S": "é" * i}, "big": {"M": {"x": {"L": [{"N": str(i)}, {"SS": ["a", "ü"]}]}}}})
        table.put_item(TableName="t", Item=item)
    names = {"#a": "a", "#b": "big", "#p": "pk", "#s": "sk"}
    projections = ["#p, #s", "#a, #b, #p", "#b.x[1], #a", "#a, #a", "#b.x"]
    calls = []
    for expression in projections:
        used = {k: v for k, v in names.items() if k in expression}
        common = {"TableName": "t", "ProjectionExpression": expression, "ExpressionAttributeNames": used}
        calls += [
            ("get_item", {**common, "Key": keys("003")[0]}),
            ("batch_get_item", {"RequestItems": {"t": {"Keys": keys("001", "002", "029", "404"),
                                                      "ProjectionExpression": expression, "ExpressionAttributeNames": used}}}),
            ("query", {**common, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}},
                       "Limit": 7}),
            ("query", {**common, "IndexName": "include", "KeyConditionExpression": "g = :g",
                       "ExpressionAttributeValues": {":g": {"S": "G"}}}),
            ("scan", {**common, "Limit": 11}),
            ("transact_get_items", {"TransactItems": [{"Get": {**common, "Key": keys("004")[0]}}]}),
        ]
    for index in ("include", "keys"):
        calls.append(("query", {"TableName": "t", "IndexName": index, "KeyConditionExpression": "g = :g",
                                "ExpressionAttributeValues": {":g": {"S": "G"}}}))
    fast, slow = both_ways(table, calls)
    assert fast == slow
    assert sum("Code" in answer for answer in fast) < len(calls) // 3


def test_a_read_of_an_item_grown_over_the_limit_fails_as_moto_s(table):
    table.put_item(TableName="t", Item={"pk": {"S": "P"}, "sk": {"S": "1"}, "m": {"M": {"a": {"S": "x"}}}, "n": {"N": "1"}})
    table.update_item(TableName="t", Key=keys("1")[0], UpdateExpression="SET m.a = :v",
                      ExpressionAttributeValues={":v": {"S": "x" * 405_000}})  # not checked: 405,010 bytes
    calls = [(op, params) for projection in ("m", "n, m", "n", "pk, sk")
             for op, params in (("get_item", {"TableName": "t", "Key": keys("1")[0], "ProjectionExpression": projection}),
                                ("batch_get_item", {"RequestItems": {"t": {"Keys": keys("1"),
                                                                          "ProjectionExpression": projection}}}))]
    fast, slow = both_ways(table, calls)
    assert fast == slow
    assert any("Code" in answer for answer in fast) and any("Code" not in answer for answer in fast)
