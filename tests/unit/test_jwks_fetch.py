"""The JWKS document is JSON from outside too: a malformed or hostile one (fetched by PyJWT's
PyJWKClient) answers 503 identity_provider_unavailable, like an unreachable issuer, never a 500."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.domain.errors import Unavailable
from chalicelib.services.person_tokens import OidcConfig, PersonTokens
from infra.local_stack.token_issuer import TokenIssuer


@pytest.fixture
def serve():
    """serve(body) -> the URL of a local server answering `body` to every GET."""
    servers = []

    def start(body: bytes) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/jwks.json"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("body", [b"[" * 3000, b"{", b'{"keys": ' + b"[" * 40 + b"]" * 40 + b"}"])
def test_a_hostile_jwks_document_answers_503(serve, body):
    from jwt import PyJWKClient

    issuer = TokenIssuer(issuer="https://idp.example", audience="roster")
    config = OidcConfig("https://idp.example", "roster")
    tokens = PersonTokens(config, PyJWKClient(serve(body)), people=None)
    with pytest.raises(Unavailable):
        tokens.verify(issuer.issue("ten_aaaaaaaaaaaaaaaa", "anna@x.example"))
