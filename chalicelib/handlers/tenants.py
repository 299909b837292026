"""POST /tenants (platform key); GET and PATCH /tenant (the calling tenant's key)."""
from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import IDENTITY_KINDS, LANGUAGES
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.responses import NEW_TENANT, SENDER_STATUS, TENANT
from chalicelib.handlers.schema import EMAIL, VERSION, Boolean, Enum, Object, Schema, String, nullable

bp = Blueprint(__name__)

# Multi-line: the description and the mail footer; every other text is one line (docs/api.md).
DESCRIPTION = String(max_length=2000, nullable=True, multiline=True)
CREATE = Schema({"name": String(), "description": DESCRIPTION,
                 "default_language": Enum(LANGUAGES)}, required=("name",))
URL = String(max_length=500, pattern=r"https?://[^\s]+", problem="must be an http(s) URL")
COLOR = String(max_length=7, pattern=r"#[0-9a-fA-F]{6}", problem="must be a colour like #1f4e79")
SETTINGS = {
    "branding": Object({"brand_name": nullable(String(max_length=100)), "logo_url": nullable(URL),
                        "brand_color": nullable(COLOR), "letterhead": nullable(String(max_length=500)),
                        "footer": nullable(String(max_length=1000, multiline=True))}, nullable=True),
    "sender": Object({"address": EMAIL, "reply_to": nullable(EMAIL)}, required=("address",), nullable=True),
    "welcome_mail": Object({"enabled": Boolean(), "portal_url": URL}, required=("enabled",), nullable=True),
    "staff_email": nullable(EMAIL),
}
VERIFY = Schema({"identity": Enum(IDENTITY_KINDS)})
UPDATE = Schema({"name": String(), "description": DESCRIPTION,
                 "default_language": Enum(LANGUAGES), "version": VERSION, **SETTINGS}, non_empty=True)


@route(bp, "/tenants", ("POST",), auth="platform", body=CREATE, responses={201: NEW_TENANT})
def create_tenant(call):
    body = call.body
    tenant, secret = bootstrap.get_tenant_service().create(
        body["name"], body.get("description"), body.get("default_language", "en"))
    return json_response(render.new_tenant(tenant, secret), 201)


@route(bp, "/tenant", responses={200: TENANT})
def get_tenant(call):
    return render.tenant(bootstrap.get_tenant_service().get(call.tenant_id))


@route(bp, "/tenant", ("PATCH",), body=UPDATE, if_match=True, responses={200: TENANT})
def update_tenant(call):
    body = call.body
    version = body.pop("version", None) or call.if_match
    if not body:
        return render.tenant(bootstrap.get_tenant_service().get(call.tenant_id))
    return render.tenant(bootstrap.get_tenant_service().update(call.tenant_id, body, version))


@route(bp, "/tenant/sender", responses={200: SENDER_STATUS})
def get_sender(call):
    """The sender address and the SES status of the identity the tenant claimed for it."""
    return bootstrap.get_tenant_service().sender_status(call.tenant_id)


@route(bp, "/tenant/sender/verify", ("POST",), body=VERIFY, responses={202: SENDER_STATUS}, errors=(409, 422))
def verify_sender(call):
    """Claims the sender address (SES mails it a link) or its domain (DKIM records to publish)
    for the tenant and asks SES to verify it."""
    from chalicelib.domain.senders import ADDRESS  # with the service that uses it, not at cold start

    kind = call.body.get("identity", ADDRESS)
    return json_response(bootstrap.get_tenant_service().verify_sender(call.tenant_id, kind), 202)
