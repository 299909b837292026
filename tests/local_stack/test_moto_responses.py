"""moto's DynamoDB responses without the AttributeValue shape walk (infra/local_stack/moto_responses.py):
every response equals the one moto's own serializer writes."""
from __future__ import annotations

import json
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws

from infra.local_stack import moto_responses

TABLE = "responses-test"
ITEM = {"pk": {"S": "P"}, "sk": {"S": "1"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbytes"},
        "bs": {"BS": [b"a", b"\x01"]}, "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True}, "e": {"S": ""},
        "m": {"M": {"inner": {"L": [{"S": "é"}, {"N": "0"}, {"M": {}}, {"L": []}, {"B": b"\x02"}]}}}}


@contextmanager
def unpatched():
    from moto.core.serialize import BaseJSONSerializer

    moto_responses.install()
    patched, BaseJSONSerializer._serialize = BaseJSONSerializer._serialize, moto_responses._original
    try:
        yield
    finally:
        BaseJSONSerializer._serialize = patched


@pytest.fixture
def client():
    moto_responses.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
        for i in range(3):
            client.put_item(TableName=TABLE, Item={**ITEM, "sk": {"S": str(i)}})
        yield client


def raw(client, operation: str, **params) -> dict:
    """The HTTP body moto answered, as JSON (botocore's parsed answer would hide differences)."""
    bodies = []
    client.meta.events.register(f"after-call.dynamodb.{operation}",
                                lambda http_response, **_: bodies.append(http_response.text))
    getattr(client, _snake(operation))(**params)
    return json.loads(bodies[-1])


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


CALLS = [
    ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P"}},
               "Limit": 2, "ReturnConsumedCapacity": "TOTAL"}),
    ("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "P"}, "sk": {"S": "1"}}}),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [{"pk": {"S": "P"}, "sk": {"S": str(i)}} for i in range(3)]}}}),
    ("Scan", {"TableName": TABLE}),
    ("UpdateItem", {"TableName": TABLE, "Key": {"pk": {"S": "P"}, "sk": {"S": "2"}},
                    "UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "3"}},
                    "ReturnValues": "ALL_NEW"}),
    ("DescribeTable", {"TableName": TABLE}),
]


@pytest.mark.parametrize("operation, params", CALLS, ids=[c[0] for c in CALLS])
def test_every_response_equals_the_shape_walk(client, operation, params, monkeypatch):
    used = []
    monkeypatch.setattr(moto_responses, "attribute_value",
                        lambda value, real=moto_responses.attribute_value: used.append(1) or real(value))
    fast = raw(client, operation, **params)
    assert bool(used) == (operation != "DescribeTable")  # the fast path did write the items
    with unpatched():
        slow = raw(client, operation, **params)
    for answer in (fast, slow):
        answer.pop("Table", None) if operation != "DescribeTable" else answer["Table"].pop("TableSizeBytes", None)
    assert fast == slow


def test_items_read_back_exactly(client):
    item = client.get_item(TableName=TABLE, Key={"pk": {"S": "P"}, "sk": {"S": "0"}})["Item"]
    assert item["b"] == {"B": b"\x00\xffbytes"} and item["m"]["M"]["inner"]["L"][4] == {"B": b"\x02"}
    assert item["ns"]["NS"] == ["1", "2.5"] and item["z"] == {"NULL": True} and item["e"] == {"S": ""}
