"""Functional tests: the Chalice app through chalice.test.Client, on moto in-process."""
from __future__ import annotations

import functools
import json
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from moto import mock_aws

PLATFORM_KEY = "platform-test-key-0123456789abcdefghijklmnop"


@pytest.fixture
def aws():
    """A fresh moto account per test. The app's clients are kept across tests on purpose:
    moto intercepts them whichever mock is active, and building botocore clients anew costs
    about half a second a test."""
    from chalicelib import bootstrap
    from chalicelib.resources import RESOURCES
    from infra.local_stack.provisioning import create_resources

    with mock_aws():
        create_resources(RESOURCES, endpoint_url=None, secret_values={"PlatformKey": PLATFORM_KEY})
        yield
        if bootstrap._overrides:
            bootstrap.reset()


@dataclass
class Api:
    """A thin JSON client over chalice's test client, with a bearer key."""

    http: object
    key: str | None = None

    def call(self, method: str, path: str, body=None, key: str | None = None, headers: dict | None = None,
             raw: bytes | None = None):
        all_headers = {"content-type": "application/json"}
        token = key if key is not None else self.key
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        response = getattr(self.http, method.lower())(path, headers=all_headers, body=payload)
        return Reply(response.status_code, json.loads(response.body) if response.body else None, response.headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body if body is not None else {}, **kw)

    def patch(self, path, body=None, **kw):
        return self.call("PATCH", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@dataclass
class Reply:
    status: int
    json: object
    headers: dict

    @property
    def error(self):
        return (self.json or {}).get("error", {})

    def fields(self) -> set[str]:
        return {detail["field"] for detail in self.error.get("details", [])}


@pytest.fixture
def chalice_client(aws):
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="dev") as client:
        client.http.request = _conforming(client.http.request)
        yield client


def _conforming(request):
    """Every answer the functional tests get must be one the OpenAPI document describes."""
    from tests.openapi_conformance import conformance

    @functools.wraps(request)
    def checked(method, path, headers=None, body=b""):
        response = request(method, path, headers=headers, body=body)
        problems = conformance().problems(method, path, response.status_code, response.headers, response.body)
        assert not problems, "the answer differs from docs/openapi.json:\n" + "\n".join(problems)
        return response

    return checked


@pytest.fixture
def platform(chalice_client) -> Api:
    return Api(chalice_client.http, PLATFORM_KEY)


def new_tenant(platform: Api, name: str = "Acme Telecom", language: str = "de") -> Api:
    reply = platform.post("/tenants", {"name": name, "default_language": language})
    assert reply.status == 201, reply.json
    return Api(platform.http, reply.json["api_key"])


@pytest.fixture
def api(platform) -> Api:
    return new_tenant(platform)


@pytest.fixture
def other_api(platform) -> Api:
    return new_tenant(platform, "Other Provider", "fr")


COMPLETE_ACCOUNT = {
    "name": "Muster AG",
    "address": {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich", "country": "CH"},
    "business_type": "it_services",
    "language": "de",
}


def add_contact(api: Api, account_id: str, email: str, **fields):
    reply = api.post(f"/accounts/{account_id}/contacts", {"email": email, **fields})
    assert reply.status == 201, reply.json
    return reply.json


@pytest.fixture
def account(api) -> dict:
    reply = api.post("/accounts", COMPLETE_ACCOUNT)
    assert reply.status == 201, reply.json
    return reply.json


# --- helpers for the functional suite (table inspection, cursors, ids) -------------------

class Shifted:
    """The app's clock moved forward by `seconds`: what a later request would see."""

    def __init__(self, clock, seconds: float):
        self._clock, self._delta = clock, seconds

    def now(self):
        from datetime import timedelta

        return self._clock.now() + timedelta(seconds=self._delta)

    def now_iso(self):
        from chalicelib.adapters.clock import iso

        return iso(self.now())


def skip_ahead(seconds: float) -> None:
    """Moves the app's clock forward, e.g. past an invitation's resend cooldown."""
    from chalicelib import bootstrap

    bootstrap.override(clock=Shifted(bootstrap.get_clock(), seconds))


REQUEST_COUNTER = "#LIMIT#mail-requests"


@contextmanager
def dynamodb_hook(event: str, handler):
    """`handler` on the app's shared DynamoDB client for botocore's `event` while the block runs."""
    from chalicelib import bootstrap

    client = bootstrap.get_repositories().connection.client
    client.meta.events.register(f"{event}.dynamodb", handler)
    try:
        yield handler
    finally:
        client.meta.events.unregister(f"{event}.dynamodb", handler)


@contextmanager
def dynamodb_operations():
    """The DynamoDB operations the app's shared client sends while the block runs, in order."""
    operations: list[str] = []
    with dynamodb_hook("before-call", lambda model=None, **_: operations.append(model.name)):
        yield operations


def table_items(request_counter: bool = False) -> list[dict]:
    """Every item of the Roster table in DynamoDB JSON, sorted by key, read straight from moto's
    in-process backend (a Scan through the API costs ~0.2 s of moto serialisation each time).

    The tenant's counter of mail-causing requests is left out unless asked for: like API
    Gateway's throttle it counts each request it lets through before the route runs, also
    one the route then refuses (400, 404, …), so "a refused call changed nothing" is about
    every other item.

    Only tests read the table this way: the app itself never scans.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from chalicelib.settings import get_settings

    settings = get_settings()
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][settings.region].get_table(settings.table_name)
    items = [item.to_json()["Attributes"] for item in table.all_items()]
    if not request_counter:
        items = [item for item in items if not item["pk"]["S"].endswith(REQUEST_COUNTER)]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def scan_items() -> list[dict]:
    """The same through DynamoDB's Scan API (slow under moto; for a cross-check only)."""
    from chalicelib.settings import get_settings

    settings = get_settings()
    client = _dynamodb_client(settings.region)
    items, start = [], None
    while True:
        kwargs = {"TableName": settings.table_name, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


@functools.lru_cache(maxsize=None)
def _dynamodb_client(region: str):
    """One client for the whole run: moto intercepts it whenever a mock is active."""
    import boto3

    return boto3.session.Session(region_name=region).client("dynamodb")


def hide_from_by_person(tenant_id: str, person_id: str) -> None:
    """The person item leaves the by_person index, as the index shows a new person before it
    caught up: its index key is removed (moto keeps every index in step with the table)."""
    from chalicelib.models import keys
    from chalicelib.settings import get_settings

    settings = get_settings()
    _dynamodb_client(settings.region).update_item(
        TableName=settings.table_name, Key={"pk": {"S": keys.person(tenant_id, person_id)}, "sk": {"S": keys.PERSON_SK}},
        UpdateExpression="REMOVE person_key", ConditionExpression="attribute_exists(pk)")


def items_mentioning(text: str, audit: bool = False) -> list[dict]:
    """Items any of whose attribute values (keys, index keys, data) contain `text`.

    The audit trail (partitions ending in #AUDIT) is left out unless `audit`: it keeps the ids
    of who acted and of what changed (never names, e-mails or values) after the objects are gone."""
    return [item for item in table_items()
            if text in json.dumps(item) and (audit or not item["pk"]["S"].endswith("#AUDIT"))]


def walk(api: Api, path: str, limit: int = 1, **query) -> list[dict]:
    """Follows next_cursor through a list and returns every item; fails on a loop."""
    from urllib.parse import urlencode

    items, cursor, pages = [], None, 0
    while True:
        params = {**query, "limit": limit, **({"cursor": cursor} if cursor else {})}
        reply = api.get(f"{path}?{urlencode(params)}")
        assert reply.status == 200, reply.json
        assert len(reply.json["items"]) <= limit
        items.extend(reply.json["items"])
        cursor = reply.json["next_cursor"]
        pages += 1
        assert pages < 200, "the cursor walk does not end"
        if not cursor:
            return items


def assert_error(reply: Reply, status: int, code: str | None = None, fields: set[str] | None = None) -> None:
    """The reply is an error of the API's one format, with the given status, code and detail fields."""
    assert reply.status == status, (reply.status, reply.json)
    assert isinstance(reply.json, dict) and set(reply.json) == {"error"}, reply.json
    error = reply.json["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert set(detail) == {"field", "problem"}, detail
        assert isinstance(detail["field"], str) and isinstance(detail["problem"], str)
    if code is not None:
        assert error["code"] == code, error
    if fields is not None:
        assert reply.fields() == fields, error


def random_id(kind: str) -> str:
    """A well-formed id of `kind` ('account', 'person', 'key', 'tenant') that names nothing."""
    from chalicelib.domain.ids import new_id

    return new_id(kind)


@pytest.fixture
def atomic_moto(monkeypatch):
    """DynamoDB applies each request atomically; moto in-process does not: a failed
    TransactWriteItems puts back a deep copy of the whole table, which can wipe out a write that
    another thread committed meanwhile (and copying a table another thread is changing can
    crash). A lock around each intercepted request gives moto DynamoDB's per-request atomicity;
    the requests of different threads still interleave freely between one another."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def atomic(self, event_name, request, **kwargs):
        with lock:
            return original(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)


def run_together(actions: list, monkeypatch, first_read: tuple | None = None) -> list:
    """Runs the actions in threads started together; returns ("ok", result) or ("error", exc) each.

    With first_read=(object, method name), each thread's first call of that method waits, once
    it has read, until every thread has read: all first writes then race on the same state,
    the worst case for a read-then-write."""
    import threading

    barrier = threading.Barrier(len(actions), timeout=20)
    local = threading.local()
    if first_read is not None:
        owner, name = first_read
        original = getattr(owner, name)

        def read_then_wait(*args, **kwargs):
            result = original(*args, **kwargs)
            if not getattr(local, "passed", False):
                local.passed = True
                barrier.wait()
            return result

        monkeypatch.setattr(owner, name, read_then_wait)
    outcomes: list = [None] * len(actions)

    def run(index: int, action) -> None:
        try:
            outcomes[index] = ("ok", action())
        except Exception as exc:  # noqa: BLE001 - the caller inspects every outcome
            outcomes[index] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a thread hung"
    if first_read is not None:
        monkeypatch.setattr(owner, name, original)
    return outcomes
