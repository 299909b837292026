"""One botocore client for every model (chalicelib/repositories/connection.py): PynamoDB would
build a session and a client per model, each about 56 ms of CPU. The sharing reaches into
PynamoDB's connection internals, so these tests fail on a version where it stops working.
A model module imported after the connection exists binds its models as it is imported."""
from __future__ import annotations

import importlib
import pkgutil

import botocore.session
import pytest
from pynamodb.attributes import UnicodeAttribute

import chalicelib.models
from chalicelib.models.base import RosterModel
from chalicelib.repositories import connection as connections
from chalicelib.repositories.connection import connect, connect_registered, register, table_connection
from chalicelib.settings import get_settings


def model(name: str):
    """A model class of its own, with its own Meta, so no connection of it exists yet."""
    class Meta:
        table_name = "unbound"
        region = "eu-central-1"

    return type(name, (RosterModel,), {"Meta": Meta, "label": UnicodeAttribute(null=True)})


@pytest.fixture
def clients_built(aws, monkeypatch) -> list[str]:
    built = []
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        built.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return built


def test_reads_and_writes_through_several_models_build_one_client(clients_built):
    first, second, third = model("First"), model("Second"), model("Third")
    settings = get_settings()
    connection = connect([first, second, third], settings.table_name, settings.region)
    assert clients_built == ["dynamodb"]
    first("A", "1", label="one").save()
    assert second.get("A", "1").label == "one"
    assert [item.sk for item in third.query("A")] == ["1"]
    assert clients_built == ["dynamodb"]  # no model built a client of its own
    assert all(table_connection(m).connection.client is connection.client for m in (first, second, third))


def test_a_model_left_out_builds_its_own_client(clients_built):
    """The counter sees PynamoDB's own clients: without the sharing each model builds one."""
    bound, left_out = model("Bound"), model("LeftOut")
    settings = get_settings()
    connect([bound], settings.table_name, settings.region)
    left_out.Meta.table_name, left_out.Meta.region = settings.table_name, settings.region
    assert left_out.count("A") == 0
    assert clients_built == ["dynamodb", "dynamodb"]


def test_a_model_registered_after_the_connection_binds_at_once_to_its_client(clients_built, monkeypatch):
    """What a model module imported by a later request does: `register` binds its models on import."""
    monkeypatch.setattr(connections, "_registered", [])  # the app's own models stay as they are
    monkeypatch.setattr(connections, "_binding", None)
    early = model("Early")
    register(early)
    assert early.Meta.table_name == "unbound" and clients_built == []  # no connection yet: nothing bound
    settings = get_settings()
    connection = connect_registered(settings.table_name, settings.region)
    late = model("Late")
    register(late)
    late("A", "1", label="late").save()
    assert early.get("A", "1").label == "late"
    assert clients_built == ["dynamodb"]
    assert table_connection(late).connection.client is connection.client


def test_every_model_of_chalicelib_registers_itself():
    for info in pkgutil.iter_modules(chalicelib.models.__path__):
        importlib.import_module(f"chalicelib.models.{info.name}")
    models = {m for m in _subclasses(RosterModel) if m.__module__.startswith("chalicelib.models.")}
    assert len(models) > 20
    assert models <= set(connections._registered), sorted(m.__name__ for m in models - set(connections._registered))


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
