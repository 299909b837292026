"""moto's TransactWriteItems with a per-item backup (infra/local_stack/moto_transactions.py):
a cancelled transaction still leaves every item as it was, and the table is not copied."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local_stack.fake_aws import aws_client



def key(pk: str) -> dict:
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


@dataclass
class Db:
    """A client and a fresh table with pk + sk, one GSI and two items, "existing" and "other"."""

    client: object
    table: str = field(default_factory=lambda: f"tx-test-{uuid.uuid4().hex[:8]}")

    def __post_init__(self):
        self.client.create_table(
            TableName=self.table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        for pk in ("existing", "other"):
            self.client.put_item(TableName=self.table,
                                 Item={**key(pk), "gpk": {"S": "g"}, "n": {"N": "1"}, "tags": {"SS": ["a"]}})

    def item(self, pk: str):
        return self.client.get_item(TableName=self.table, Key=key(pk), ConsistentRead=True).get("Item")

    def write(self, *ops: tuple[str, dict]):
        """TransactWriteItems of (operation, parameters) on this table."""
        return self.client.transact_write_items(
            TransactItems=[{op: {"TableName": self.table, **params}} for op, params in ops])

    def cancelled(self, op: str, params: dict) -> None:
        """The write, then a ConditionCheck that fails: moto must cancel both."""
        with pytest.raises(ClientError) as raised:
            self.write((op, params), ("ConditionCheck", {"Key": key("nobody"),
                                                          "ConditionExpression": "attribute_exists(pk)"}))
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"


def backend_table(name: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"]["eu-central-1"].tables[name]


@pytest.fixture(params=["in-process", "local-stack server"])
def db(request):
    """The table in moto in-process, or on the local stack's moto server (EmbeddedAws)."""
    if request.param == "in-process":
        with mock_aws():
            yield Db(boto3.client("dynamodb", region_name="eu-central-1"))
    else:
        yield Db(aws_client("dynamodb", request.getfixturevalue("aws_url")))


def test_a_put_of_a_new_item_is_undone(db):
    db.cancelled("Put", {"Item": {**key("new"), "gpk": {"S": "g"}}})
    assert db.item("new") is None
    assert len(db.client.query(TableName=db.table, IndexName="by_g", KeyConditionExpression="gpk = :g",
                               ExpressionAttributeValues={":g": {"S": "g"}})["Items"]) == 2


def test_a_put_over_an_existing_item_is_undone(db):
    before = db.item("existing")
    db.cancelled("Put", {"Item": {**key("existing"), "n": {"N": "9"}}})
    assert db.item("existing") == before


def test_an_update_is_undone(db):
    before = db.item("existing")
    db.cancelled("Update", {"Key": key("existing"), "UpdateExpression": "SET n = n + :one, extra = :x ADD tags :t",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":x": {"S": "x"}, ":t": {"SS": ["b"]}}})
    assert db.item("existing") == before


def test_an_update_that_created_the_item_is_undone(db):
    db.cancelled("Update", {"Key": key("created"), "UpdateExpression": "SET n = :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}})
    assert db.item("created") is None


def test_a_delete_is_undone(db):
    before = db.item("existing")
    db.cancelled("Delete", {"Key": key("existing")})
    assert db.item("existing") == before


def test_a_failing_condition_on_a_later_write_undoes_the_earlier_ones(db):
    before = db.item("existing")
    with pytest.raises(ClientError) as raised:
        db.write(("Put", {"Item": key("new")}), ("Delete", {"Key": key("existing")}),
                 ("Update", {"Key": key("other"), "UpdateExpression": "SET n = :two", "ConditionExpression": "n = :two",
                             "ExpressionAttributeValues": {":two": {"N": "2"}}}))
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert db.item("new") is None
    assert db.item("existing") == before
    assert db.item("other")["n"] == {"N": "1"}


def test_a_rejected_transaction_changes_nothing(db):
    """Two operations on one item: moto raises its ValidationException mid-way."""
    with pytest.raises(ClientError) as raised:
        db.write(("Put", {"Item": key("new")}), ("Delete", {"Key": key("new")}))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert db.item("new") is None


def test_a_committed_transaction_applies_every_write(db):
    db.write(("Put", {"Item": key("new")}), ("Delete", {"Key": key("existing")}),
             ("Update", {"Key": key("other"), "UpdateExpression": "SET n = :two",
                         "ExpressionAttributeValues": {":two": {"N": "2"}}}))
    assert db.item("new") == key("new")
    assert db.item("existing") is None
    assert db.item("other")["n"] == {"N": "2"}


def test_the_table_is_neither_copied_nor_replaced():
    """The point of the patch: the items a transaction does not write stay the very same objects."""
    with mock_aws():
        db = Db(boto3.client("dynamodb", region_name="eu-central-1"))
        table = backend_table(db.table)
        items, before = table.items, dict(table.items)
        db.cancelled("Put", {"Item": key("new")})
        db.write(("Put", {"Item": key("new")}))
        assert backend_table(db.table) is table
        assert table.items is items
        assert all(table.items[h] is before[h] for h in before)


def test_a_stream_gets_no_records_from_a_cancelled_transaction():
    with mock_aws():
        db = Db(boto3.client("dynamodb", region_name="eu-central-1"))
        db.client.update_table(TableName=db.table,
                               StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        shard = backend_table(db.table).stream_shard
        db.cancelled("Delete", {"Key": key("existing")})
        assert shard.items == []
        db.write(("Delete", {"Key": key("existing")}))
        assert [r.record["eventName"] for r in shard.items] == ["REMOVE"]
