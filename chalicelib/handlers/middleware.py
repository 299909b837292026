"""HTTP middleware: correlation id, one log line and metric per request, and one error format.

Chalice answers some requests itself (415 for a foreign Content-Type, 405, an unhandled
exception) with `{"Code", "Message"}`; they are rewritten into the API's error format here.
Every answer to HEAD leaves with an empty body, whatever the route or chalice put in it: a
keep-alive client reads no body after a HEAD answer and would take one for the next answer.
"""
from __future__ import annotations

import json
import time
import uuid

from chalice import Response

from chalicelib import bootstrap
from chalicelib.domain.errors import Problem
from chalicelib.handlers.http import JSON_HEADERS, error_body

_CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequestError": "invalid_request",
    "BadRequest": "invalid_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal_error",
}
# the field each of chalice's own answers is about, as our own errors name it
_CHALICE_DETAILS = {
    "UnsupportedMediaType": [Problem("Content-Type", "unsupported")],
}


def _normalise(response: Response) -> Response:
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(body["Code"], "error")
        response.body = json.dumps(error_body(code, body["Message"], _CHALICE_DETAILS.get(body["Code"])))
        response.headers = {**response.headers, **JSON_HEADERS}
    return response


def _bodiless_for_head(method: str, response: Response) -> Response:
    if method == "HEAD":
        response.body = ""
    return response


def observe_and_normalise(event, get_response):
    logger, metrics = bootstrap.get_logger(), bootstrap.get_metrics()
    bootstrap.get_tracer()  # None unless ROSTER_TRACING is on; when on, it patches botocore once
    # chalice's local server sends no request id; one is made up so local logs correlate too
    request_id = (event.context or {}).get("requestId") or str(uuid.uuid4())
    logger.set_correlation_id(request_id)
    started = time.perf_counter()
    response = _bodiless_for_head(event.method, _normalise(get_response(event)))
    status = response.status_code
    logger.info("request", extra={
        "method": event.method, "route": (event.context or {}).get("resourcePath"),
        "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    })
    metrics.add_metric(name=f"Http{status // 100}xx", unit="Count", value=1)
    metrics.flush_metrics()
    return response
