"""/people: lookup by e-mail, list, read, change, erase, and the access list (G7)."""
from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import LANGUAGES
from chalicelib.handlers import render
from chalicelib.handlers.http import route
from chalicelib.handlers.responses import ACCESS, PERSON, page_of
from chalicelib.handlers.schema import E164, EMAIL, PAGE, VERSION, Enum, Schema, String, nullable

bp = Blueprint(__name__)

LIST = Schema({**PAGE, "email": EMAIL})
UPDATE = Schema({"email": EMAIL, "first_name": String(max_length=100, nullable=True),
                 "last_name": String(max_length=100, nullable=True), "phone": nullable(E164),
                 "language": nullable(Enum(LANGUAGES)), "version": VERSION}, non_empty=True)
ACCESS_PAGE = Schema(PAGE)


@route(bp, "/people", query=LIST, responses={200: page_of(PERSON)})
def list_people(call):
    q = call.query
    service = bootstrap.get_people_service()
    if "email" in q:
        from chalicelib.domain.entities import Page  # loaded with the service, not at cold start

        person = service.find_by_email(call.tenant_id, q["email"])
        return render.page(Page([person] if person else [], None), render.person)
    return render.page(service.list(call.tenant_id, q.get("limit", 50), q.get("cursor")), render.person)


@route(bp, "/people/{person_id}", responses={200: PERSON})
def get_person(call, person_id):
    return render.person(bootstrap.get_people_service().get(call.tenant_id, person_id))


@route(bp, "/people/{person_id}", ("PATCH",), body=UPDATE, if_match=True, responses={200: PERSON})
def update_person(call, person_id):
    body = call.body
    version = body.pop("version", None) or call.if_match
    service = bootstrap.get_people_service()
    if not body:
        return render.person(service.get(call.tenant_id, person_id))
    return render.person(service.update(call.tenant_id, person_id, body, version))


@route(bp, "/people/{person_id}", ("DELETE",), responses={204: None}, errors=(409,))
def erase_person(call, person_id):
    bootstrap.get_people_service().erase(call.tenant_id, person_id)
    return Response(body="", status_code=204)


@route(bp, "/people/{person_id}/access", query=ACCESS_PAGE, responses={200: page_of(ACCESS)})
def person_access(call, person_id):
    q = call.query
    page = bootstrap.get_people_service().access(call.tenant_id, person_id, q.get("limit", 50), q.get("cursor"))
    return render.page(page, render.access)
