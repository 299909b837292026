"""DynamoDB requests parsed without moto's shape walk (infra/local_stack/moto_request_parsing.py):
every request's parameters equal, type for type and key order for key order, those of moto's
own parser, and anything the fast path does not know is moto's to answer."""
from __future__ import annotations

import base64
import json
import random
from datetime import datetime

import boto3
import botocore.session
import pytest
from moto import mock_aws

from infra.local_stack import moto_request_parsing
from infra.local_stack.fake_aws import aws_client

URL = "https://dynamodb.eu-central-1.amazonaws.com/"
TABLE = "request-parsing-test"
_client = botocore.session.get_session().create_client(
    "dynamodb", region_name="eu-central-1", aws_access_key_id="testing", aws_secret_access_key="testing")

NESTED = {"M": {"B": {"B": b"\x00\xff"}, "S": {"L": [{"B": b"x"}, {"M": {}}, {"L": []}, {"S": ""}, {"BS": [b"\x01", b""]}]},
                "M": {"M": {"deep": {"M": {"L": {"L": [{"B": b"deep"}, {"N": "-1.5e3"}]}}}}}, "": {"S": "empty name"}}}
ITEM = {"pk": {"S": "TENANT#1"}, "sk": {"S": "PERSON#ü€😀"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbytes"},
        "empty_b": {"B": b""}, "bs": {"BS": [b"a", b"\x01\x02"]}, "ss": {"SS": ["x", "ÿ"]}, "ns": {"NS": ["1", "2.5"]},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True}, "e": {"S": ""}, "em": {"M": {}}, "el": {"L": []},
        "B": {"S": "a name like a type"}, "S": {"B": b"S"}, "M": {"L": [{"S": "M"}]}, "nested": NESTED}
KEY = {"pk": {"S": "TENANT#1"}, "sk": {"S": "PERSON#ü€😀"}}
BINARY_KEY = {"pk": {"S": "P"}, "sk": {"B": b"\x00\x01"}}
NAMES = {"#n": "n", "#b": "B"}
VALUES = {":one": {"N": "1"}, ":b": {"B": b"\xfe"}, ":m": NESTED, ":e": {"S": ""}}

# (operation, parameters as boto3 takes them): every DynamoDB operation Roster uses, and more
CORPUS = [
    ("GetItem", {"TableName": TABLE, "Key": KEY, "ConsistentRead": True, "ProjectionExpression": "#n, b",
                 "ExpressionAttributeNames": NAMES, "ReturnConsumedCapacity": "TOTAL"}),
    ("GetItem", {"TableName": TABLE, "Key": BINARY_KEY}),
    ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [{"pk": {"S": "P"}, "sk": {"S": str(i)}} for i in range(100)],
                                               "ConsistentRead": True},
                                       "other": {"Keys": [BINARY_KEY], "ProjectionExpression": "#b",
                                                 "ExpressionAttributeNames": NAMES}}}),
    ("Query", {"TableName": TABLE, "IndexName": "by_g", "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
               "ExpressionAttributeValues": {":p": {"S": "P"}, ":s": {"S": ""}}, "Limit": 25, "ScanIndexForward": False,
               "ExclusiveStartKey": {**BINARY_KEY, "g": {"B": b"\xff"}}, "FilterExpression": "#n > :one",
               "ExpressionAttributeNames": NAMES, "Select": "ALL_ATTRIBUTES"}),
    ("Query", {"TableName": TABLE, "KeyConditions": {"pk": {"AttributeValueList": [{"B": b"k"}], "ComparisonOperator": "EQ"}},
               "QueryFilter": {"b": {"AttributeValueList": [{"BS": [b"1"]}], "ComparisonOperator": "CONTAINS"}}}),
    ("Scan", {"TableName": TABLE, "Segment": 1, "TotalSegments": 4, "Limit": 10, "ExclusiveStartKey": KEY}),
    ("PutItem", {"TableName": TABLE, "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)",
                 "ReturnValues": "ALL_OLD", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    ("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "x"}},
                 "Expected": {"b": {"Value": {"B": b"1"}, "ComparisonOperator": "EQ"}, "c": {"Exists": False}}}),
    ("UpdateItem", {"TableName": TABLE, "Key": BINARY_KEY, "UpdateExpression": "SET #n = #n + :one, m = :m, b = :b REMOVE e",
                    "ConditionExpression": "attribute_exists(pk) AND #b <> :e", "ExpressionAttributeNames": NAMES,
                    "ExpressionAttributeValues": VALUES, "ReturnValues": "ALL_NEW"}),
    ("UpdateItem", {"TableName": TABLE, "Key": KEY,
                    "AttributeUpdates": {"b": {"Value": {"B": b"2"}, "Action": "PUT"}, "e": {"Action": "DELETE"}}}),
    ("DeleteItem", {"TableName": TABLE, "Key": BINARY_KEY, "ConditionExpression": "b = :b",
                    "ExpressionAttributeValues": {":b": {"B": b"\x00"}}, "ReturnValues": "ALL_OLD"}),
    ("BatchWriteItem", {"RequestItems": {TABLE: [{"PutRequest": {"Item": ITEM}}, {"DeleteRequest": {"Key": BINARY_KEY}}] * 12,
                                         "other": [{"PutRequest": {"Item": {"pk": {"B": b"\x80"}}}}]},
                        "ReturnConsumedCapacity": "INDEXES", "ReturnItemCollectionMetrics": "SIZE"}),
    ("TransactWriteItems", {"ClientRequestToken": "token-1", "ReturnConsumedCapacity": "TOTAL", "TransactItems": [
        *({"Put": {"TableName": TABLE, "Item": {**ITEM, "sk": {"S": str(i)}}, "ConditionExpression": "attribute_not_exists(pk)"}}
          for i in range(50)),
        {"Update": {"TableName": TABLE, "Key": KEY, "UpdateExpression": "ADD #n :one", "ExpressionAttributeNames": NAMES,
                    "ExpressionAttributeValues": VALUES, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"Delete": {"TableName": TABLE, "Key": BINARY_KEY, "ConditionExpression": "attribute_exists(pk)"}},
        {"ConditionCheck": {"TableName": TABLE, "Key": KEY, "ConditionExpression": "b = :b",
                            "ExpressionAttributeValues": {":b": {"B": b"\x01"}}}}]}),
    ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": TABLE, "Key": BINARY_KEY, "ProjectionExpression": "#b",
                                                     "ExpressionAttributeNames": NAMES}}, {"Get": {"TableName": TABLE, "Key": KEY}}]}),
    ("CreateTable", {
        "TableName": TABLE, "BillingMode": "PROVISIONED", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "B"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "by_g", "KeySchema": [{"AttributeName": "sk", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
                                    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
        "LocalSecondaryIndexes": [], "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "SSESpecification": {"Enabled": False}, "Tags": [{"Key": "k", "Value": ""}], "DeletionProtectionEnabled": False}),
    ("CreateTable", {"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
    ("UpdateTable", {"TableName": TABLE, "AttributeDefinitions": [{"AttributeName": "g", "AttributeType": "S"}],
                     "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
    ("DescribeTable", {"TableName": TABLE}),
    ("UpdateTimeToLive", {"TableName": TABLE, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}}),
    ("DescribeTimeToLive", {"TableName": TABLE}),
    ("ListTables", {"Limit": 100, "ExclusiveStartTableName": "abc"}),
    ("ListTables", {}),
    ("DeleteTable", {"TableName": TABLE}),
    ("ListBackups", {"TableName": TABLE, "TimeRangeLowerBound": datetime(2024, 1, 2, 3, 4, 5),
                     "TimeRangeUpperBound": 1700000000.5, "Limit": 3}),
    ("UpdateTableReplicaAutoScaling", {"TableName": TABLE, "ProvisionedWriteCapacityAutoScalingUpdate": {
        "MinimumUnits": 1, "MaximumUnits": 10, "ScalingPolicyUpdate": {
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50, "ScaleInCooldown": 60}}},
        "ReplicaUpdates": [{"RegionName": "eu-west-1", "ReplicaProvisionedReadCapacityAutoScalingUpdate": {
            "ScalingPolicyUpdate": {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 12.5}}}}]}),  # doubles
    ("ExecuteStatement", {"Statement": "SELECT * FROM t WHERE b = ?", "Parameters": [{"B": b"\x00"}, NESTED], "Limit": 1}),
]


def request(operation: str, params: dict):
    """The HTTP request boto3 sends for the call, as moto receives it."""
    from moto.core.request import Request

    serialized = _client._serializer.serialize_to_request(params, _client.meta.service_model.operation_model(operation))
    return Request.from_primitives("POST", URL, serialized["headers"], serialized["body"])


def raw_request(operation: str, body: bytes | str, content_type: str = "application/x-amz-json-1.0",
                target: str | None = None):
    from moto.core.request import Request

    headers = {"Content-Type": content_type, "X-Amz-Target": target or f"DynamoDB_20120810.{operation}"}
    return Request.from_primitives("POST", URL, headers, body.encode("utf-8") if isinstance(body, str) else body)


def handler_for(req):
    """A DynamoDB handler set up for the request (setup_class runs the patched parse_parameters)."""
    from moto.dynamodb.responses import DynamoHandler

    moto_request_parsing.install()
    handler = DynamoHandler()
    handler.setup_class(req)
    return handler


def moto_params(handler, req):
    from moto.dynamodb.responses import DynamoHandler

    DynamoHandler.parse_parameters.__wrapped__(handler, req)
    return handler.params


def fast_params(handler, req):
    """The fast path's answer, without the fallback to moto's parser (which would hide a miss)."""
    parse = moto_request_parsing._plan_for(handler, req)
    assert parse is not None
    return parse(moto_request_parsing._loaded_body(req.data))


def outcome(parse, *args):
    try:
        return "ok", parse(*args)
    except Exception as error:  # noqa: BLE001 - both parsers must fail alike
        return "error", (type(error), str(error))


def assert_same(fast, slow, path="$"):
    """Equal, and of the same types all the way down (bytes are not str, dicts keep moto's order)."""
    assert type(fast) is type(slow), f"{path}: {type(fast).__name__} != {type(slow).__name__}"
    if isinstance(slow, dict):
        assert list(fast) == list(slow), path
        for key in slow:
            assert_same(fast[key], slow[key], f"{path}.{key}")
    elif isinstance(slow, list):
        assert len(fast) == len(slow), path
        for index, (a, b) in enumerate(zip(fast, slow)):
            assert_same(a, b, f"{path}[{index}]")
    else:
        assert fast == slow, path


@pytest.mark.parametrize("operation, params", CORPUS, ids=[f"{i}-{c[0]}" for i, c in enumerate(CORPUS)])
def test_every_request_gets_moto_s_parameters(operation, params):
    req = request(operation, params)
    handler = handler_for(req)
    slow = moto_params(handler, req)
    assert_same(fast_params(handler, req), slow)
    assert_same(handler_for(req).params, slow)  # the patched parse_parameters, as moto calls it


def test_binaries_are_bytes_where_moto_decodes_them():
    req = request("PutItem", {"TableName": TABLE, "Item": ITEM})
    item = handler_for(req).params["Item"]
    assert item["b"] == {"B": b"\x00\xffbytes"} and item["bs"] == {"BS": [b"a", b"\x01\x02"]}
    assert item["S"] == {"B": b"S"} and item["B"] == {"S": "a name like a type"} and item["empty_b"] == {"B": b""}
    assert item["nested"]["M"]["M"]["M"]["deep"]["M"]["L"]["L"][0] == {"B": b"deep"}


# JSON bodies no SDK would send: null members, unknown members, several members in an attribute
# value (moto keeps the shape's order), a null body; the fast path answers these as moto does.
ODD_BODIES = [
    ("PutItem", {"TableName": TABLE, "Item": {"a": {"S": None}, "b": {"X": "1"}, "c": {"N": "1", "S": "x", "B": "AA=="},
                                              "d": {}, "e": None, "f": {"NULL": None, "BOOL": None}}, "Unknown": 1, "Expected": None}),
    ("PutItem", {"TableName": TABLE, "Item": {"m": {"M": {"x": None, "y": {"L": [None, {"S": "a"}, {}]}}}}}),
    ("GetItem", {"TableName": TABLE, "Key": {"pk": {"N": 5}}, "ConsistentRead": "yes", "ReturnConsumedCapacity": 3}),
    ("Query", {"TableName": TABLE, "Limit": 5.0, "KeyConditionExpression": "pk = :p",
               "ExpressionAttributeValues": {":p": {"SS": []}}}),
    ("Scan", {"TableName": TABLE, "Limit": "7", "Segment": True, "TotalSegments": 2}),
    ("ListBackups", {"TimeRangeLowerBound": "2024-01-02T03:04:05Z", "TimeRangeUpperBound": 0}),
    ("ListTables", {}),
    ("TransactWriteItems", {"TransactItems": [{"Put": None}, {}, {"Put": {"TableName": TABLE, "Item": {}}, "Delete": None}]}),
]


@pytest.mark.parametrize("operation, body", ODD_BODIES, ids=[f"{i}-{b[0]}" for i, b in enumerate(ODD_BODIES)])
def test_odd_json_gets_moto_s_parameters(operation, body):
    req = raw_request(operation, json.dumps(body))
    handler = handler_for(req)
    assert_same(fast_params(handler, req), moto_params(handler, req))


# Requests the fast path leaves to moto: the same answer, or the same error, either way.
LEFT_TO_MOTO = [
    ("PutItem", "not json", None, None),
    ("PutItem", "null", None, None),
    ("PutItem", "[1, 2]", None, None),
    ("PutItem", "\ufeff{}", None, None),
    ("PutItem", "", None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": {"a": {"SS": "abc"}, "b": {"NS": {"1": 2}}}}), None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": {"a": {"B": "not base64 ü"}}}), None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": {"a": {"B": 5}}}), None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": {"a": {"M": "x"}}}), None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": {"a": {"L": "abc"}}}), None, None),
    ("PutItem", json.dumps({"TableName": TABLE, "Item": [1]}), None, None),
    ("Query", json.dumps({"TableName": TABLE, "Limit": "many"}), None, None),
    ("GetItem", json.dumps({"TableName": TABLE}), "application/json", None),
    ("GetItem", json.dumps({"TableName": TABLE}), "text/plain", None),
    ("GetItem", json.dumps({"TableName": TABLE}), None, "DynamoDB_20111205.GetItem"),
    ("NoSuchOperation", json.dumps({"TableName": TABLE}), None, None),
]


@pytest.mark.parametrize("operation, body, content_type, target", LEFT_TO_MOTO,
                         ids=[f"{i}-{c[0]}" for i, c in enumerate(LEFT_TO_MOTO)])
def test_what_the_fast_path_does_not_know_is_moto_s_to_answer(operation, body, content_type, target):
    from moto.dynamodb.responses import DynamoHandler

    kwargs = {"content_type": content_type} if content_type else {}
    req = raw_request(operation, body, target=target, **kwargs)
    handler = DynamoHandler()
    moto_request_parsing.install()
    # setup_class with parse_parameters taken out: the handler as moto has it when it parses
    handler.automated_parameter_parsing = False
    handler.setup_class(req)

    def run(parse):
        parse(handler, req)
        return handler.params

    fast, slow = outcome(run, DynamoHandler.parse_parameters), outcome(run, DynamoHandler.parse_parameters.__wrapped__)
    assert fast[0] == slow[0]
    assert_same(fast[1], slow[1])


# Random requests: seeded, so a failure repeats (hypothesis is not installed in the venv).
TAGS = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]
NAME_POOL = ["pk", "sk", "B", "S", "M", "L", "N", "NULL", "", "é", "😀", "a b", "#x", ":v", "BS"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice("aB0 _é€😀\"\\\n") for _ in range(rng.randrange(0, 6)))


def random_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 9)))


def random_value(rng: random.Random, depth: int = 0) -> dict:
    """One attribute value as boto3 takes it, any type, maps and lists nested up to 4 deep."""
    tag = rng.choice(TAGS if depth < 4 else TAGS[:5])
    if tag == "S":
        return {"S": random_text(rng)}
    if tag == "N":
        return {"N": str(rng.choice([0, -1, 3.25, 10 ** 30, rng.random()]))}
    if tag == "B":
        return {"B": random_bytes(rng)}
    if tag == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if tag == "NULL":
        return {"NULL": True}
    if tag == "M":
        return {"M": {rng.choice(NAME_POOL) + random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}}
    if tag == "L":
        return {"L": [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]}
    if tag == "SS":
        return {"SS": [random_text(rng) for _ in range(rng.randrange(1, 4))]}
    if tag == "NS":
        return {"NS": [str(rng.randrange(-99, 99)) for _ in range(rng.randrange(1, 4))]}
    return {"BS": [random_bytes(rng) for _ in range(rng.randrange(1, 4))]}


def random_item(rng: random.Random) -> dict:
    return {rng.choice(NAME_POOL) + random_text(rng): random_value(rng) for _ in range(rng.randrange(1, 15))}


def random_call(rng: random.Random) -> tuple[str, dict]:
    item, key = random_item(rng), random_item(rng)
    values = {f":{i}": random_value(rng) for i in range(rng.randrange(0, 4))}
    return rng.choice([
        ("PutItem", {"TableName": TABLE, "Item": item}),
        ("UpdateItem", {"TableName": TABLE, "Key": key, "UpdateExpression": "SET a = :0", "ExpressionAttributeValues": values}),
        ("Query", {"TableName": TABLE, "KeyConditionExpression": "pk = :0", "ExpressionAttributeValues": values,
                   "ExclusiveStartKey": key}),
        ("BatchWriteItem", {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}}, {"DeleteRequest": {"Key": key}}]}}),
        ("BatchGetItem", {"RequestItems": {TABLE: {"Keys": [key, random_item(rng)]}}}),
        ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": TABLE, "Item": item}},
                                                  {"ConditionCheck": {"TableName": TABLE, "Key": key, "ConditionExpression": "a",
                                                                      "ExpressionAttributeValues": values}}]}),
        ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": TABLE, "Key": key}}]}),
    ])


@pytest.mark.parametrize("seed", range(6))
def test_random_attribute_value_trees_get_moto_s_parameters(seed):
    rng = random.Random(seed)
    for _ in range(60):
        operation, params = random_call(rng)
        req = request(operation, params)
        handler = handler_for(req)
        slow = moto_params(handler, req)
        assert_same(fast_params(handler, req), slow)
        assert_same(handler_for(req).params, slow)


def random_json(shape, rng: random.Random, depth: int = 0):
    """A JSON value for any input shape of the model, with null and unknown members now and then."""
    kind = shape.type_name
    if kind == "structure":
        members = list(shape.members.items())
        chosen = rng.sample(members, k=rng.randrange(0, min(len(members), 4 if depth < 5 else 1) + 1))
        value = {name: random_json(member, rng, depth + 1) for name, member in chosen}
        if rng.random() < 0.1:
            value["NotAMember"] = random_text(rng)
        if chosen and rng.random() < 0.1:
            value[chosen[0][0]] = None
        return value
    if kind == "list":
        return [random_json(shape.member, rng, depth + 1) for _ in range(rng.randrange(0, 3 if depth < 5 else 1))]
    if kind == "map":
        return {random_text(rng): random_json(shape.value, rng, depth + 1) for _ in range(rng.randrange(0, 3 if depth < 5 else 1))}
    if kind == "blob":
        return base64.b64encode(random_bytes(rng)).decode()
    if kind == "timestamp":
        return rng.choice([1700000000, 1700000000.25, "2024-05-06T07:08:09Z"])
    if kind in ("integer", "long"):
        return rng.choice([0, 7, -3, 2 ** 40])
    if kind == "double":
        return rng.choice([0.5, 3, -1.25])
    if kind == "boolean":
        return rng.random() < 0.5
    return random_text(rng)


def test_every_operation_of_the_model_gets_moto_s_parameters():
    """Random bodies for every input shape of DynamoDB's model, including those Roster does not use."""
    service_model = _client.meta.service_model
    rng = random.Random(1)
    for operation in service_model.operation_names:
        shape = service_model.operation_model(operation).input_shape
        for _ in range(15):
            req = raw_request(operation, json.dumps(random_json(shape, rng) if shape else {}))
            handler = handler_for(req)
            slow = moto_params(handler, req)
            if shape is not None:
                assert_same(fast_params(handler, req), slow)
            assert_same(handler_for(req).params, slow)


def test_renamed_members_of_any_model_are_read_under_their_wire_names():
    """DynamoDB's model renames no member; the compiler follows locationName as moto's parser does."""
    import copy

    from botocore.model import ShapeResolver
    from moto.core.parse import JSONParser

    shape = ShapeResolver({
        "Input": {"type": "structure", "members": {"Renamed": {"shape": "Blob", "locationName": "wire"},
                                                   "Same": {"shape": "Str", "locationName": "alias"},
                                                   "Nested": {"shape": "Input"}, "Items": {"shape": "Inputs"}}},
        "Inputs": {"type": "list", "member": {"shape": "Input"}},
        "Blob": {"type": "blob"}, "Str": {"type": "string"},
    }).get_shape_by_name("Input")
    parse = moto_request_parsing.compile_shape(shape, {})
    for body in [{"wire": "AAE=", "alias": "x"}, {"alias": "only"}, {"Renamed": "AAE=", "Same": "x"},
                 {"Nested": {"alias": "y"}, "Items": [{"wire": ""}, {"alias": None}, {"alias": "z", "wire": "AA=="}]}]:
        assert_same(parse(copy.deepcopy(body)), JSONParser(None)._parse_shape(shape, copy.deepcopy(body)))


def test_install_is_idempotent():
    from moto.dynamodb.responses import DynamoHandler

    moto_request_parsing.install()
    patched = DynamoHandler.parse_parameters
    moto_request_parsing.install()
    assert DynamoHandler.parse_parameters is patched and moto_request_parsing.installed()
    assert patched.__wrapped__ is moto_request_parsing._original


def test_other_services_keep_moto_s_parser():
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodb_v20111205.responses import DynamoHandler as OldDynamoHandler

    moto_request_parsing.install()
    assert "parse_parameters" not in vars(BaseResponse) or BaseResponse.parse_parameters is DynamoHandler.parse_parameters.__wrapped__
    assert OldDynamoHandler.parse_parameters is BaseResponse.parse_parameters


# Through the API: binary attributes written and read back unchanged, with no request left to moto.
BINARY_ITEM = {"pk": {"S": "P"}, "sk": {"B": b"\x00\x01"}, "b": {"B": b"\x00\xff\x80"}, "bs": {"BS": [b"\x01", b"\xfe"]},
               "nested": NESTED, "S": {"B": b"B"}}


@pytest.fixture(params=["in-process", "local-stack server"])
def dynamodb(request, monkeypatch):
    fast, left_to_moto = [], []
    original, loaded_body = moto_request_parsing._original, moto_request_parsing._loaded_body
    monkeypatch.setattr(moto_request_parsing, "_original",
                        lambda handler, req: left_to_moto.append(req.headers.get("X-Amz-Target")) or original(handler, req))
    monkeypatch.setattr(moto_request_parsing, "_loaded_body", lambda data: fast.append(1) or loaded_body(data))
    if request.param == "in-process":
        with mock_aws():
            yield boto3.client("dynamodb", region_name="eu-central-1")
    else:
        yield aws_client("dynamodb", request.getfixturevalue("aws_url"))
    assert left_to_moto == [] and len(fast) >= 12


def test_binary_attributes_round_trip(dynamodb, unique):
    table = f"{TABLE}-{unique}"
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "B"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    dynamodb.put_item(TableName=table, Item=BINARY_ITEM)
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "P"}, "sk": {"B": b"\x00\x01"}})["Item"] == BINARY_ITEM
    dynamodb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {**BINARY_ITEM, "sk": {"B": bytes([i])}}}}
                                                    for i in range(2, 6)]})
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {**BINARY_ITEM, "sk": {"B": b"\x06"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "P"}, "sk": {"B": b"\x02"}}, "UpdateExpression": "SET b = :b",
                    "ConditionExpression": "bs = :bs", "ExpressionAttributeValues": {":b": {"B": b"\x07"}, ":bs": BINARY_ITEM["bs"]}}}])
    pages, start = [], {}
    while True:
        page = dynamodb.query(TableName=table, KeyConditionExpression="pk = :p AND sk > :s", Limit=2,
                              ExpressionAttributeValues={":p": {"S": "P"}, ":s": {"B": b"\x01"}}, **start)
        pages.append([item["sk"]["B"] for item in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert [sk for page in pages for sk in page] == [bytes([i]) for i in range(2, 7)]
    got = dynamodb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "P"}, "sk": {"B": bytes([i])}} for i in (2, 6)]}})
    assert sorted((i["sk"]["B"], i["b"]["B"]) for i in got["Responses"][table]) == [(b"\x02", b"\x07"), (b"\x06", b"\x00\xff\x80")]
    got = dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"S": "P"}, "sk": {"B": b"\x06"}}}}])
    assert got["Responses"][0]["Item"] == {**BINARY_ITEM, "sk": {"B": b"\x06"}}
    dynamodb.delete_item(TableName=table, Key={"pk": {"S": "P"}, "sk": {"B": b"\x06"}}, ConditionExpression="b = :b",
                         ExpressionAttributeValues={":b": {"B": b"\x00\xff\x80"}})
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "P"}, "sk": {"B": b"\x06"}})
