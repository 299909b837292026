"""HTTP transport helpers: the route decorator (auth + error mapping), body and query parsing."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal

from chalice import Blueprint, Response

from chalicelib.domain import json_input
from chalicelib.domain.errors import (
    DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge, Problem, UnsupportedMediaType,
)
from chalicelib.domain.principal import ANONYMOUS, Principal
from chalicelib.handlers.schema import Schema

Auth = Literal["public", "platform", "tenant", "person"]
People = Literal["member", "manage"] | None

JSON_HEADERS = {"Content-Type": "application/json"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body), status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def error_body(code: str, message: str, details: list[Problem] | None = None) -> dict:
    return {"error": {"code": code, "message": message,
                      "details": [{"field": d.field, "problem": d.problem} for d in details or []]}}


def parse_body(raw: bytes):
    """The JSON value of a request body, nesting at most json_input.MAX_DEPTH levels; else 400."""
    try:
        return json_input.parse(raw)
    except json_input.MalformedJSON as error:
        raise InvalidInput("Body is not valid JSON.", [Problem("body", error.problem)], "malformed_json") from None


def error_response(error: DomainError) -> Response:
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return json_response(error_body(error.code, error.message, error.details), error.status, headers)


@dataclass
class Call:
    """What a view gets: the verified principal and parsers for the request it serves."""

    principal: Principal
    request: Any
    max_body_bytes: int
    membership: Any = None  # a person's active membership in the route's account, once authorised
    people_fields: tuple[str, ...] | None = None  # the body fields a person may send (C6)

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
        data = parse_body(raw or b"{}")
        if not isinstance(data, dict):
            raise InvalidInput("Body must be a JSON object.", [Problem("body", "not_an_object")])
        data = schema.validate(data, "Body has invalid fields.")
        if self.principal.kind == "person" and self.people_fields is not None:
            owned = sorted(name for name in data if name not in self.people_fields and name != "version")
            if owned:
                from chalicelib.domain.permissions import PROVIDER_MANAGED

                raise Forbidden("These fields are managed by your provider.",
                                [Problem(name, PROVIDER_MANAGED) for name in owned])
        return data

    @property
    def actor(self) -> dict:
        """Who acts, for the audit trail: {type: api_key|person, id}."""
        return self.principal.actor_ref

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


def _authorise_person(principal: Principal, auth: Auth, people: People, path_params: dict[str, str]):
    """A person's access to the route: the active membership of the path's account, or an error.

    No active membership in the account answers 404, like a missing account (nothing tells
    a stranger that the account exists); a member without the route's right gets 403.
    """
    from chalicelib import bootstrap
    from chalicelib.domain.permissions import allows

    if auth == "person" and "account_id" not in path_params:
        return None  # the person's own routes (/me)
    membership = None
    if "account_id" in path_params:
        membership = bootstrap.get_portal_service().active_membership(
            principal.tenant_id, path_params["account_id"], principal.person_id)
        if membership is None:
            raise NotFound("Account")
    if people is None:
        raise Forbidden("This call is for your provider's staff (a tenant API key).")
    if membership is None or not allows(people, membership):
        raise Forbidden("This call needs the customer or an admin of the account.")
    return membership


def route(bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",), auth: Auth = "tenant",
          people: People = None, people_fields: tuple[str, ...] | None = None,
          sends_mail: bool = False) -> Callable[[View], View]:
    """Registers a view that gets a `Call` first, then the path parameters.

    Authentication happens here, before the view runs, so no route can forget it; domain
    errors become JSON error responses.

    `people` is the route's permission policy for a person's token (docs/permissions.md):
    None (the default: tenant API key only, so a new route opens to nobody by accident),
    "member" (any active member of the path's account) or "manage" (the customer or an admin).
    `people_fields` lists the body fields a person may send; any other answers 403 naming it (C6).
    `sends_mail` routes count against the tenant's per-minute limit of such requests (429).
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
                membership = _authorise_person(principal, auth, people, path_params) if principal.kind == "person" else None
                if sends_mail:
                    bootstrap.get_mail_limits().take_request(principal.tenant_id)
                call = Call(principal, request, bootstrap.get_settings().max_body_bytes, membership, people_fields)
                return view(call, **path_params)
            except DomainError as error:
                return error_response(error)

        wrapped.auth = auth  # type: ignore[attr-defined]
        wrapped.people = people  # type: ignore[attr-defined]
        wrapped.people_fields = people_fields  # type: ignore[attr-defined]
        wrapped.sends_mail = sends_mail  # type: ignore[attr-defined]
        bp.route(path, methods=list(methods))(wrapped)
        return wrapped

    return decorate
