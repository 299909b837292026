"""HTTP transport helpers: the route decorator (auth + error mapping), body and query parsing."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal

from chalice import Blueprint, Response

from chalicelib.domain.errors import (
    DomainError, InvalidInput, NotFound, PayloadTooLarge, Problem, UnsupportedMediaType,
)
from chalicelib.domain.principal import ANONYMOUS, Principal
from chalicelib.handlers.schema import Schema

Auth = Literal["public", "platform", "tenant"]

JSON_HEADERS = {"Content-Type": "application/json"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def error_body(code: str, message: str, details: list[Problem] | None = None) -> dict:
    return {"error": {"code": code, "message": message,
                      "details": [{"field": d.field, "problem": d.problem} for d in details or []]}}


def error_response(error: DomainError) -> Response:
    return json_response(error_body(error.code, error.message, error.details), error.status)


@dataclass
class Call:
    """What a view gets: the verified principal and parsers for the request it serves."""

    principal: Principal
    request: Any
    max_body_bytes: int

    @property
    def tenant_id(self) -> str:
        assert self.principal.tenant_id is not None
        return self.principal.tenant_id

    def body(self, schema: Schema) -> dict[str, Any]:
        raw = self.request.raw_body or b""
        if len(raw) > self.max_body_bytes:
            raise PayloadTooLarge(self.max_body_bytes)
        content_type = (self.request.headers.get("content-type") or "application/json").split(";")[0].strip()
        if content_type.lower() != "application/json":
            raise UnsupportedMediaType(content_type)
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("Body is not valid JSON.", [Problem("body", "malformed_json")], "malformed_json")
        if not isinstance(data, dict):
            raise InvalidInput("Body must be a JSON object.", [Problem("body", "not_an_object")])
        return schema.validate(data, "Body has invalid fields.")

    def query(self, schema: Schema) -> dict[str, Any]:
        return schema.validate(dict(self.request.query_params or {}), "Query has invalid parameters.")

    def if_match(self) -> int | None:
        value = self.request.headers.get("if-match")
        if value is None:
            return None
        value = value.strip().strip('"').removeprefix("W/").strip('"')
        if not value.isdigit() or len(value) > 15:
            raise InvalidInput("If-Match must be a version number.", [Problem("If-Match", "not_a_version")])
        return int(value)


View = Callable[..., Any]
ID_SHAPE = re.compile(r"[a-z]{3}_[a-z2-7]{16}")


def _check_ids(path_params: dict[str, str]) -> None:
    """An id that cannot exist answers 404 at once (and never reaches DynamoDB's key limits)."""
    for name, value in path_params.items():
        if name.endswith("_id") and not ID_SHAPE.fullmatch(value):
            raise NotFound(name.removesuffix("_id").replace("_", " ").capitalize())


def route(bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",), auth: Auth = "tenant") -> Callable[[View], View]:
    """Registers a view that gets a `Call` first, then the path parameters.

    Authentication happens here, before the view runs, so no route can forget it; domain
    errors become JSON error responses.
    """
    from chalicelib import bootstrap  # the composition root, resolved per call

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(**path_params: str) -> Any:
            request = bp.current_request
            try:
                principal = ANONYMOUS if auth == "public" else bootstrap.get_authenticator().authenticate(
                    request.headers.get("authorization"), auth)
                _check_ids(path_params)
                call = Call(principal, request, bootstrap.get_settings().max_body_bytes)
                return view(call, **path_params)
            except DomainError as error:
                return error_response(error)

        wrapped.auth = auth  # type: ignore[attr-defined]
        bp.route(path, methods=list(methods))(wrapped)
        return wrapped

    return decorate
