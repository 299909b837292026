"""/accounts/{account_id}/contacts and /designated-contacts."""
from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.rules import NOT_YET_MEMBERS
from chalicelib.domain.vocabulary import LANGUAGES, MEMBERSHIP_STATUSES, NOTIFICATIONS, PERMISSIONS, ROLES
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.responses import CONTACT, DESIGNATED, MEMBERSHIP, NEW_CONTACT, page_of
from chalicelib.handlers.schema import E164, EMAIL, ID, PAGE, VERSION, Enum, ListOf, Schema, String, nullable

bp = Blueprint(__name__)

GRANTS = {
    "roles": ListOf(Enum(ROLES), max_items=len(ROLES)),
    "permissions": ListOf(Enum(PERMISSIONS), max_items=len(PERMISSIONS)),
    "notifications": ListOf(Enum(NOTIFICATIONS), max_items=len(NOTIFICATIONS)),
}
ADD = Schema({
    "email": EMAIL, "first_name": String(max_length=100, nullable=True), "last_name": String(max_length=100, nullable=True),
    "phone": nullable(E164), "language": Enum(LANGUAGES), "kind": Enum(("contact", "customer")), **GRANTS,
}, required=("email",))
UPDATE = Schema({**GRANTS, "status": Enum(("active", "inactive")), "version": VERSION}, non_empty=True)
LIST = Schema({**PAGE, "status": Enum(MEMBERSHIP_STATUSES), "role": Enum(ROLES),
               "kind": Enum(("customer", "contact", "guest"))})
DESIGNATE = Schema({"technical": nullable(ID), "administrative": nullable(ID)}, non_empty=True)

BASE = "/accounts/{account_id}"


@route(bp, BASE + "/contacts", ("POST",), people="manage", body=ADD, responses={201: NEW_CONTACT}, errors=(409, 422),
       sends_mail=True)
def add_contact(call, account_id):
    details = bootstrap.get_contact_service().add(call.tenant_id, account_id, call.body, call.actor,
                                                  call.principal.person_id)
    return json_response({**render.contact(details), "person_created": details.person_created,
                          "welcome_mail_job_id": details.welcome_mail_job_id}, 201)


@route(bp, BASE + "/contacts", people="member", query=LIST, responses={200: page_of(MEMBERSHIP)})
def list_contacts(call, account_id):
    q = call.query
    filters = {name: q[name] for name in ("status", "role", "kind") if name in q}
    page = bootstrap.get_contact_service().list(call.tenant_id, account_id, filters, q.get("limit", 50), q.get("cursor"))
    return render.page(page, render.membership)


@route(bp, BASE + "/contacts/{person_id}", people="member", responses={200: CONTACT})
def get_contact(call, account_id, person_id):
    return _contact(call, bootstrap.get_contact_service().get(call.tenant_id, account_id, person_id))


@route(bp, BASE + "/contacts/{person_id}", ("PATCH",), people="manage", body=UPDATE, if_match=True,
       responses={200: MEMBERSHIP}, errors=(422,))
def update_contact(call, account_id, person_id):
    body = call.body
    version = body.pop("version", None) or call.if_match
    service = bootstrap.get_contact_service()
    if not body:
        return render.membership(service.get(call.tenant_id, account_id, person_id).membership)
    return render.membership(service.update(call.tenant_id, account_id, person_id, body, version, call.actor))


def _contact(call, details) -> dict:
    """A person token sees an invitee's details only once they have joined (they consented)."""
    if call.principal.kind == "person" and details.membership.status in NOT_YET_MEMBERS:
        return render.contact(details, invitee_only=True)
    return render.contact(details)


@route(bp, BASE + "/contacts/{person_id}", ("DELETE",), people="manage", responses={204: None}, errors=(409,))
def remove_contact(call, account_id, person_id):
    bootstrap.get_contact_service().remove(call.tenant_id, account_id, person_id, call.actor)
    return Response(body="", status_code=204)


@route(bp, BASE + "/designated-contacts", people="member", responses={200: DESIGNATED})
def get_designated_contacts(call, account_id):
    return bootstrap.get_contact_service().designated(call.tenant_id, account_id)


@route(bp, BASE + "/designated-contacts", ("PUT",), people="manage", body=DESIGNATE, responses={200: DESIGNATED},
       errors=(409, 422))
def set_designated_contacts(call, account_id):
    return bootstrap.get_contact_service().set_designated(call.tenant_id, account_id, call.body, call.actor)
