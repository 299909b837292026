"""chalice's local API Gateway emulation (`chalice.local`), answering as the deployed API does
where chalice local does not:

- a path no route has answers 404 in the API's error format, the body of the deployed API's
  MISSING_AUTHENTICATION_TOKEN gateway response (infra/sam.py), where chalice local answers
  403 with a message that repeats the request's whole Authorization header;
- no answer to HEAD has a body (the app leaves it empty too, chalicelib/handlers/middleware.py);
- the listening socket holds a burst of connections (server_thread.LISTEN_BACKLOG, not
  socketserver's 5).
"""
from __future__ import annotations

import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.local import ChaliceRequestHandler, LocalChalice, LocalDevServer, LocalGateway, LocalGatewayException
from chalice.local import ThreadedHTTPServer

from infra.local_stack.server_thread import LISTEN_BACKLOG
from infra.sam import GATEWAY_RESPONSES, gateway_response_body

_STATUS, _CODE, _MESSAGE = GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"]


class UnknownRoute(LocalGatewayException):
    CODE = int(_STATUS)

    def __init__(self) -> None:
        super().__init__({"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()),
                          "x-amzn-ErrorType": "MissingAuthenticationTokenException"},
                         gateway_response_body(_CODE, _MESSAGE).encode())


class _Gateway(LocalGateway):
    def _generate_lambda_event(self, method: str, path: str, headers: dict, body: bytes | None) -> dict:
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice's RouteMatcher: no route matches the path
            raise UnknownRoute() from None


class GatewayRequestHandler(ChaliceRequestHandler):
    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = _Gateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def _send_http_response(self, code: int, headers: dict, body: Any) -> None:
        super()._send_http_response(code, headers, None if self.command == "HEAD" else body)


class GatewayServer(ThreadedHTTPServer):
    request_queue_size = LISTEN_BACKLOG


def create_gateway_server(app: Any, config: Any, host: str, port: int) -> GatewayServer:
    """What chalice.local.create_local_server makes (the app's `current_request` per thread),
    with this module's handler and server."""
    if not isinstance(app, LocalChalice):
        app.__class__ = type(f"Local{type(app).__name__}", (LocalChalice, type(app)), {})
    return LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler, server_cls=GatewayServer).server
