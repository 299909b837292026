"""The DynamoDB connection: binds the models to the table and gives them one botocore client.

This is the one module that reaches into PynamoDB's connection internals (`_get_connection`,
`Connection._client`): PynamoDB builds a botocore session and client per model, each costly in
CPU (docs/design.md), so every model shares the transactions' client instead.
tests/functional/test_dynamodb_connection.py fails on a PynamoDB version where this stops holding.

Each module of `chalicelib.models` registers its models as it is imported (`register`).
`connect_registered()` binds the models registered so far and keeps the table, the region and
the client, so a model module imported later binds its models on import: a request loads and
binds only the models its repositories use. Binding reads no settings and does no I/O.
"""
from __future__ import annotations

from pynamodb.connection import Connection, TableConnection

_registered: list = []  # every model a module of chalicelib.models registered, in import order
_binding: tuple | None = None  # (table name, region, client) of the last connect_registered()


def register(*models) -> None:
    """For a model module, as it is imported: its models are bound by `connect_registered()`,
    or at once if that has run."""
    _registered.extend(models)
    if _binding is not None:
        _bind(models, *_binding)


def connect_registered(table_name: str, region: str) -> Connection:
    """`connect()` for every registered model, and for each model registered from now on."""
    global _binding
    connection = connect(_registered, table_name, region)
    _binding = (table_name, region, connection.client)
    return connection


def connect(models: list, table_name: str, region: str) -> Connection:
    """Binds `models` to the table and returns the connection whose client they all use."""
    from chalicelib.adapters.dynamodb_items import parse_items_as_sent

    connection = Connection(region=region)
    parse_items_as_sent(connection.session)  # before the client exists
    _bind(models, table_name, region, connection.client)
    return connection


def _bind(models, table_name: str, region: str, client) -> None:
    for model in models:
        model.Meta.table_name = table_name
        model.Meta.region = region
        table_connection(model).connection._client = client


def table_connection(model) -> TableConnection:
    """The model's PynamoDB table connection (its schema, the shared client): for reads that map
    raw items themselves (repositories/rows.py)."""
    return model._get_connection()
