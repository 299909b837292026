"""Invitations (G2, G3, G5, G6, G9): the tenant's routes under /accounts/{account_id}/invitations,
the public pages behind an invitation link, and the expiry schedule."""
from __future__ import annotations

import functools
import json
from typing import NamedTuple

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import Conflict, DomainError, InvalidInput, Problem
from chalicelib.domain.rules import normalise_email
from chalicelib.domain.vocabulary import INVITATION_STATUSES, LANGUAGES
from chalicelib.handlers.contacts import GRANTS
from chalicelib.handlers import render
from chalicelib.handlers.http import error_body, json_response, route
from chalicelib.handlers.responses import INVITATION, INVITATION_ANSWER, INVITATION_RESULTS, page_of
from chalicelib.handlers.schema import EMAIL, PAGE, AnyValue, Enum, Integer, ListOf, Schema, Type

bp = Blueprint(__name__)

INVITE = Schema({"email": EMAIL, "kind": Enum(("contact", "guest")), **GRANTS, "language": Enum(LANGUAGES),
                 "expires_in_days": Integer(minimum=1, maximum=30)}, required=("email",))
LIST = Schema({**PAGE, "status": Enum(INVITATION_STATUSES)})
MAX_BATCH = 100


# batch items are validated one by one, so that one bad item fails alone
BATCH = Schema({"invitations": ListOf(AnyValue(documented_as=INVITE), max_items=MAX_BATCH, unique=False)},
               required=("invitations",))
BASE = "/accounts/{account_id}/invitations"
# The customer and the account's admins invite, list, resend and revoke (C2, G9); see docs/permissions.md.


def _inviter(call) -> tuple[str, str | None]:
    person_id = getattr(call.principal, "person_id", None)
    return (person_id or call.principal.actor), person_id


@route(bp, BASE, ("POST",), people="manage", body=INVITE, responses={201: INVITATION}, errors=(409, 422), sends_mail=True)
def create_invitation(call, account_id):
    body = call.body
    invited_by, person_id = _inviter(call)
    invitation = bootstrap.get_invitation_service().create(call.tenant_id, account_id, body, invited_by, person_id)
    return json_response(render.invitation(invitation), 201)


@route(bp, BASE + "/batch", ("POST",), people="manage", body=BATCH, responses={200: INVITATION_RESULTS}, sends_mail=True)
def create_invitations(call, account_id):
    """Up to 100 invitations; each gets its own result, the valid ones are created."""
    items = call.body["invitations"]
    if not items:
        raise InvalidInput("Body has invalid fields.", [Problem("invitations", "must not be empty")])
    service, (invited_by, person_id) = bootstrap.get_invitation_service(), _inviter(call)
    service.require_account(call.tenant_id, account_id)  # a missing account fails the whole batch: 404
    results, seen = [], set()
    for index, item in enumerate(items):
        try:
            fields = INVITE.validate(item, f"Invitation {index} has invalid fields.")
            email = normalise_email(fields["email"])
            if email in seen:  # one mail per address and batch
                raise Conflict("The batch names this e-mail address more than once.", "duplicate_in_batch",
                               [Problem(f"invitations[{index}].email", "appears earlier in the batch")])
            seen.add(email)
            invitation = service.create(call.tenant_id, account_id, fields, invited_by, person_id)
            results.append({"status": 201, "invitation": render.invitation(invitation)})
        except DomainError as error:
            results.append({"status": error.status, **error_body(error.code, error.message, error.details)})
    return json_response({"items": results}, 200)


@route(bp, BASE, people="manage", query=LIST, responses={200: page_of(INVITATION)})
def list_invitations(call, account_id):
    q = call.query
    page = bootstrap.get_invitation_service().list(call.tenant_id, account_id, q.get("status"), q.get("limit", 50),
                                                   q.get("cursor"))
    return render.page(page, render.invitation)


@route(bp, BASE + "/{invitation_id}", people="manage", responses={200: INVITATION})
def get_invitation(call, account_id, invitation_id):
    return render.invitation(bootstrap.get_invitation_service().get(call.tenant_id, account_id, invitation_id))


@route(bp, BASE + "/{invitation_id}/resend", ("POST",), people="manage", responses={200: INVITATION}, errors=(409,), sends_mail=True)
def resend_invitation(call, account_id, invitation_id):
    return render.invitation(bootstrap.get_invitation_service().resend(call.tenant_id, account_id, invitation_id,
                                                                           call.actor))


@route(bp, BASE + "/{invitation_id}", ("DELETE",), people="manage", responses={204: None}, errors=(409,))
def revoke_invitation(call, account_id, invitation_id):
    bootstrap.get_invitation_service().revoke(call.tenant_id, account_id, invitation_id, call.actor)
    return Response(body="", status_code=204)


# --- the public pages behind a link -----------------------------------------------------------
PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATUS = {"open": 200, "accepted": 200, "declined": 200, "expired": 410, "not_found": 404, "conflict": 409,
          "not_registered": 409}
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]


def page_route(path: str, methods: tuple[str, ...], content_types: list[str] | None = None,
               blueprint: Blueprint = bp, *, statuses: tuple[int, ...], json: Type | None = None,
               form: dict[str, Type] | None = None):
    """A public HTML route (the invitation and the preferences links). Not `route()`: no
    credential to check, and every answer (errors included) is a page, never the JSON error format.

    For the OpenAPI document: the `statuses` it answers, the `json` shape it answers instead of
    the page to `Accept: application/json`, and the `form` fields it reads (per media type)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(**params):
            try:
                return view(blueprint.current_request, **params)
            except Exception:  # noqa: BLE001 - a page never shows a stack trace
                bootstrap.get_logger().exception("public page failed", extra={"route": path})
                return Response(body="", status_code=500, headers=PAGE_HEADERS)

        wrapped.auth = "public"  # type: ignore[attr-defined]
        wrapped.page = PageContract(statuses, json, form or {})  # type: ignore[attr-defined]
        options = {"content_types": content_types} if content_types else {}
        blueprint.route(path, methods=list(methods), **options)(wrapped)
        return wrapped

    return decorate


class PageContract(NamedTuple):
    """What a public page route answers, for the OpenAPI document (see `page_route`)."""

    statuses: tuple[int, ...]
    json: Type | None
    form: dict[str, Type]


def _language(request) -> str:
    """For the pages that must not reveal anything about the link (404): the browser's language."""
    for part in (request.headers.get("accept-language") or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


def _page(request, answer, token: str) -> Response:
    from chalicelib.pages import html as pages

    status = STATUS[answer.state]
    if "application/json" in (request.headers.get("accept") or "") and request.method == "POST":
        return Response(body=json.dumps(render.invitation_answer(answer, status == 200)), status_code=status,
                        headers={**PAGE_HEADERS, "Content-Type": "application/json"})
    html = (pages.invitation_offer(answer.context, token) if answer.state == "open"
            else pages.invitation_message(answer.context, answer.state))
    return Response(body="" if request.method == "HEAD" else html, status_code=status, headers=PAGE_HEADERS)


@page_route("/invitations/{token}", ("GET", "HEAD"), statuses=(200, 404, 410))
def invitation_page(request, token):
    """Reads only: mail scanners follow links with GET and HEAD."""
    return _page(request, bootstrap.get_invitation_service().view(token, _language(request)), token)


@page_route("/invitations/{token}/accept", ("POST",), FORM_TYPES, statuses=(200, 404, 409, 410),
            json=INVITATION_ANSWER)
def accept_invitation(request, token):
    return _page(request, bootstrap.get_invitation_service().answer(token, "accepted", _language(request)), token)


@page_route("/invitations/{token}/decline", ("POST",), FORM_TYPES, statuses=(200, 404, 409, 410),
            json=INVITATION_ANSWER)
def decline_invitation(request, token):
    return _page(request, bootstrap.get_invitation_service().answer(token, "declined", _language(request)), token)


# --- expiry ---------------------------------------------------------------------------------
@bp.schedule("rate(5 minutes)", name="expire_invitations")
def expire_invitations(event):
    expired = bootstrap.get_invitation_service().expire_due()
    bootstrap.get_logger().info("expire_invitations", extra={"expired": expired})
    return {"expired": expired}
