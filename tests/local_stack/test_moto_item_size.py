"""moto's item sizes in one pass (infra/local_stack/moto_item_size.py): every value's size, every
item built, every refusal and every key size check equals moto's own, to the byte and the
exception."""
from __future__ import annotations

import random

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local_stack import moto_item_size
from tests.local_stack.moto_originals import BY_G, answers, fresh_table, moto_own
from tests.local_stack.test_moto_request_parsing import random_item, random_value
from tests.local_stack.test_moto_responses import _random_value as odd_value

SMALL = {"pk": {"S": "P"}, "m": {"M": {"a": {"L": [{"S": "x"}, {"N": "1"}]}}}, "ss": {"SS": ["a", "b"]}}
LIMIT = 405000


def build(init, attrs):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item.__new__(Item)
    init(item, DynamoType({"S": "P"}), None, attrs)
    return item


def outcome(function, *args):
    """What the call returns (as `shape` sees it) or raises (its type and message)."""
    from moto.dynamodb.models.dynamo_type import Item

    try:
        result = function(*args)
    except Exception as error:  # noqa: BLE001 - both must fail alike
        return "raised", type(error).__name__, str(error)
    return "answered", shape(result.attrs if isinstance(result, Item) else result)


def shape(value):
    """A value with its types all the way down: DynamoTypes, containers in order, leaves' types."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if type(value) is DynamoType:
        return "DynamoType", shape(value.type), shape(value.value)
    if isinstance(value, dict):
        return type(value).__name__, [(shape(k), shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return type(value).__name__, [shape(v) for v in value]
    return type(value).__name__, value


def moto_size(value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    with moto_own([(DynamoType, "size")]):
        return value.size()


def patched_size(value):
    moto_item_size.install()
    return value.size()


def moto_item_bytes(item) -> int:
    """moto's own Item.size of the item, under every patch's wrapper, with moto's value sizes."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    bottom = Item.size
    while hasattr(bottom, "__wrapped__"):
        bottom = bottom.__wrapped__
    with moto_own([(DynamoType, "size")]):
        return bottom(item)


def filled(attrs: dict, total: int) -> dict:
    """The attributes and a text attribute "fill" that makes the item's size (moto's) `total`."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item.__new__(Item)
    item.attrs = {name: DynamoType(value) for name, value in attrs.items()}
    return {**attrs, "fill": {"S": "x" * (total - moto_item_bytes(item) - len("fill"))}}


@pytest.mark.parametrize("attrs", [
    SMALL,
    {"pk": {"S": "P"}, "big": {"S": "x" * 404_000}},                       # under the limit
    {"pk": {"S": "P"}, "big": {"S": "x" * 406_000}},                       # over it in one attribute
    {"pk": {"S": "P"}, **{f"a{i}": {"S": "y" * 5_000} for i in range(82)}},  # over it only in sum
    {"pk": {"S": "P"}, **{f"a{i}": {"S": "y" * 5_000} for i in range(80)}},  # just under in sum
    {"pk": {"S": "P"}, "big": {"S": "x" * 404_994}},                       # 405,000 bytes: the limit, allowed
    {"pk": {"S": "P"}, "big": {"S": "x" * 404_995}},                       # 405,001: refused
    {"pk": {"S": "P"}, "big": {"S": "é" * 202_497}},                       # 405,000 in UTF-8, 202,503 characters
    {"pk": {"S": "P"}, "big": {"S": "é" * 202_497 + "a"}},                 # one byte more
    {"pk": {"S": "P"}, "bïg": {"S": "x" * 404_993}},                       # the name is 4 bytes, not 3
    {"pk": {"S": "P"}, "n": {"N": "1" * 404_995}},                         # a number: its characters
    {"pk": {"S": "P"}, "b": {"B": b"\x00" * 404_997}},                     # bytes: 405,001
    {"pk": {"S": "P"}, "m": {"M": {"é": {"L": [{"S": "x" * 404_987}, {"NULL": True}]}}}},  # nested, 405,000
    {"pk": {"S": "P"}, "m": {"M": {"é": {"L": [{"S": "x" * 404_987}, {"BOOL": False}, {"SS": ["", "a"]}]}}}},
    {"pk": {"S": "P"}, "\ud800": {"S": "surrogate name"}},                 # moto's UnicodeEncodeError
    {"pk": {"S": "P"}, "x" * 404_998: {"S": "z" * 5}},                     # a name over the limit
], ids=["small", "404k", "406k", "82x5k", "80x5k", "limit", "limit+1", "utf8-limit", "utf8-limit+1",
        "name-bytes", "number", "bytes", "nested-limit", "nested-limit+2", "surrogate", "long-name"])
def test_the_same_items_and_the_same_refusals_as_moto(attrs):
    from moto.dynamodb.models.dynamo_type import Item

    moto_item_size.install()
    assert outcome(build, Item.__init__, attrs) == outcome(build, Item.__init__.__wrapped__, attrs)


@pytest.mark.parametrize("seed", range(30))
def test_random_items_are_built_and_refused_at_the_limit_as_moto_does(seed):
    from moto.dynamodb.models.dynamo_type import Item

    moto_item_size.install()
    rng = random.Random(seed)
    for _ in range(20):
        attrs = random_item(rng)
        assert outcome(build, Item.__init__, attrs) == outcome(build, Item.__init__.__wrapped__, attrs)
    attrs = random_item(rng)
    for total in (LIMIT - 1, LIMIT, LIMIT + 1):
        big = filled(attrs, total)
        fast, slow = outcome(build, Item.__init__, big), outcome(build, Item.__init__.__wrapped__, big)
        assert fast == slow and (fast[0] == "raised") == (total > LIMIT)


@pytest.mark.parametrize("seed", range(40))
def test_every_value_has_moto_s_size(seed):
    """Values as requests make them (every type, non-ASCII text) and as moto may hold them
    (numbers as ints, bools in sets, plain dicts among DynamoTypes, other types, subclasses)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    rng = random.Random(seed)
    for _ in range(50):
        value = DynamoType(random_value(rng))
        assert outcome(patched_size, value) == outcome(moto_size, value)
    for _ in range(50):
        value = odd_value(rng, 0)
        if isinstance(value, DynamoType):
            assert outcome(patched_size, value) == outcome(moto_size, value)


def odd(kind, value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    made = DynamoType({"S": ""})
    made.type, made.value = kind, value
    return made


ODD = [
    ("S", "\ud800"), ("SS", ["a", "\udfff"]), ("N", 12), ("N", "é1"), ("N", True), ("N", b"12"), ("SS", [True, "ab"]),
    ("NS", [1, 22]), ("BS", [b"a", "b", True]), ("S", 7), ("S", None), ("BOOL", "true"), ("NULL", 1), ("X", "text"),
    ("L", "text"), ("L", [{"S": "raw"}]), ("M", [("a", 1)]), ("M", {"k": {"S": "raw"}}), ("SS", "abc"), ("SS", {"a": 1}),
    ("B", bytearray(b"ab")), ("S", "x" * 10), ("BOOL", False), ("NS", ["1", "2.50"]),
]


@pytest.mark.parametrize("kind, value", ODD, ids=[f"{k}-{i}" for i, (k, _) in enumerate(ODD)])
def test_values_of_unusual_forms_are_sized_or_refused_as_moto_does(kind, value):
    assert outcome(patched_size, odd(kind, value)) == outcome(moto_size, odd(kind, value))


def test_a_map_member_is_sized_as_moto_sizes_its_copy():
    """moto sizes a map's member as `DynamoType(member)`, a copy that wraps the plain values of a
    list: the one-pass size must not fail where moto's copy succeeds."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    inner = odd("L", [{"S": "plain"}, DynamoType({"N": "10"})])
    value = odd("M", {"k": inner, "é": DynamoType({"SS": ["ü"]})})
    assert outcome(patched_size, value) == outcome(moto_size, value) == ("answered", ("int", 1 + 5 + 2 + 2 + 2))
    assert outcome(patched_size, inner)[0] == outcome(moto_size, inner)[0] == "raised"


@pytest.mark.parametrize("seed", range(20))
def test_wrapping_is_moto_s_constructor(seed):
    from moto.dynamodb.models.dynamo_type import DynamoType

    rng = random.Random(seed)
    raws = [random_value(rng) for _ in range(40)] + [
        {}, {"S": "a", "N": "1"}, {"L": "ab"}, {"L": [{}]}, {"M": [1]}, {"M": {"k": {"S": "v", "B": b""}}}, [("S", "x")],
        DynamoType({"L": [{"S": "x"}]}), {"L": [DynamoType({"M": {"k": {"N": "1"}}})]}, None, "S",
    ]
    for raw in raws:
        assert outcome(moto_item_size.wrap, raw) == outcome(DynamoType, raw)


@pytest.mark.parametrize("seed", range(10))
def test_a_stored_item_s_size_is_moto_s(seed):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    rng = random.Random(seed)
    for _ in range(30):
        item = Item(DynamoType({"S": "P"}), None, random_item(rng))
        assert outcome(Item.size, item) == outcome(moto_item_size.item_size, item.attrs) == \
            outcome(moto_item_bytes, item)


KEY_SIZES = [
    {"S": "k" * 2048}, {"S": "k" * 2049}, {"S": "é" * 1024}, {"S": "é" * 1024 + "k"}, {"S": "k" * 1024},
    {"S": "k" * 1025}, {"N": "9" * 1025}, {"B": b"\x00" * 1025}, {"B": "k" * 1025}, {"S": b"k" * 1025},
    {"L": [{"S": "k" * 1025}]}, {"M": {"k": {"S": "k" * 2050}}}, {"S": ""}, {"S": "\ud800"}, {"N": 7}, {"N": "é" * 600},
    {"N": b"\x00" * 1000}, {"S": True}, {"B": "é" * 600},
    {"S": "k", "N": "1"}, {},
]


@pytest.mark.parametrize("value", KEY_SIZES, ids=[f"key{i}" for i in range(len(KEY_SIZES))])
def test_key_size_checks_are_moto_s(value):
    """The table's own and each index's hash and range keys, at and over 2048 and 1024 bytes."""
    from moto.dynamodb.models.table import Table

    moto_item_size.install()
    table = Table("keys", account_id="123456789012", region="eu-central-1",
                  schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                  attr=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g", "r")],
                  global_indexes=[{"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                                                    {"AttributeName": "r", "KeyType": "RANGE"}],
                                   "Projection": {"ProjectionType": "ALL"}}])
    for name in ("pk", "sk", "g", "r"):
        attrs = {"pk": {"S": "P"}, "sk": {"S": "S"}, name: value}
        assert outcome(Table._validate_key_sizes, table, attrs) == \
            outcome(Table._validate_key_sizes.__wrapped__, table, attrs), name
        assert outcome(moto_item_size.key_size, value) == outcome(lambda v: moto_item_size.wrap(v).size(), value)


def api_outcomes(calls) -> list:
    """Each call's answer or error, on a fresh in-process moto."""
    with fresh_table({"pk": "S", "sk": "B", "g": "S"}, [BY_G]) as client:
        return answers(client, calls)


def put(item: dict) -> tuple[str, dict]:
    return "put_item", {"TableName": "t", "Item": {"sk": {"B": b"1"}, **item}}


def test_puts_updates_and_transactions_are_answered_and_refused_as_moto_does():
    calls = [put({"pk": {"S": pk}}) for pk in ("k" * 2048, "k" * 2049, "é" * 1024, "é" * 1025)]
    calls += [put({"pk": {"S": "P"}, "sk": {"B": sk}}) for sk in (b"\x00" * 1024, b"\x00" * 1025)]
    calls += [put({"pk": {"S": "G"}, "g": {"S": g}}) for g in ("g" * 2048, "g" * 2049)]
    calls += [put({"pk": {"S": "F"}, "fill": {"S": "x" * fill}}) for fill in (404_990, 404_991)]  # 405,000 and 405,001 bytes
    calls.append(put({"pk": {"S": "U"}, "m": {"M": {"a": {"S": "x"}}}}))
    calls += [("update_item", {"TableName": "t", "Key": {"pk": {"S": "U"}, "sk": {"B": b"1"}}, "UpdateExpression": "SET big = :v",
                               "ExpressionAttributeValues": {":v": {"S": value}}})
              for value in ("x" * 404_990, "x" * 400_000)]  # a top-level set over the limit is refused, under it is not
    calls += [("transact_write_items", {"TransactItems": [{"Put": {"TableName": "t", "Item": {"sk": {"B": b"1"}, **item}}}
                                                          for item in items]})
              for items in ([{"pk": {"S": "T1"}}, {"pk": {"S": "T2"}, "fill": {"S": "x" * 404_990}}],
                            [{"pk": {"S": "T3"}}, {"pk": {"S": "T4"}, "fill": {"S": "x" * 404_991}}],
                            [{"pk": {"S": "T5"}}, {"pk": {"S": "k" * 2049}}])]
    calls.append(("scan", {"TableName": "t", "ProjectionExpression": "pk, sk, g"}))

    fast = api_outcomes(calls)
    with moto_own():
        slow = api_outcomes(calls)
    assert fast == slow
    assert 5 < sum("Code" not in answer for answer in fast) < len(calls)  # answers and refusals both


def test_an_item_over_400_kb_is_still_refused_through_the_api():
    moto_item_size.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        with pytest.raises(ClientError) as refused:
            client.put_item(TableName="t", Item={"pk": {"S": "P"}, "big": {"S": "x" * 410_000}})
        assert "size" in str(refused.value).lower()
        client.put_item(TableName="t", Item={"pk": {"S": "Q"}, "ok": {"S": "x" * 1_000}})
