"""moto's DynamoDB responses written in one pass (infra/local_stack/moto_responses.py): every
response is the one moto's own `dynamo_to_dict` and serializer write, byte for byte."""
from __future__ import annotations

import base64
import datetime
import json
import random
import re
from contextlib import contextmanager
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local_stack import moto_responses

TABLE = "responses-test"
ITEM = {"pk": {"S": "P"}, "sk": {"S": "1"}, "g": {"S": "G"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbytes"},
        "eb": {"B": b""}, "bs": {"BS": [b"a", b"\x01"]}, "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5", "-0.1E3"]},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True}, "e": {"S": ""}, "u": {"S": "é\u2028\"\\"},
        "m": {"M": {"inner": {"L": [{"S": "é"}, {"N": "0"}, {"M": {}}, {"L": []}, {"B": b"\x02"},
                                    {"SS": ["s"]}, {"NS": ["7"]}, {"BS": [b"\x03"]}, {"NULL": True}, {"BOOL": False}]},
                    "deep": {"M": {"deeper": {"M": {"s": {"S": ""}, "b": {"B": b"\xfe"}}}}}}},
        "l": {"L": [{"L": [{"M": {"k": {"S": "v"}}}]}]}}


@contextmanager
def unpatched():
    """moto's own conversion and serializer for the length of the block."""
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.responses import DynamoResult

    moto_responses.install()
    serialize, init = BaseJSONSerializer._serialize, DynamoResult.__init__
    BaseJSONSerializer._serialize, DynamoResult.__init__ = moto_responses._original, moto_responses._original_result_init
    try:
        yield
    finally:
        BaseJSONSerializer._serialize, DynamoResult.__init__ = serialize, init


@contextmanager
def patched():
    moto_responses.install()
    yield


def _key(sk: str) -> dict:
    return {"pk": {"S": "P"}, "sk": {"S": sk}}


def _condition_fails(**params) -> dict:
    return {"ConditionExpression": "attribute_not_exists(pk)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD", **params}


# (operation, parameters): reads of every kind, writes returning values, errors
CALLS = [
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "P"}}, "Limit": 2, "ReturnConsumedCapacity": "TOTAL"}),
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}},
                           "ProjectionExpression": "sk, m.inner[4], m.deep, #b, ns, l[0]", "ExpressionAttributeNames": {"#b": "b"}}),
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}},
                           "ProjectionExpression": "pk, sk, bs, e, z, t"}),
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}},
                           "Select": "COUNT"}),
    ("Query", {"TableName": TABLE, "IndexName": "by-g", "KeyConditionExpression": "g = :g",
                           "ExpressionAttributeValues": {":g": {"S": "G"}}, "ScanIndexForward": False, "Limit": 2,
                           "ReturnConsumedCapacity": "INDEXES"}),
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "FilterExpression": "n > :big",
                           "ExpressionAttributeValues": {":p": {"S": "P"}, ":big": {"N": "100"}}}),
    ("GetItem", {"TableName": TABLE, "Key": _key("1")}),
    ("GetItem", {"TableName": TABLE, "Key": _key("1"), "ProjectionExpression": "m.deep.deeper, l, eb",
                             "ReturnConsumedCapacity": "TOTAL", "ConsistentRead": True}),
    ("GetItem", {"TableName": TABLE, "Key": _key("missing")}),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [_key(str(i)) for i in range(4)] + [_key("missing")]}},
                                  "ReturnConsumedCapacity": "TOTAL"}),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [_key("0"), _key("2")],
                                                           "ProjectionExpression": "sk, m.inner, bs"}}}),
    ("Scan", {"TableName": TABLE, "Limit": 2, "ReturnConsumedCapacity": "INDEXES"}),
    ("Scan", {"TableName": TABLE, "ProjectionExpression": "#s, ss", "ExpressionAttributeNames": {"#s": "sk"},
                          "Segment": 0, "TotalSegments": 2}),
    ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": TABLE, "Key": _key("0")}},
                                                        {"Get": {"TableName": TABLE, "Key": _key("missing")}},
                                                        {"Get": {"TableName": TABLE, "Key": _key("2")}}],
                                      "ReturnConsumedCapacity": "TOTAL"}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("0"), "ReturnValues": "ALL_NEW",
                                "UpdateExpression": "SET n = n + :one, m.deep.added = :b, l = list_append(l, :l) ADD ss :ss",
                                "ExpressionAttributeValues": {":one": {"N": "1"}, ":b": {"B": b"\x09"},
                                                              ":l": {"L": [{"NULL": True}]}, ":ss": {"SS": ["z"]}},
                                "ReturnConsumedCapacity": "TOTAL"}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("1"), "ReturnValues": "ALL_OLD",
                                "UpdateExpression": "REMOVE m.#i[0] SET t = :f", "ExpressionAttributeNames": {"#i": "inner"},
                   "ExpressionAttributeValues": {":f": {"BOOL": False}}}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("2"), "ReturnValues": "UPDATED_NEW",
                                "UpdateExpression": "SET bs = :bs, m.deep.deeper.s = :s DELETE ns :ns",
                                "ExpressionAttributeValues": {":bs": {"BS": [b"\x07"]}, ":s": {"S": "now"}, ":ns": {"NS": ["1"]}}}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("3"), "ReturnValues": "UPDATED_OLD",
                                "UpdateExpression": "SET e = :e", "ExpressionAttributeValues": {":e": {"S": "filled"}}}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("new"), "ReturnValues": "ALL_OLD",
                                "UpdateExpression": "SET e = :e", "ExpressionAttributeValues": {":e": {"S": "x"}}}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("3"), "ReturnValues": "NONE",
                                "UpdateExpression": "SET e = :e", "ExpressionAttributeValues": {":e": {"S": "y"}}}),
    ("PutItem", {"TableName": TABLE, "Item": {**ITEM, "sk": {"S": "3"}}, "ReturnValues": "ALL_OLD",
                             "ReturnConsumedCapacity": "TOTAL"}),
    ("DeleteItem", {"TableName": TABLE, "Key": _key("new"), "ReturnValues": "ALL_OLD"}),
    ("ExecuteStatement", {"Statement": f'SELECT * FROM "{TABLE}"'}),
    # errors: moto writes them, items included, without the patch's writers
    ("PutItem", {"TableName": TABLE, "Item": {**ITEM, "sk": {"S": "2"}}, **_condition_fails()}),
    ("UpdateItem", {"TableName": TABLE, "Key": _key("2"), "UpdateExpression": "SET e = :e",
                                "ExpressionAttributeValues": {":e": {"S": "z"}}, **_condition_fails()}),
    ("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": TABLE, "Item": {**ITEM, "sk": {"S": "0"}}, **_condition_fails()}},
        {"Delete": {"TableName": TABLE, "Key": _key("1")}}]}),
    ("PutItem", {"TableName": TABLE, "Item": {**_key("9"), "ss": {"SS": []}}}),
    ("Query", {"TableName": "missing", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}}}),
    ("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "P"}}}),
    ("DescribeTable", {"TableName": TABLE}),
]


def _scenario() -> list[tuple[int, str]]:
    """Creates the table (with a GSI), puts four items, and answers every call of CALLS: each as
    (HTTP status, body) as moto wrote it, with the clock's values blanked."""
    client = boto3.client("dynamodb", region_name="eu-central-1")
    attributes = [{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "g")]
    client.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=attributes,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}])
    for i in range(4):
        client.put_item(TableName=TABLE, Item={**ITEM, "sk": {"S": str(i)}})
    bodies = []
    client.meta.events.register("after-call", lambda http_response, **_: bodies.append(
        (http_response.status_code, http_response.text)))
    for operation, params in CALLS:
        try:
            getattr(client, _snake(operation))(**params)
        except ClientError:
            pass
    return [(status, _blank_the_clock(body)) for status, body in bodies]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _blank_the_clock(body: str) -> str:
    body = re.sub(r'("\w*(?:DateTime|Timestamp)": )[0-9.e+]+', r"\1 0", body)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", "T", body)


def test_every_response_is_byte_identical_to_motos_own(monkeypatch):
    written = []
    for name in ("dynamo_value", "attribute_value"):
        monkeypatch.setattr(moto_responses, name, lambda value, real=getattr(moto_responses, name), name=name:
                            written.append(name) or real(value))
    with patched(), mock_aws():
        fast = _scenario()
    assert {"dynamo_value", "attribute_value"} <= set(written)  # both one-pass writers did write
    with unpatched(), mock_aws():
        slow = _scenario()
    assert len(fast) == len(CALLS)
    for call, answer, motos in zip(CALLS, fast, slow):
        assert answer == motos, call[1]
    assert [status for status, _ in fast].count(400) == 6
    assert '"B": "AP9ieXRlcw=="' in fast[6][1] and '"NS": ["1", "2.5", "-0.1E3"]' in fast[6][1]


def test_items_read_back_exactly():
    with patched(), mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        client.put_item(TableName=TABLE, Item=ITEM)
        assert client.get_item(TableName=TABLE, Key=_key("1"))["Item"] == ITEM
        assert client.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                            ExpressionAttributeValues={":p": {"S": "P"}})["Items"] == [ITEM]


# Results as the handlers build them, with values moto does not usually hold: each is written
# by moto's own conversion and walk and by the patch, and the two bodies (or errors) compared.


def _random_value(rng: random.Random, depth: int):
    from moto.dynamodb.models.dynamo_type import DynamoType

    kind = rng.choice(["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL"] + (["M", "L"] * 2 if depth < 4 else []))
    usual = {
        "S": lambda: rng.choice(["", "x", "é\u2028", "a\"b"]), "N": lambda: rng.choice(["0", "-1.5", "1E+3"]),
        "B": lambda: rng.choice([b"", b"\x00\xff", base64.b64encode(b"wire")]),
        "SS": lambda: ["a", "b"], "NS": lambda: ["1", "2"], "BS": lambda: [b"\x01", base64.b64encode(b"x")],
        "BOOL": lambda: rng.random() < 0.5, "NULL": lambda: True,
        "M": lambda: {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randint(0, 3))},
        "L": lambda: [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))],
    }[kind]()
    value = DynamoType({kind: usual if kind not in ("M", "L") else ({} if kind == "M" else [])})
    value.value = usual
    odd = rng.random()
    if odd < 0.05:
        value.value = rng.choice([5, Decimal("2.5"), None, "true", ["x", 3], {"S": "p"}, b"raw"])
    elif odd < 0.08:
        value.type = rng.choice(["X", "s", "SS"])
    elif odd < 0.11:
        value = {kind: usual} if kind not in ("M", "L") else {"S": "plain"}  # a plain value among the DynamoTypes
    elif odd < 0.13:
        value = rng.choice([None, {"S": "a", "N": "1"}, {}, {"BOOL": None}])
    elif odd < 0.15:
        subtype = type("DynamoSubtype", (DynamoType,), {})
        copy = subtype.__new__(subtype)
        copy.type, copy.value = value.type, value.value
        value = copy
    return value


class _HasJson:
    def __init__(self, value):
        self.value = value

    def to_json(self):
        return self.value


def _results(rng: random.Random):
    def item():
        return {f"a{i}": _random_value(rng, 0) for i in range(rng.randint(1, 5))}

    yield "Query", {"Count": 2, "ScannedCount": 3, "Items": [item(), item()], "LastEvaluatedKey": item()}
    yield "GetItem", {"Item": item(), "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5}}
    yield "BatchGetItem", {"Responses": {"t": [item(), _HasJson(item())]}, "UnprocessedKeys": {"t": {"Keys": [item()]}}}
    yield "UpdateItem", {"Attributes": {"plain": {"M": {"kept": _random_value(rng, 0)}}, "l": {"L": [item()]}}}
    yield "TransactGetItems", {"Responses": [{"Item": item()}, {}]}
    yield "DescribeTable", {"Table": {"TableName": "t", "CreationDateTime": datetime.datetime(2024, 5, 1, 12, 0, 1, 5000),
                                      "ItemCount": 3, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}


def _written(operation: str, result) -> str:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model
    from moto.dynamodb.responses import DynamoResult

    serializer = JSONSerializer(operation_model=get_service_model("dynamodb").operation_model(operation),
                                value_picker=XFormedAttributePicker())
    try:
        return serializer.serialize(DynamoResult(result).result)["body"]
    except Exception as error:  # noqa: BLE001 - moto's own failures must be the patch's too
        return f"{type(error).__name__}"


@pytest.mark.parametrize("seed", range(40))
def test_unusual_values_are_written_as_moto_writes_them(seed):
    moto_responses.install()
    with unpatched():
        motos = [_written(operation, result) for operation, result in _results(random.Random(seed))]
    with patched():
        written = [_written(operation, result) for operation, result in _results(random.Random(seed))]
    assert written == motos
    assert json.loads(written[-1])["Table"]["CreationDateTime"] == 1714564801.005
