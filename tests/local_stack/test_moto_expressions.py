"""moto's update expressions without the generic deep copies (infra/local_stack/moto_expressions.py):
the same trees, the same copies, the same errors and the same updates as moto's own."""
from __future__ import annotations

import copy

import pytest

from infra.local_stack import moto_expressions

EXPRESSIONS = [
    "SET #status = :status, #updated_at = :updated_at REMOVE #pending_pk, #pending_sk",
    "SET #status = :status, #attempt = :attempt, #updated_at = :updated_at",
    "ADD #sent :sent, #failed :failed",
    "SET a.b[1].c = if_not_exists(a.b[1].c, :zero) + :one, l = list_append(l, :more) DELETE s :gone",
    "SET #n = :v REMOVE x, y[2] ADD counter :inc",
    "set lower = :case",
]


def dump(node, seen=None) -> object:
    """A node tree as nested tuples: each node's class, its attributes except `parent`, and
    whether its parent is the node it hangs under."""
    from moto.dynamodb.parsing.ast_nodes import Node

    if isinstance(node, list):
        return [dump(child, seen) for child in node]
    if not isinstance(node, Node):
        return repr(node)
    attributes = {name: dump(value) for name, value in vars(node).items() if name != "parent"}
    children = [child for child in node.children or [] if isinstance(child, Node)]
    return (type(node).__name__, attributes, all(child.parent is node for child in children))


def generic_deepcopy(tree):
    """`copy.deepcopy` as moto gets it without the patch."""
    from moto.dynamodb.parsing.ast_nodes import Node

    patched = Node.__dict__.get("__deepcopy__")
    if patched is not None:
        del Node.__deepcopy__
    try:
        return copy.deepcopy(tree)
    finally:
        if patched is not None:
            Node.__deepcopy__ = patched


@pytest.fixture(scope="module")
def parser():
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    moto_expressions.install()
    return UpdateExpressionParser


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_parse_gives_the_tree_moto_parses(parser, expression):
    fresh = parser.make.__wrapped__(parser, expression)
    assert dump(parser.make(expression)) == dump(fresh)
    assert dump(parser.make(expression)) == dump(fresh)  # from the kept tree


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_a_copy_is_what_moto_copies_and_shares_nothing(parser, expression):
    from moto.dynamodb.parsing.ast_nodes import Node

    tree = parser.make.__wrapped__(parser, expression)
    ours, theirs = copy.deepcopy(tree), generic_deepcopy(tree)
    assert dump(ours) == dump(theirs) == dump(tree)

    def nodes(node):
        yield node
        for child in node.children or []:
            if isinstance(child, Node):
                yield from nodes(child)

    assert not {id(n) for n in nodes(ours)} & {id(n) for n in nodes(tree)}


def test_updates_leave_the_kept_tree_as_parsed(parser):
    """Existing and new items, functions, every clause: moto never changes the tree make gave."""
    import boto3
    from moto import mock_aws

    expression = "SET l = list_append(if_not_exists(l, :empty), :more), c = if_not_exists(c, :zero) + :one " \
                 "REMOVE gone ADD n :one DELETE s :gone"
    tree = parser.make(expression)
    before = dump(tree)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        values = {":empty": {"L": []}, ":more": {"L": [{"S": "b"}]}, ":zero": {"N": "0"}, ":one": {"N": "1"},
                  ":gone": {"SS": ["x"]}}
        for key in ("NEW", "NEW", "OTHER"):
            client.update_item(TableName="t", Key={"pk": {"S": key}}, UpdateExpression=expression,
                               ExpressionAttributeValues=values)
        assert parser.make(expression) is tree and dump(tree) == before
        assert client.get_item(TableName="t", Key={"pk": {"S": "NEW"}})["Item"] == {
            "pk": {"S": "NEW"}, "l": {"L": [{"S": "b"}, {"S": "b"}]}, "c": {"N": "2"}, "n": {"N": "2"}}


@pytest.mark.parametrize("expression", ["SET", "SET a = ", "REMOVE", "SET a = = :v", "FOO a"])
def test_invalid_expressions_raise_what_moto_raises_every_time(parser, expression):
    with pytest.raises(Exception) as theirs:
        parser.make.__wrapped__(parser, expression)
    for _ in range(2):
        with pytest.raises(type(theirs.value)) as ours:
            parser.make(expression)
        assert str(ours.value) == str(theirs.value)


def test_updates_through_the_api_give_what_they_gave(parser):
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        client.put_item(TableName="t", Item={"pk": {"S": "P"}, "n": {"N": "1"}, "l": {"L": [{"S": "a"}]},
                                             "gone": {"S": "x"}})
        for _ in range(3):  # the same text again: from the kept tree
            client.update_item(TableName="t", Key={"pk": {"S": "P"}},
                               UpdateExpression="SET #l = list_append(#l, :more) ADD #n :one REMOVE gone",
                               ExpressionAttributeNames={"#l": "l", "#n": "n"},
                               ExpressionAttributeValues={":more": {"L": [{"S": "b"}]}, ":one": {"N": "1"}})
        item = client.get_item(TableName="t", Key={"pk": {"S": "P"}})["Item"]
        assert item == {"pk": {"S": "P"}, "n": {"N": "4"}, "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "b"},
                                                                       {"S": "b"}]}}
        with pytest.raises(ClientError) as refused:  # a validator's error, on a kept tree too
            client.update_item(TableName="t", Key={"pk": {"S": "P"}}, UpdateExpression="SET pk = :v",
                               ExpressionAttributeValues={":v": {"S": "Q"}})
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        client.update_item(TableName="t", Key={"pk": {"S": "NEW"}}, UpdateExpression="ADD #n :one",
                           ExpressionAttributeNames={"#n": "n"}, ExpressionAttributeValues={":one": {"N": "1"}})
        assert client.get_item(TableName="t", Key={"pk": {"S": "NEW"}})["Item"] == {"pk": {"S": "NEW"},
                                                                                  "n": {"N": "1"}}
