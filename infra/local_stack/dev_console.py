"""The dev console (never deployed): health, the SES outbox, DLQ contents, schedule triggers.

GET /health · GET /outbox · DELETE /outbox · GET /dlq · GET /schedules ·
POST /schedules/{function_name}/fire · POST /token · GET /.well-known/jwks.json

`POST /token {"tenant_id", "email", "claims"?}` → `{"token": "<ID token>"}`: a person's sign-in token,
signed with the stack's local RSA key (made at start); the app verifies it against the JWKS served
here, fetched over HTTP — the same code path as with Cognito in AWS. `claims` add to the token's
claims or override them (`email` too); bad input answers 4xx `{"error", "field"}`.
"""
from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from infra.local_stack.dead_letters import dead_letter_messages
from infra.local_stack.outbox import clear_outbox, read_outbox
from infra.local_stack.scheduler import Scheduler, UnknownSchedule
from infra.local_stack.server_thread import LISTEN_BACKLOG

log = logging.getLogger("roster.local_stack.console")

_FIRE = re.compile(r"/schedules/([^/]+)/fire")
_MAX_BODY = 65536


class _ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    scheduler: Scheduler | None = None
    token_issuer: Any = None  # infra.local_stack.token_issuer.TokenIssuer


class _ConsoleHandler(BaseHTTPRequestHandler):
    server: _ConsoleServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        routes: dict[str, Callable[[], Any]] = {
            "/health": lambda: {"status": "ok"},
            "/outbox": read_outbox,
            "/dlq": dead_letter_messages,
            "/schedules": lambda: self.server.scheduler.jobs() if self.server.scheduler else [],
        }
        if self.server.token_issuer is not None:
            routes["/.well-known/jwks.json"] = self.server.token_issuer.jwks
        view = routes.get(self._path())
        if view is None:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: GET {self._path()}"})
            return
        try:
            body = view()
        except Exception as error:  # the console must answer even when a mail does not render
            log.exception("console GET %s failed", self._path())
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": repr(error)})
            return
        self._send(HTTPStatus.OK, body)

    def do_DELETE(self) -> None:
        if self._path() != "/outbox":
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: DELETE {self._path()}"})
            return
        clear_outbox()
        self._send(HTTPStatus.OK, {"cleared": True})

    def do_POST(self) -> None:
        if self._path() == "/token" and self.server.token_issuer is not None:
            self._issue_token()
            return
        if self._read_body(_MAX_BODY) is None:
            return
        match = _FIRE.fullmatch(self._path())
        if match is None or self.server.scheduler is None:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: POST {self._path()}"})
            return
        try:
            fired = self.server.scheduler.fire(match.group(1))
        except UnknownSchedule:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no @app.schedule handler named {match.group(1)!r}"})
            return
        status = HTTPStatus.OK if fired.error is None else HTTPStatus.INTERNAL_SERVER_ERROR
        self._send(status, {"function": fired.function_name, "time": fired.time.isoformat(),
                            "result": fired.result, "error": fired.error})

    def _issue_token(self) -> None:
        """Bad input answers 4xx naming the field; the connection is kept only when the whole
        body was read."""
        raw = self._read_body(_MAX_BODY)
        if raw is None:
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._refuse("body", "is not valid JSON")
        if not isinstance(body, dict):
            return self._refuse("body", "must be a JSON object")
        for name in ("tenant_id", "email"):
            if not isinstance(body.get(name), str) or not body[name]:
                return self._refuse(name, "is required: a non-empty string")
        claims = body.get("claims", {})
        if not isinstance(claims, dict):
            return self._refuse("claims", "must be a JSON object")
        try:
            token = self.server.token_issuer.issue(body["tenant_id"], body["email"], **claims)
        except (TypeError, ValueError) as error:  # PyJWT refuses a registered claim of the wrong type
            return self._refuse("claims", f"cannot be signed: {error}")
        self._send(HTTPStatus.OK, {"token": token, "token_type": "Bearer"})

    def _read_body(self, limit: int) -> bytes | None:
        """The request's body; None once a 4xx was sent for a length that is not a number (the
        connection is closed: where the body ends is unknown) or over `limit` (read and dropped)."""
        value = self.headers.get("Content-Length") or "0"
        if not value.isdigit():
            self._refuse("Content-Length", "is not a number", close=True)
            return None
        if int(value) > limit:
            self._discard(int(value))
            self._refuse("body", f"is over {limit} bytes", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        return self.rfile.read(int(value))

    def _refuse(self, field: str, problem: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST,
                close: bool = False) -> None:
        self._send(status, {"error": f"{field} {problem}", "field": field}, close)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the stdlib's signature
        log.debug("console: " + format, *args)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)

    def _send(self, status: HTTPStatus, body: Any, close: bool = False) -> None:
        payload = json.dumps(body, default=str, indent=2).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")  # and the handler closes after this answer
        self.end_headers()
        self.wfile.write(payload)


def create_console_server(host: str, port: int, scheduler: Scheduler | None,
                          token_issuer: Any = None) -> ThreadingHTTPServer:
    """The console's threaded HTTP server, bound to host:port (port 0 picks a free one)."""
    server = _ConsoleServer((host, port), _ConsoleHandler)
    server.scheduler = scheduler
    server.token_issuer = token_issuer
    return server
