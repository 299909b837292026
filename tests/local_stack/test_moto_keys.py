"""moto's key hashing, empty-key and duplicate-key checks in one pass
(infra/local_stack/moto_keys.py): every hash, comparison, refusal and decision equals moto's own."""
from __future__ import annotations

import random

import pytest

from infra.local_stack import moto_keys
from tests.local_stack.moto_originals import BY_G, answers, fresh_table, moto_own
from tests.local_stack.test_moto_item_size import outcome
from tests.local_stack.test_moto_request_parsing import random_item, random_text, random_value
from tests.local_stack.test_moto_responses import _random_value as odd_value

EMPTY_KEY = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {}"


def values(rng: random.Random, count: int) -> list:
    from moto.dynamodb.models.dynamo_type import DynamoType

    made = [DynamoType(random_value(rng)) for _ in range(count)]
    made += [DynamoType(v) for v in ({"S": "1"}, {"N": "1"}, {"N": "1.0"}, {"B": b"1"}, {"B": "1"}, {"BOOL": True},
                                     {"S": ""}, {"NULL": True}, {"SS": ["1"]}, {"L": [{"S": "1"}]})]
    made += [v for v in (odd_value(rng, 0) for _ in range(count)) if isinstance(v, DynamoType)]
    return made


@pytest.mark.parametrize("seed", range(20))
def test_hashes_cast_values_and_comparisons_are_moto_s(seed):
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_keys.install()
    pool = values(random.Random(seed), 30)
    fast = [(outcome(hash, v), outcome(lambda v=v: v.cast_value)) for v in pool]
    fast_equal = [outcome(lambda a=a, b=b: a == b) for a in pool for b in pool]
    with moto_own([(DynamoType, "cast_value"), (DynamoType, "__hash__")]):
        slow = [(outcome(hash, v), outcome(lambda v=v: v.cast_value)) for v in pool]
        slow_equal = [outcome(lambda a=a, b=b: a == b) for a in pool for b in pool]
    assert fast == slow and fast_equal == slow_equal
    assert {DynamoType({"N": "1"}): 1}[DynamoType({"N": "1.0"})] == 1  # moto's equal numbers share a key


def table_for_keys():
    from moto.dynamodb.models.table import Table

    return Table("keys", account_id="123456789012", region="eu-central-1",
                 schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                 attr=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "l")],
                 indexes=[{"IndexName": "byL", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                            {"AttributeName": "l", "KeyType": "RANGE"}],
                           "Projection": {"ProjectionType": "ALL"}}],
                 global_indexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "ALL"}}])


PLANTED = [{"S": ""}, {"B": ""}, {"B": b""}, {"S": "x"}, {"N": ""}, {"S": "", "N": "1"}, {"N": "1", "S": ""}, {},
           {"SS": [""]}, {"M": {"S": {"S": ""}}}, "", None, {"S": None}, {"S": 0}]


@pytest.mark.parametrize("seed", range(30))
def test_empty_key_checks_are_moto_s(seed):
    from moto.dynamodb import responses

    moto_keys.install()
    rng = random.Random(seed)
    table = table_for_keys()
    for _ in range(30):
        item = random_item(rng)
        for name in rng.sample(["pk", "sk", "g", "l", "other", random_text(rng)], rng.randrange(0, 3)):
            item[name] = rng.choice(PLANTED)
        for args in ((item, table), (item, table, EMPTY_KEY), (item, None)):
            assert outcome(responses.validate_put_has_empty_keys, *args) == \
                outcome(responses.validate_put_has_empty_keys.__wrapped__, *args), (item, args[1:])


def random_key(rng: random.Random) -> object:
    """A key as requests send them, from a small pool (so that some repeat), now and then odd."""
    pool = ["a", "b", "é", ""]
    key = {"pk": {"S": rng.choice(pool)}, "sk": {rng.choice(["S", "N", "B"]): rng.choice(pool)}}
    if rng.random() < 0.3:
        key = dict(reversed(list(key.items())))  # the same key, its members in another order
    if rng.random() < 0.2:
        key["sk"] = rng.choice([{"B": b"a"}, {"B": "a"}, {"L": [{"S": "a"}, {"N": "1"}]}, {"L": [{"N": "1"}, {"S": "a"}]},
                                {"M": {"x": {"S": "a"}, "y": {"BOOL": True}}}, {"M": {"y": {"BOOL": True}, "x": {"S": "a"}}},
                                {"BOOL": True}, {"BOOL": 1}, {"BOOL": 1.0}, {"NULL": None}, {"S": "a", "N": "1"}, {}])
    if rng.random() < 0.05:
        key = rng.choice(['{"pk": {"S": "a"}}', b"a", 1, True, None, ("a",), [{"S": "a"}], {1: "a"}])
    return key


@pytest.mark.parametrize("seed", range(40))
def test_duplicate_keys_are_found_as_moto_finds_them(seed):
    from moto.dynamodb.responses import DynamoHandler

    moto_keys.install()
    rng = random.Random(seed)
    for _ in range(30):
        keys = [random_key(rng) for _ in range(rng.randrange(0, 12))]
        assert outcome(DynamoHandler._contains_duplicates, None, keys) == \
            outcome(DynamoHandler._contains_duplicates.__wrapped__, None, keys), keys
    for _ in range(200):
        a, b = random_key(rng), random_key(rng)
        try:
            same = moto_keys.hashable(a) == moto_keys.hashable(b)
        except moto_keys._Unusual:
            continue
        assert same == (a == b), (a, b)


def test_a_hundred_distinct_keys_and_one_repeat_at_the_end():
    from moto.dynamodb.responses import DynamoHandler

    keys = [{"pk": {"S": f"P{i}"}, "sk": {"S": "S"}} for i in range(99)]
    for last, expected in (({"sk": {"S": "S"}, "pk": {"S": "P0"}}, True), ({"pk": {"S": "P0"}, "sk": {"S": "s"}}, False)):
        assert DynamoHandler._contains_duplicates(None, keys + [last]) is expected
        assert DynamoHandler._contains_duplicates.__wrapped__(None, keys + [last]) is expected


def api_answers() -> list:
    """Batch reads and writes with repeated keys, and writes with empty keys, on a fresh moto."""
    with fresh_table({"pk": "S", "sk": "S", "g": "S"}, [BY_G]) as client:
        key, same, other = ({"pk": {"S": "P"}, "sk": {"S": "1"}}, {"sk": {"S": "1"}, "pk": {"S": "P"}},
                            {"pk": {"S": "P"}, "sk": {"S": "2"}})
        calls = [
            ("put_item", {"TableName": "t", "Item": {**key, "g": {"S": "G"}, "e": {"S": ""}}}),
            ("put_item", {"TableName": "t", "Item": {**other, "g": {"S": ""}}}),
            ("put_item", {"TableName": "t", "Item": {"pk": {"S": ""}, "sk": {"S": "1"}}}),
            ("batch_get_item", {"RequestItems": {"t": {"Keys": [key, other]}}}),
            ("batch_get_item", {"RequestItems": {"t": {"Keys": [key, other, same]}}}),
            ("batch_write_item", {"RequestItems": {"t": [{"PutRequest": {"Item": {**other, "x": {"N": "1"}}}},
                                                         {"DeleteRequest": {"Key": other}}]}}),
            ("batch_write_item", {"RequestItems": {"t": [{"DeleteRequest": {"Key": key}}, {"DeleteRequest": {"Key": key}}]}}),
            # moto compares a batch write's keys as JSON text: the same key, its members in another order, passes
            ("batch_write_item", {"RequestItems": {"t": [{"DeleteRequest": {"Key": key}}, {"DeleteRequest": {"Key": same}}]}}),
            ("transact_write_items", {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": {"S": "Q"}, "sk": {"S": ""}}}}]}),
            ("transact_write_items", {"TransactItems": [{"Update": {"TableName": "t", "Key": {"pk": {"S": "Q"}, "sk": {"S": ""}},
                                                                    "UpdateExpression": "SET a = :a",
                                                                    "ExpressionAttributeValues": {":a": {"N": "1"}}}}]}),
            ("transact_write_items", {"TransactItems": [{"Put": {"TableName": "t", "Item": {**other, "g": {"S": "G"}}}}]}),
            ("batch_get_item", {"RequestItems": {"t": {"Keys": [key, other]}}}),
        ]
        return answers(client, calls)


def test_batches_and_writes_are_answered_and_refused_as_moto_does():
    fast = api_answers()
    with moto_own():
        slow = api_answers()
    assert fast == slow
    assert [("Code" in answer) for answer in fast] == [False, True, True, False, True, False, True, False, True, True, False, False]
