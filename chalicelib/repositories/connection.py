"""The DynamoDB connection: binds the models to the table and gives them one botocore client.

This is the one module that reaches into PynamoDB's connection internals (`_get_connection`,
`Connection._client`): PynamoDB builds a botocore session and client per model, each costly in
CPU (docs/design.md), so every model shares the transactions' client instead.
tests/unit/test_dynamodb_connection.py fails on a PynamoDB version where this stops holding.
"""
from __future__ import annotations

from pynamodb.connection import Connection, TableConnection


def connect(models: list, table_name: str, region: str) -> Connection:
    """Binds `models` to the table and returns the connection whose client they all use."""
    from chalicelib.adapters.dynamodb_items import parse_items_as_sent

    for model in models:
        model.Meta.table_name = table_name
        model.Meta.region = region
    connection = Connection(region=region)
    parse_items_as_sent(connection.session)  # before the client exists
    shared_client = connection.client
    for model in models:
        table_connection(model).connection._client = shared_client
    return connection


def table_connection(model) -> TableConnection:
    """The model's PynamoDB table connection (its schema, the shared client): for reads that map
    raw items themselves (repositories/rows.py)."""
    return model._get_connection()
