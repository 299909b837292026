"""moto 5.2.5's TransactWriteItems and the patch of infra/local_stack/moto_transactions.py.

The defect tests run on stock moto first (they show what moto does wrong; when one of them fails
there, moto fixed it and the patch can go), then with the patch. The rollback tests check that the
patch still undoes everything a cancelled transaction wrote.
"""
from __future__ import annotations

import copy
import threading
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local_stack import moto_transactions, moto_version
from infra.local_stack.fake_aws import aws_client
from tests.local_stack.conftest import moto_with


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

    def cancelled(self, *ops: tuple[str, dict]) -> None:
        """The writes, then a ConditionCheck that fails: moto must cancel them all."""
        with pytest.raises(ClientError) as raised:
            self.write(*ops, ("ConditionCheck", {"Key": key("nobody"), "ConditionExpression": "attribute_exists(pk)"}))
        assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"


@pytest.fixture
def patched():
    yield from moto_with(moto_transactions, installed=True)


@pytest.fixture
def stock_moto():
    yield from moto_with(moto_transactions, installed=False)


@pytest.fixture
def in_process():
    with mock_aws():
        yield Db(boto3.client("dynamodb", region_name="eu-central-1"))


def cancel_while_another_thread_writes(db: Db) -> None:
    """A transaction (a Put, then a failing ConditionCheck) during which another thread commits
    a Put of "committed-meanwhile": moto runs that thread while it checks the condition."""
    from moto.dynamodb import models

    original_get_item = models.DynamoDBBackend.get_item

    def get_item(backend, table_name, keys, *args, **kwargs):
        if keys == key("nobody"):
            writer = threading.Thread(target=db.client.put_item,
                                      kwargs={"TableName": db.table, "Item": key("committed-meanwhile")})
            writer.start()
            writer.join()
        return original_get_item(backend, table_name, keys, *args, **kwargs)

    models.DynamoDBBackend.get_item = get_item
    try:
        db.cancelled(("Put", {"Item": key("new")}))
    finally:
        models.DynamoDBBackend.get_item = original_get_item


def table_copies_of_a_transaction(db: Db, monkeypatch, items: int) -> int:
    from moto.dynamodb.models.table import Table

    copies = []
    original = copy.deepcopy

    def counting(value, memo=None, *args):
        if isinstance(value, Table):
            copies.append(value)
        return original(value, memo, *args)

    monkeypatch.setattr(copy, "deepcopy", counting)
    db.write(*[("Put", {"Item": key(f"new-{n}")}) for n in range(items)])
    monkeypatch.setattr(copy, "deepcopy", original)
    return len(copies)


def test_stock_moto_loses_a_write_committed_while_a_transaction_is_cancelled(stock_moto, in_process):
    cancel_while_another_thread_writes(in_process)
    assert in_process.item("committed-meanwhile") is None  # moto put back its copy of the whole table


def test_patched_a_write_committed_while_a_transaction_is_cancelled_stays(patched, in_process):
    cancel_while_another_thread_writes(in_process)
    assert in_process.item("committed-meanwhile") == key("committed-meanwhile")
    assert in_process.item("new") is None


def test_stock_moto_copies_the_whole_table_once_per_item_of_a_transaction(stock_moto, in_process, monkeypatch):
    assert table_copies_of_a_transaction(in_process, monkeypatch, items=3) == 3


def test_patched_a_transaction_copies_no_table(patched, in_process, monkeypatch):
    assert table_copies_of_a_transaction(in_process, monkeypatch, items=3) == 0


def test_install_refuses_another_moto_version(monkeypatch):
    monkeypatch.setattr(moto_version, "version", lambda name: "5.2.6")
    with pytest.raises(RuntimeError, match="patches moto 5.2.5, not 5.2.6"):
        moto_transactions.install()


@pytest.fixture(params=["in-process", "local-stack server"])
def db(request):
    """The table in patched moto in-process, or on the local stack's moto server (EmbeddedAws)."""
    if request.param == "in-process":
        request.getfixturevalue("patched")
        yield request.getfixturevalue("in_process")
    else:
        yield Db(aws_client("dynamodb", request.getfixturevalue("aws_url")))


def test_a_cancelled_transaction_undoes_a_new_put_a_put_an_update_and_a_delete(db):
    before = db.item("existing"), db.item("other")
    db.cancelled(("Put", {"Item": {**key("new"), "gpk": {"S": "g"}}}),
                 ("Update", {"Key": key("existing"), "UpdateExpression": "SET n = n + :one, extra = :x ADD tags :t",
                             "ExpressionAttributeValues": {":one": {"N": "1"}, ":x": {"S": "x"}, ":t": {"SS": ["b"]}}}),
                 ("Update", {"Key": key("created"), "UpdateExpression": "SET n = :one",
                             "ExpressionAttributeValues": {":one": {"N": "1"}}}),
                 ("Delete", {"Key": key("other")}))
    assert (db.item("existing"), db.item("other")) == before
    assert db.item("new") is None and db.item("created") is None
    assert len(db.client.query(TableName=db.table, IndexName="by_g", KeyConditionExpression="gpk = :g",
                               ExpressionAttributeValues={":g": {"S": "g"}})["Items"]) == 2


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


def test_a_stream_gets_no_records_from_a_cancelled_transaction(patched, in_process):
    from moto.dynamodb.models import dynamodb_backends

    in_process.client.update_table(TableName=in_process.table, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    shard = dynamodb_backends["123456789012"]["eu-central-1"].tables[in_process.table].stream_shard
    in_process.cancelled(("Delete", {"Key": key("existing")}))
    assert shard.items == []
    in_process.write(("Delete", {"Key": key("existing")}))
    assert [r.record["eventName"] for r in shard.items] == ["REMOVE"]
