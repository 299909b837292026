"""Notices (N1–N5): the tenant's routes under /notices, a person's /me/notices, and the schedule
that moves maintenance notices (reminders, start, end) and sweeps the delivery pipeline."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import LANGUAGES, NOTICE_STATUSES, NOTICE_TYPES, SEVERITIES
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.responses import COVERAGE, DELIVERY, MY_NOTICE, NOTICE, PUBLICATION, page_of
from chalicelib.handlers.schema import (
    ID, PAGE, VERSION, Boolean, Enum, Integer, ListOf, Moment, Object, Schema, String,
)

bp = Blueprint(__name__)

MAX_ACCOUNTS = 1000


def _texts(max_length: int, multiline: bool) -> Object:
    return Object({language: String(max_length=max_length, multiline=multiline) for language in LANGUAGES})


TITLE, BODY = _texts(200, multiline=False), _texts(10_000, multiline=True)
AFFECTED = Object({"all": Boolean(), "account_ids": ListOf(ID, max_items=MAX_ACCOUNTS)},
                  exactly_one='must be {"all": true} or {"account_ids": [...]} with at least one id')
REMINDERS = ListOf(Integer(minimum=1, maximum=30 * 1440), max_items=10)
FIELDS = {"type": Enum(NOTICE_TYPES), "severity": Enum(SEVERITIES), "title": TITLE, "body": BODY,
          "affected": AFFECTED, "starts_at": Moment(), "ends_at": Moment(), "reminders": REMINDERS}
CREATE = Schema(FIELDS, required=("type", "title", "body", "affected"))
EDIT = Schema({**FIELDS, "version": VERSION}, non_empty=True)
UPDATE = Schema({"body": BODY, "status": Enum(("resolved", "in_progress", "completed", "cancelled"))},
                required=("body",))
CLOSE = Schema({"body": BODY})
LIST = Schema({**PAGE, "type": Enum(NOTICE_TYPES), "status": Enum(NOTICE_STATUSES), "from": Moment(), "to": Moment()})
PUBLISH = Schema({"dry_run": Boolean(from_text=True)})
DELIVERIES = Schema({**PAGE, "event": String(max_length=60, pattern=r"[a-z0-9-]+"),
                     "status": Enum(("queued", "sent", "suppressed", "bounced", "complained", "failed"))})
PAGE_ONLY = Schema(PAGE)


def _actor(call) -> str:
    return call.principal.actor


@route(bp, "/notices", ("POST",), body=CREATE, responses={201: NOTICE}, errors=(422,))
def create_notice(call):
    body = call.body
    notice = bootstrap.get_notice_service().create(call.tenant_id, body, _actor(call))
    return json_response(render.notice(notice), 201)


@route(bp, "/notices", query=LIST, responses={200: page_of(NOTICE)})
def list_notices(call):
    q = call.query
    page = bootstrap.get_notice_service().list(tenant_id=call.tenant_id, notice_type=q.get("type"),
                                               status=q.get("status"), since=q.get("from"), until=q.get("to"),
                                               limit=q.get("limit", 50), cursor=q.get("cursor"))
    return {"items": [render.notice(n) for n in page.items], "next_cursor": page.next_cursor}


@route(bp, "/notices/{notice_id}", responses={200: NOTICE})
def get_notice(call, notice_id):
    return render.notice_view(bootstrap.get_notice_service().view(call.tenant_id, notice_id))


@route(bp, "/notices/{notice_id}", ("PATCH",), body=EDIT, if_match=True, responses={200: NOTICE}, errors=(422,), sends_mail=True)
def edit_notice(call, notice_id):
    body = call.body
    version = body.pop("version", None) or call.if_match
    view = bootstrap.get_notice_service().update(call.tenant_id, notice_id, body, version, _actor(call))
    return render.notice_view(view)


@route(bp, "/notices/{notice_id}", ("DELETE",), if_match=True, responses={204: None})
def delete_notice(call, notice_id):
    bootstrap.get_notice_service().delete(call.tenant_id, notice_id, call.if_match)
    return Response(body="", status_code=204)


@route(bp, "/notices/{notice_id}/publish", ("POST",), query=PUBLISH, if_match=True,
       responses={200: PUBLICATION, 202: PUBLICATION}, errors=(422,), sends_mail=True)
def publish_notice(call, notice_id):
    dry_run = call.query.get("dry_run", False)
    publication = bootstrap.get_notice_service().publish(call.tenant_id, notice_id, dry_run, call.if_match,
                                                         _actor(call))
    answer = {"dry_run": dry_run, "notice": render.notice_view(publication.view),
              "coverage": render.coverage(publication.report) if publication.report else None,
              "coverage_status": "computed" if publication.report else "pending"}
    return json_response(answer, 200 if dry_run else 202)


@route(bp, "/notices/{notice_id}/updates", ("POST",), body=UPDATE, responses={202: NOTICE}, errors=(409, 422), sends_mail=True)
def add_update(call, notice_id):
    body = call.body
    view = bootstrap.get_notice_service().add_update(call.tenant_id, notice_id, body["body"], body.get("status"),
                                                     _actor(call))
    return json_response(render.notice_view(view), 202)


@route(bp, "/notices/{notice_id}/resolve", ("POST",), body=CLOSE, responses={202: NOTICE}, errors=(409, 422), sends_mail=True)
def resolve_notice(call, notice_id):
    body = call.body
    view = bootstrap.get_notice_service().resolve(call.tenant_id, notice_id, body.get("body"), _actor(call))
    return json_response(render.notice_view(view), 202)


@route(bp, "/notices/{notice_id}/cancel", ("POST",), body=CLOSE, responses={202: NOTICE}, errors=(409, 422), sends_mail=True)
def cancel_notice(call, notice_id):
    body = call.body
    view = bootstrap.get_notice_service().cancel(call.tenant_id, notice_id, body.get("body"), _actor(call))
    return json_response(render.notice_view(view), 202)


@route(bp, "/notices/{notice_id}/coverage", query=PAGE_ONLY, responses={200: COVERAGE})
def notice_coverage(call, notice_id):
    q = call.query
    report = bootstrap.get_notice_service().coverage(call.tenant_id, notice_id, q.get("limit", 100), q.get("cursor"))
    return render.coverage(report)


@route(bp, "/notices/{notice_id}/deliveries", query=DELIVERIES, responses={200: page_of(DELIVERY)})
def notice_deliveries(call, notice_id):
    q = call.query
    rows, next_cursor = bootstrap.get_notice_service().deliveries(
        call.tenant_id, notice_id, q.get("event"), q.get("status"), q.get("limit", 100), q.get("cursor"))
    return {"items": rows, "next_cursor": next_cursor}


@route(bp, "/me/notices", auth="person", query=PAGE_ONLY, responses={200: page_of(MY_NOTICE)})
def my_notices(call):
    q = call.query
    principal = call.principal
    page = bootstrap.get_notice_service().for_person(principal.tenant_id, principal.person_id, q.get("limit", 20),
                                                     q.get("cursor"))
    return {"items": [_for_person(n, accounts) for n, accounts in page.items], "next_cursor": page.next_cursor}


def _for_person(n, account_ids: list[str]) -> dict:
    """What a member sees: the notice and which of their accounts it concerns; never the other
    accounts it names, nor the provider's audience and delivery figures."""
    return {"notice_id": n.notice_id, "type": n.type, "severity": n.severity, "status": n.status,
            "title": n.title, "body": n.body, "starts_at": n.starts_at, "ends_at": n.ends_at,
            "published_at": n.published_at, "updated_at": n.updated_at,
            "account_ids": account_ids}


@bp.schedule("rate(1 minute)", name="notice_schedule")
def notice_schedule(event):
    """Every minute: maintenance steps that are due, then the delivery sweep (lost hand-offs)."""
    moved = bootstrap.get_notice_service().run_schedule()
    swept = bootstrap.get_notice_delivery().sweep()
    bootstrap.get_logger().info("notice schedule", extra={"moved": moved, "swept": swept})
    return {"moved": moved, "swept": swept}

