"""HTTP transport helpers: the route decorator (auth, parsing, error mapping) and each route's contract."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, NamedTuple

from chalice import Blueprint, Response

from chalicelib.domain import json_input
from chalicelib.domain.errors import (
    DomainError, Forbidden, InvalidInput, NotFound, PayloadTooLarge, Problem, UnsupportedMediaType,
)
from chalicelib.domain.ids import ID_PATTERN
from chalicelib.domain.principal import ANONYMOUS, Principal
from chalicelib.handlers.schema import Schema, Type

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
    """What a view gets: the verified principal, and the request's parts its route declared, parsed."""

    principal: Principal
    request: Any
    membership: Any = None  # a person's active membership in the route's account, once authorised
    body: dict[str, Any] = field(default_factory=dict)  # the route's `body` schema, validated
    query: dict[str, Any] = field(default_factory=dict)  # the route's `query` schema, validated
    if_match: int | None = None  # the If-Match version, when the route reads it

    @property
    def tenant_id(self) -> str:
        assert self.principal.tenant_id is not None
        return self.principal.tenant_id

    @property
    def actor(self) -> dict:
        """Who acts, for the audit trail: {type: api_key|person, id}."""
        return self.principal.actor_ref


def _parse_body(request, schema: Schema, max_body_bytes: int, principal: Principal,
                people_fields: tuple[str, ...] | None) -> dict[str, Any]:
    raw = request.raw_body or b""
    if len(raw) > max_body_bytes:
        raise PayloadTooLarge(max_body_bytes)
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip()
    if content_type.lower() != "application/json":
        raise UnsupportedMediaType(content_type)
    data = parse_body(raw or b"{}")
    if not isinstance(data, dict):
        raise InvalidInput("Body must be a JSON object.", [Problem("body", "not_an_object")])
    data = schema.validate(data, "Body has invalid fields.")
    if principal.kind == "person" and people_fields is not None:
        owned = sorted(name for name in data if name not in people_fields and name != "version")
        if owned:
            from chalicelib.domain.permissions import PROVIDER_MANAGED

            raise Forbidden("These fields are managed by your provider.",
                            [Problem(name, PROVIDER_MANAGED) for name in owned])
    return data


def _parse_query(request, schema: Schema) -> dict[str, Any]:
    return schema.validate(dict(request.query_params or {}), "Query has invalid parameters.")


def _parse_if_match(request) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    value = value.strip().strip('"').removeprefix("W/").strip('"')
    if not value.isdigit() or len(value) > 15:
        raise InvalidInput("If-Match must be a version number.", [Problem("If-Match", "not_a_version")])
    return int(value)


class Contract(NamedTuple):
    """What a route takes and answers. The route validates its request with it, and the OpenAPI
    document (GET /openapi.json, handlers/openapi.py) is generated from it: one declaration.
    A NamedTuple, like the resource descriptions: pure data, defined at every cold start."""

    auth: Auth
    people: People
    people_fields: tuple[str, ...] | None
    body: Schema | None  # a JSON object body
    query: Schema | None
    if_match: bool  # reads the If-Match header (a version; stale → 409)
    responses: dict[int, Type | None]  # success statuses → their JSON body (None: no body)
    errors: tuple[int, ...]  # the statuses the route's service answers besides what the above imply
    sends_mail: bool = False  # counts against the tenant's per-minute limit of such requests (429)


View = Callable[..., Any]
ID_SHAPE = re.compile(ID_PATTERN)


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
          people: People = None, people_fields: tuple[str, ...] | None = None, *, body: Schema | None = None,
          query: Schema | None = None, if_match: bool = False, responses: dict[int, Type | None],
          errors: tuple[int, ...] = (), sends_mail: bool = False) -> Callable[[View], View]:
    """Registers a view that gets a `Call` first, then the path parameters.

    Authentication happens here, before the view runs, so no route can forget it; so does the
    parsing of what the route declares (`body`, `query`, `if_match`): the view finds the valid
    values on the `Call`. Domain errors become JSON error responses. `responses` and `errors`
    complete the route's contract for the OpenAPI document.

    `people` is the route's permission policy for a person's token (docs/permissions.md):
    None (the default: tenant API key only, so a new route opens to nobody by accident),
    "member" (any active member of the path's account) or "manage" (the customer or an admin).
    `people_fields` lists the body fields a person may send; any other answers 403 naming it (C6).
    `sends_mail` routes count against the tenant's per-minute limit of such requests (429).
    """
    from chalicelib import bootstrap  # the composition root, resolved per call

    contract = Contract(auth=auth, people=people, people_fields=people_fields, body=body, query=query,
                        if_match=if_match, responses=responses, errors=errors, sends_mail=sends_mail)

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
                call = Call(principal, request, membership)
                if body is not None:
                    call.body = _parse_body(request, body, bootstrap.get_settings().max_body_bytes, principal,
                                            people_fields)
                if query is not None:
                    call.query = _parse_query(request, query)
                if if_match:
                    call.if_match = _parse_if_match(request)
                answer = view(call, **path_params)
                # API Gateway would call a bare dict application/json; chalice's local server says nothing
                return answer if isinstance(answer, Response) else json_response(answer)
            except DomainError as error:
                return error_response(error)

        wrapped.auth = auth  # type: ignore[attr-defined]
        wrapped.people = people  # type: ignore[attr-defined]
        wrapped.people_fields = people_fields  # type: ignore[attr-defined]
        wrapped.contract = contract  # type: ignore[attr-defined]
        bp.route(path, methods=list(methods))(wrapped)
        return wrapped

    return decorate
