"""Notification preferences (N2, docs/api.md): the public pages behind the link of every notice mail.

GET and HEAD read only (mail scanners follow links); POST saves the choices; POST …/unsubscribe
removes one type everywhere, also as an RFC 8058 one-click (`List-Unsubscribe=One-Click` in the
body, the type in `?type=`). Pages and headers as for the invitation links."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.vocabulary import NOTIFICATIONS
from chalicelib.handlers import render
from chalicelib.handlers.http import error_body, parse_body
from chalicelib.handlers.invitations import FORM_TYPES, PAGE_HEADERS, _language, page_route
from chalicelib.handlers.responses import PREFERENCES_ANSWER
from chalicelib.handlers.schema import Enum, ListOf, MapOf, Object, String

bp = Blueprint(__name__)

STATUS = {"open": 200, "saved": 200, "unsubscribed": 200, "invalid": 400, "not_found": 404}
_TEXT = String(min_length=0, max_length=None)
_FIELDS = ListOf(_TEXT, max_items=None)
CHOICES_FORM = Object({"account": _FIELDS, "notify": _FIELDS})  # notify: <account_id>:<type>
CHOICES = {"application/x-www-form-urlencoded": CHOICES_FORM, "multipart/form-data": CHOICES_FORM,
           "application/json": Object({"choices": MapOf(ListOf(Enum(NOTIFICATIONS), max_items=None))})}
UNSUBSCRIBE_FORM = Object({"type": Enum(NOTIFICATIONS), "List-Unsubscribe": Enum(("One-Click",))})
UNSUBSCRIBE = {"application/x-www-form-urlencoded": UNSUBSCRIBE_FORM, "multipart/form-data": UNSUBSCRIBE_FORM,
               "application/json": Object({"type": Enum(NOTIFICATIONS)})}


def _wants_json(request) -> bool:
    return "application/json" in (request.headers.get("accept") or "")


def _answer(request, page, token: str, back: str, error: InvalidInput | None = None) -> Response:
    """The page, or JSON for API clients; `error` (a malformed body) is named in JSON answers of a
    genuine link (a tampered one gets the plain 404)."""
    from chalicelib.pages import html as pages

    status = STATUS[page.state]
    if _wants_json(request):
        body = render.preferences(page, shown=status == 200)
        if error is not None and page.state == "invalid":
            body.update(error_body(error.code, error.message, error.details))
        return Response(body=json.dumps(body), status_code=status,
                        headers={**PAGE_HEADERS, "Content-Type": "application/json"})
    html = pages.preference_choices(page, token) if page.state == "open" else pages.preference_message(page, back)
    return Response(body="" if request.method == "HEAD" else html, status_code=status, headers=PAGE_HEADERS)


def _query_type(request) -> str | None:
    return (request.query_params or {}).get("type")


def _form(request) -> dict[str, list[str]]:
    """The fields of a urlencoded or multipart body (a JSON body is read by the caller)."""
    content_type = request.headers.get("content-type") or ""
    raw = request.raw_body or b""
    if content_type.lower().startswith("multipart/form-data"):
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        fields: dict[str, list[str]] = {}
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    fields.setdefault(str(name), []).append(part.get_payload(decode=True).decode("utf-8", "replace"))
        return fields
    return parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)


def _json(request):
    """The JSON body, or None when the Content-Type is not JSON; InvalidInput when it is malformed."""
    if not (request.headers.get("content-type") or "").lower().startswith("application/json"):
        return None
    return parse_body(request.raw_body or b"null")


def _choices(request) -> dict[str, set[str]] | None:
    """{account_id: types} from the form (`account` per account shown, `notify` = `<account_id>:<type>`)
    or from JSON `{"choices": {account_id: [types]}}`; None when the body says nothing usable."""
    body = _json(request)
    if body is not None:
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, dict) or not all(
                isinstance(types, list) and all(isinstance(t, str) for t in types) for types in choices.values()):
            return None
        return {str(account_id): set(types) for account_id, types in choices.items()} or None
    fields = _form(request)
    result: dict[str, set[str]] = {account_id: set() for account_id in fields.get("account", []) if account_id}
    for value in fields.get("notify", []):
        account_id, _, notice_type = value.partition(":")
        if account_id in result:
            result[account_id].add(notice_type)
    return result or None


@page_route("/preferences/{token}", ("GET", "HEAD"), blueprint=bp, statuses=(200, 404), json=PREFERENCES_ANSWER)
def preferences_page(request, token):
    """Reads only: mail scanners follow links with GET and HEAD."""
    page = bootstrap.get_preference_service().view(token, _language(request), _query_type(request))
    return _answer(request, page, token, token)


@page_route("/preferences/{token}", ("POST",), FORM_TYPES, blueprint=bp, statuses=(200, 400, 404),
            json=PREFERENCES_ANSWER, form=CHOICES)
def save_preferences(request, token):
    service, hint = bootstrap.get_preference_service(), _language(request)
    try:
        choices = _choices(request)
    except InvalidInput as error:
        return _answer(request, service.refuse(token, hint), token, token, error)
    page = service.refuse(token, hint) if choices is None else service.update(token, choices, hint)
    return _answer(request, page, token, token)


@page_route("/preferences/{token}/unsubscribe", ("POST",), FORM_TYPES, blueprint=bp, statuses=(200, 400, 404),
            json=PREFERENCES_ANSWER, form=UNSUBSCRIBE)
def unsubscribe(request, token):
    """The page's form sends `type`; a mail client's RFC 8058 one-click sends
    `List-Unsubscribe=One-Click` and the type is in the query of the List-Unsubscribe URL."""
    service, hint = bootstrap.get_preference_service(), _language(request)
    try:
        body = _json(request)
    except InvalidInput as error:
        return _answer(request, service.refuse(token, hint), token, f"../{token}", error)
    fields = {k: [v] for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else _form(request)
    notice_type = (fields.get("type") or [None])[0] or _query_type(request) or ""
    page = service.unsubscribe(token, notice_type, hint)
    return _answer(request, page, token, f"../{token}")
