"""GET /openapi.json: public, the generated document, built once per process on first request."""
from __future__ import annotations

import json

import app as app_module
from chalicelib.handlers import openapi
from chalicelib.handlers.openapi_document import build


def test_the_document_is_served_without_a_credential(chalice_client, monkeypatch):
    monkeypatch.setattr(openapi, "_document", None)
    reply = chalice_client.http.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert json.loads(reply.body) == build(app_module.app)


def test_it_is_built_on_the_first_request_only(chalice_client, monkeypatch):
    from chalicelib.handlers import openapi_document

    monkeypatch.setattr(openapi, "_document", None)
    calls = []
    real = openapi_document.render
    monkeypatch.setattr(openapi_document, "render", lambda app: calls.append(app) or real(app))
    first = chalice_client.http.get("/openapi.json", headers={"authorization": "Bearer whatever"})
    second = chalice_client.http.get("/openapi.json")
    assert first.status_code == second.status_code == 200 and first.body == second.body
    assert len(calls) == 1
