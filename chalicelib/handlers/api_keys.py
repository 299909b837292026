"""POST/GET /api-keys, DELETE /api-keys/{key_id}."""
from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.handlers import render
from chalicelib.handlers.http import json_response, route
from chalicelib.handlers.responses import API_KEY, NEW_API_KEY, page_of
from chalicelib.handlers.schema import PAGE, Schema, String

bp = Blueprint(__name__)

CREATE = Schema({"name": String(max_length=100, nullable=True)})
LIST = Schema(PAGE)


@route(bp, "/api-keys", ("POST",), body=CREATE, responses={201: NEW_API_KEY})
def create_api_key(call):
    body = call.body
    key, secret = bootstrap.get_api_key_service().create(call.tenant_id, body.get("name"), call.principal.actor)
    return json_response(render.new_api_key(key, secret), 201)


@route(bp, "/api-keys", query=LIST, responses={200: page_of(API_KEY)})
def list_api_keys(call):
    query = call.query
    page = bootstrap.get_api_key_service().list(call.tenant_id, query.get("limit", 50), query.get("cursor"))
    return render.page(page, render.api_key)


@route(bp, "/api-keys/{key_id}", ("DELETE",), responses={204: None})
def revoke_api_key(call, key_id):
    bootstrap.get_api_key_service().revoke(call.tenant_id, key_id)
    return Response(body="", status_code=204)
