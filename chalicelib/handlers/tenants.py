"""POST /tenants (platform key); GET and PATCH /tenant (the calling tenant's key)."""
from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain.vocabulary import LANGUAGES
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.schema import VERSION, Enum, Schema, String

bp = Blueprint(__name__)

CREATE = Schema({"name": String(), "description": String(max_length=2000, nullable=True),
                 "default_language": Enum(LANGUAGES)}, required=("name",))
UPDATE = Schema({"name": String(), "description": String(max_length=2000, nullable=True),
                 "default_language": Enum(LANGUAGES), "version": VERSION}, non_empty=True)


@route(bp, "/tenants", ("POST",), auth="platform")
def create_tenant(call):
    body = call.body(CREATE)
    tenant, secret = bootstrap.get_tenant_service().create(
        body["name"], body.get("description"), body.get("default_language", "en"))
    return json_response({"tenant": render.tenant(tenant), "api_key": secret}, 201)


@route(bp, "/tenant")
def get_tenant(call):
    return render.tenant(bootstrap.get_tenant_service().get(call.tenant_id))


@route(bp, "/tenant", ("PATCH",))
def update_tenant(call):
    body = call.body(UPDATE)
    version = body.pop("version", None) or call.if_match()
    if not body:
        return render.tenant(bootstrap.get_tenant_service().get(call.tenant_id))
    return render.tenant(bootstrap.get_tenant_service().update(call.tenant_id, body, version))
