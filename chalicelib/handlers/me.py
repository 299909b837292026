"""/me: the signed-in person (an OIDC ID token), their accounts, their own details and choices."""
from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import LANGUAGES, NOTIFICATIONS
from chalicelib.handlers import render
from chalicelib.handlers.http import route
from chalicelib.handlers.responses import ME, MEMBERSHIP, PERSON
from chalicelib.handlers.schema import E164, VERSION, Enum, ListOf, Schema, String, nullable

bp = Blueprint(__name__)

# Everyone edits their own name, phone and language; the e-mail is the sign-in identity (the provider's).
UPDATE = Schema({"first_name": String(max_length=100, nullable=True), "last_name": String(max_length=100, nullable=True),
                 "phone": nullable(E164), "language": nullable(Enum(LANGUAGES)), "version": VERSION}, non_empty=True)
CHOICES = Schema({"notifications": ListOf(Enum(NOTIFICATIONS), max_items=len(NOTIFICATIONS)), "version": VERSION},
                 required=("notifications",))


@route(bp, "/me", auth="person", responses={200: ME})
def get_me(call):
    principal = call.principal
    return render.me(bootstrap.get_portal_service().me(principal.tenant_id, principal.person_id))


@route(bp, "/me", ("PATCH",), auth="person", body=UPDATE, if_match=True, responses={200: PERSON})
def update_me(call):
    body = call.body
    version = body.pop("version", None) or call.if_match
    service, principal = bootstrap.get_portal_service(), call.principal
    if not body:
        return render.person(bootstrap.get_people_service().get(principal.tenant_id, principal.person_id))
    return render.person(service.update_me(principal.tenant_id, principal.person_id, body, version))


@route(bp, "/me/memberships/{account_id}", ("PATCH",), auth="person", people="member", body=CHOICES, if_match=True,
       responses={200: MEMBERSHIP})
def update_my_membership(call, account_id):
    body = call.body
    version = body.pop("version", None) or call.if_match
    principal = call.principal
    return render.membership(bootstrap.get_portal_service().update_my_membership(
        principal.tenant_id, account_id, principal.person_id, body, version, actor=call.actor, current=call.membership))
