"""GET /openapi.json: the API's OpenAPI 3.1 document, generated from the routes on first request."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.http import JSON_HEADERS, route
from chalicelib.handlers.schema import AnyValue, MapOf

bp = Blueprint(__name__)
_document: str | None = None  # built once per process, on the first request: not at cold start


@route(bp, "/openapi.json", auth="public", responses={200: MapOf(AnyValue())})
def openapi_document(call):
    """This document: every route, its parameters, bodies, answers and errors."""
    global _document
    if _document is None:
        from chalicelib.handlers.openapi_document import render

        _document = render(bp.current_app)
    return Response(body=_document, status_code=200, headers=JSON_HEADERS)
