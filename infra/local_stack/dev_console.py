"""The dev console (never deployed): health, the SES outbox, DLQ contents, schedule triggers.

GET /health · GET /outbox · DELETE /outbox · GET /dlq · GET /schedules ·
POST /schedules/{function_name}/fire · POST /token · GET /.well-known/jwks.json

`POST /token {"tenant_id", "email"}` → `{"token": "<ID token>"}`: a person's sign-in token, signed
with the stack's local RSA key (made at start); the app verifies it against the JWKS served here,
fetched over HTTP — the same code path as with Cognito in AWS.
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

log = logging.getLogger("roster.local_stack.console")

_FIRE = re.compile(r"/schedules/([^/]+)/fire")


class _ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True
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
        self._discard_body()
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
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}") if length <= 65536 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not all(isinstance(body.get(k), str) and body.get(k) for k in ("tenant_id", "email")):
            self._send(HTTPStatus.BAD_REQUEST, {"error": 'send {"tenant_id": "ten_…", "email": "…"}'})
            return
        extra = body.get("claims") if isinstance(body.get("claims"), dict) else {}
        token = self.server.token_issuer.issue(body["tenant_id"], body["email"], **extra)
        self._send(HTTPStatus.OK, {"token": token, "token_type": "Bearer"})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the stdlib's signature
        log.debug("console: " + format, *args)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _send(self, status: HTTPStatus, body: Any) -> None:
        payload = json.dumps(body, default=str, indent=2).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def create_console_server(host: str, port: int, scheduler: Scheduler | None,
                          token_issuer: Any = None) -> ThreadingHTTPServer:
    """The console's threaded HTTP server, bound to host:port (port 0 picks a free one)."""
    server = _ConsoleServer((host, port), _ConsoleHandler)
    server.scheduler = scheduler
    server.token_issuer = token_issuer
    return server
