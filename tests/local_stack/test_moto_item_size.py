"""moto's item size check once per item (infra/local_stack/moto_item_size.py): the same items,
the same refusals as moto's own check per attribute."""
from __future__ import annotations

import pytest

from infra.local_stack import moto_item_size

SMALL = {"pk": {"S": "P"}, "m": {"M": {"a": {"L": [{"S": "x"}, {"N": "1"}]}}}, "ss": {"SS": ["a", "b"]}}


def build(init, attrs):
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item.__new__(Item)
    init(item, DynamoType({"S": "P"}), None, attrs)
    return item


def outcome(init, attrs):
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    try:
        return build(init, attrs).to_json()
    except ItemSizeTooLarge:
        return "too large"


@pytest.mark.parametrize("attrs", [
    SMALL,
    {"pk": {"S": "P"}, "big": {"S": "x" * 404_000}},                       # under the limit
    {"pk": {"S": "P"}, "big": {"S": "x" * 406_000}},                       # over it in one attribute
    {"pk": {"S": "P"}, **{f"a{i}": {"S": "y" * 5_000} for i in range(82)}},  # over it only in sum
    {"pk": {"S": "P"}, **{f"a{i}": {"S": "y" * 5_000} for i in range(80)}},  # just under in sum
], ids=["small", "404k", "406k", "82x5k", "80x5k"])
def test_the_same_items_and_the_same_refusals_as_moto(attrs):
    from moto.dynamodb.models.dynamo_type import Item

    moto_item_size.install()
    assert outcome(Item.__init__, attrs) == outcome(Item.__init__.__wrapped__, attrs)


def test_an_item_over_400_kb_is_still_refused_through_the_api():
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

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
