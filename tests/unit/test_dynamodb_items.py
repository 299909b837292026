"""DynamoDB answers parsed with their items as sent (chalicelib/adapters/dynamodb_items.py) equal
botocore's own parse, for every attribute type and every place an item or key appears."""
from __future__ import annotations

import base64
import json

import botocore.session
import pytest
from botocore.parsers import JSONParser

from chalicelib.adapters.dynamodb_items import ItemsAsSentParser, ItemsAsSentParserFactory, parse_items_as_sent

MODEL = botocore.session.get_session().get_service_model("dynamodb")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ITEM = {
    "pk": {"S": "T#ten_1#N#ntc_1#B"}, "sk": {"S": "published#00001"}, "seq": {"N": "1"},
    "recipients": {"B": b64(b"\x78\x9c packed")}, "tags": {"SS": ["a", "b"]}, "scores": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b64(b"one"), b64(b"two")]}, "done": {"BOOL": True}, "nothing": {"NULL": True},
    "steps": {"M": {"reminder#60": {"M": {"at": {"S": "2026-12-01T09:00:00Z"}, "raw": {"B": b64(b"\x00\x01")}}},
                    "empty": {"M": {}}}},
    "history": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"b": {"B": b64(b"in a list")}}}, {"L": [{"BOOL": False}]}]},
}
KEY = {"pk": {"S": "T#ten_1#P#per_1"}, "sk": {"S": "PERSON"}}

ANSWERS = {
    "GetItem": {"Item": ITEM, "ConsumedCapacity": {"TableName": "roster", "CapacityUnits": 0.5}},
    "Query": {"Items": [ITEM, KEY], "Count": 2, "ScannedCount": 3, "LastEvaluatedKey": KEY},
    "BatchGetItem": {"Responses": {"roster": [ITEM, KEY]},
                     "UnprocessedKeys": {"roster": {"Keys": [KEY], "ProjectionExpression": "#a",
                                                    "ExpressionAttributeNames": {"#a": "email"}}}},
    "UpdateItem": {"Attributes": ITEM},
    "TransactGetItems": {"Responses": [{"Item": ITEM}, {}]},
    "TransactWriteItems": {},
    "PutItem": {},
}


def parse(parser, operation: str, answer: dict, status: int = 200) -> dict:
    response = {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": json.dumps(answer).encode()}
    return parser.parse(response, MODEL.operation_model(operation).output_shape)


@pytest.mark.parametrize("operation", sorted(ANSWERS))
def test_every_answer_parses_as_botocore_parses_it(operation):
    expected = parse(JSONParser(), operation, ANSWERS[operation])
    assert parse(ItemsAsSentParser(), operation, ANSWERS[operation]) == expected
    if operation == "GetItem":  # blobs are bytes, as botocore gives them
        assert expected["Item"]["recipients"] == {"B": b"\x78\x9c packed"}


def test_a_cancelled_transaction_reports_its_items_as_botocore_does():
    answer = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
              "Message": "Transaction cancelled", "CancellationReasons": [
                  {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": ITEM}, {"Code": "None"}]}
    shape = MODEL.shape_for("TransactionCanceledException")
    response = {"status_code": 400, "headers": {}, "body": json.dumps(answer).encode()}
    assert ItemsAsSentParser().parse(response, shape) == JSONParser().parse(response, shape)


def walked_structures(monkeypatch) -> list[str]:
    """The names of the structure shapes botocore's JSON parsers walk from now on, in order."""
    walked = []
    original = JSONParser._handle_structure

    def counting(self, shape, value):
        walked.append(shape.name)
        return original(self, shape, value)

    monkeypatch.setattr(JSONParser, "_handle_structure", counting)
    return walked


def test_an_item_is_converted_without_walking_the_attribute_value_shape(monkeypatch):
    walked = walked_structures(monkeypatch)
    parse(ItemsAsSentParser(), "Query", {"Items": [ITEM] * 50, "Count": 50})
    assert "AttributeValue" not in walked and walked == ["QueryOutput"]
    walked.clear()
    parse(JSONParser(), "Query", {"Items": [ITEM] * 50, "Count": 50})
    assert walked.count("AttributeValue") > 50 * len(ITEM)  # botocore's way, for comparison


def test_the_factory_gives_other_protocols_botocore_s_parsers():
    factory = ItemsAsSentParserFactory()
    assert type(factory.create_parser("json")) is ItemsAsSentParser
    assert type(factory.create_parser("query")).__name__ == "QueryParser"


def test_a_session_so_told_gives_its_clients_the_parser():
    session = botocore.session.get_session()
    parse_items_as_sent(session)
    assert type(session.get_component("response_parser_factory")) is ItemsAsSentParserFactory
