"""moto's own code in place of the local stack's patches, for the length of a block: the tests
compare what moto answers with and without them. Every patch keeps what it replaced as
`__wrapped__` (a property: its getter's). Also a fresh in-process moto with a table to call, and
the calls' answers."""
from __future__ import annotations

from contextlib import contextmanager


def size_and_key_patches() -> list[tuple[object, str]]:
    """Where moto_item_size, moto_projection and moto_keys patch moto."""
    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table

    from infra.local_stack import moto_item_size, moto_keys, moto_projection

    for patch in (moto_item_size, moto_projection, moto_keys):
        patch.install()
    return [(DynamoType, "size"), (DynamoType, "cast_value"), (DynamoType, "__hash__"), (Item, "__init__"),
            (Item, "project"), (Item, "size"), (Table, "_validate_key_sizes"),
            (responses, "validate_put_has_empty_keys"), (responses.DynamoHandler, "_contains_duplicates")]


@contextmanager
def moto_own(places: list[tuple[object, str]] | None = None):
    """Puts back what the patches at these places replaced (all of size_and_key_patches())."""
    saved = []
    for owner, name in places or size_and_key_patches():
        current = vars(owner)[name]
        if isinstance(current, property):
            original = property(current.fget.__wrapped__)
        else:
            original = current.__wrapped__
        saved.append((owner, name, current))
        setattr(owner, name, original)
    try:
        yield
    finally:
        for owner, name, current in reversed(saved):
            setattr(owner, name, current)


def answers(client, calls, tidy=lambda answer: answer) -> list:
    """Each (operation, parameters) call's answer without its metadata (tidied), or its error."""
    from botocore.exceptions import ClientError

    result = []
    for operation, params in calls:
        try:
            answer = getattr(client, operation)(**params)
            answer.pop("ResponseMetadata", None)
            result.append(tidy(answer))
        except ClientError as error:
            result.append(error.response["Error"])
    return result


BY_G = {"IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}


@contextmanager
def fresh_table(types: dict[str, str], indexes: list[dict]):
    """A fresh in-process moto with the table "t" (hash key pk, range key sk, these attribute
    types and global indexes): its DynamoDB client."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": kind} for name, kind in types.items()],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=indexes)
        yield client
