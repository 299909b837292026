"""Functional tests: the Chalice app through chalice.test.Client, on moto in-process."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from moto import mock_aws

PLATFORM_KEY = "platform-test-key-0123456789abcdefghijklmnop"


@pytest.fixture
def aws():
    from chalicelib import bootstrap
    from chalicelib.resources import RESOURCES
    from infra.local_stack.provisioning import create_resources

    with mock_aws():
        create_resources(RESOURCES, endpoint_url=None, secret_values={"PlatformKey": PLATFORM_KEY})
        bootstrap.reset()
        yield
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
        yield client


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
