"""/accounts: create (draft), list (status, warning), read, change, delete, complete onboarding."""
from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import ACCOUNT_STATUSES, BUSINESS_TYPES, LANGUAGES, WARNINGS
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.responses import ACCOUNT, AUDIT_ENTRY, page_of
from chalicelib.handlers.schema import COUNTRY, PAGE, VERSION, Enum, ListOf, Object, Schema, String, nullable

bp = Blueprint(__name__)

DOMAIN = String(max_length=253, pattern=r"([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}", problem="is not a domain name")
ADDRESS = Object({
    "street": String(nullable=True), "postal_code": String(max_length=20, nullable=True),
    "city": String(max_length=100, nullable=True),
    "country": nullable(COUNTRY),
}, nullable=True)
FIELDS = {
    "name": String(nullable=True), "address": ADDRESS, "business_type": Enum(BUSINESS_TYPES, nullable=True),
    "language": Enum(LANGUAGES, nullable=True), "email_domains": ListOf(DOMAIN, max_items=20),
}
CREATE = Schema(FIELDS)
UPDATE = Schema({**FIELDS, "status": Enum(("active", "inactive")), "version": VERSION}, non_empty=True)
LIST = Schema({**PAGE, "status": Enum(ACCOUNT_STATUSES), "warning": Enum(WARNINGS)})
AUDIT = Schema(PAGE)
# C6: the provider owns the account's name, business type, e-mail domains and status; the
# customer and the account's admins may keep its address and language up to date.
PEOPLE_MAY_SET = ("address", "language")


def _lower_domains(body: dict) -> dict:
    if "email_domains" in body:
        body["email_domains"] = list(dict.fromkeys(d.lower() for d in body["email_domains"]))
    return body


@route(bp, "/accounts", ("POST",), body=CREATE, responses={201: ACCOUNT})
def create_account(call):
    account = bootstrap.get_account_service().create(call.tenant_id, _lower_domains(call.body), call.actor)
    return json_response(render.account(account), 201)


@route(bp, "/accounts", query=LIST, responses={200: page_of(ACCOUNT)})
def list_accounts(call):
    q = call.query
    page = bootstrap.get_account_service().list(call.tenant_id, q.get("status"), q.get("warning"),
                                                q.get("limit", 50), q.get("cursor"))
    return render.page(page, render.account)


@route(bp, "/accounts/{account_id}", people="member", responses={200: ACCOUNT})
def get_account(call, account_id):
    return render.account(bootstrap.get_account_service().get(call.tenant_id, account_id))


@route(bp, "/accounts/{account_id}", ("PATCH",), people="manage", people_fields=PEOPLE_MAY_SET, body=UPDATE,
       if_match=True, responses={200: ACCOUNT}, errors=(422,))
def update_account(call, account_id):
    body = _lower_domains(call.body)
    version = body.pop("version", None) or call.if_match
    service = bootstrap.get_account_service()
    if not body:
        return render.account(service.get(call.tenant_id, account_id))
    return render.account(service.update(call.tenant_id, account_id, body, version, call.actor))


@route(bp, "/accounts/{account_id}", ("DELETE",), responses={204: None}, errors=(409,))
def delete_account(call, account_id):
    bootstrap.get_account_service().delete(call.tenant_id, account_id, call.actor)
    return Response(body="", status_code=204)


@route(bp, "/accounts/{account_id}/onboarding/complete", ("POST",), responses={200: ACCOUNT}, errors=(409, 422))
def complete_onboarding(call, account_id):
    return render.account(bootstrap.get_account_service().complete_onboarding(call.tenant_id, account_id, call.actor))


@route(bp, "/accounts/{account_id}/audit", people="manage", query=AUDIT, responses={200: page_of(AUDIT_ENTRY)})
def account_audit(call, account_id):
    """Who changed what in the account, newest first."""
    q = call.query
    page = bootstrap.get_audit_service().page(call.tenant_id, account_id, q.get("limit", 50), q.get("cursor"))
    return render.page(page, render.audit_entry)
