"""A local OIDC issuer for the dev console (and tests, bench): an RSA key made at start, its
JWKS, and ID tokens shaped like Cognito's (RS256, iss, aud, iat, exp, email, email_verified,
custom:tenant_id); and a JWKS server for tests and the bench. Never deployed."""
from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from dataclasses import dataclass, field
from typing import Any

LOCAL_ISSUER = "http://127.0.0.1:8001"
LOCAL_AUDIENCE = "roster-local"
TOKEN_LIFETIME_SECONDS = 3600


def _new_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class TokenIssuer:
    issuer: str = LOCAL_ISSUER
    audience: str = LOCAL_AUDIENCE
    tenant_claim: str = "custom:tenant_id"
    kid: str = field(default_factory=lambda: "local-" + secrets.token_hex(4))
    private_key: Any = field(default_factory=_new_key)

    def jwks(self) -> dict:
        from jwt.algorithms import RSAAlgorithm

        jwk = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def issue(self, tenant_id: str | None, email: str | None, lifetime: int = TOKEN_LIFETIME_SECONDS, /,
              **claims: Any) -> str:
        """`claims` add to the token's or override them, any name included (`email` too: the
        parameters are positional only). A claim PyJWT refuses raises TypeError or ValueError."""
        import jwt

        now = int(time.time())
        payload = {"iss": self.issuer, "aud": self.audience, "sub": secrets.token_hex(8), "iat": now,
                   "exp": now + lifetime, "token_use": "id", "email_verified": True}
        if email is not None:
            payload["email"] = email
        if tenant_id is not None:
            payload[self.tenant_claim] = tenant_id
        payload.update(claims)
        return jwt.encode(payload, self.private_key, algorithm="RS256", headers={"kid": self.kid})

    def sign(self, header: bytes, payload: bytes) -> str:
        """A compact JWS of these exact JSON bytes, signed RS256 with this issuer's key: for tests
        of tokens that `issue` (PyJWT's encode) would not make."""
        import base64

        from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
        from cryptography.hazmat.primitives.hashes import SHA256

        def segment(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        signing_input = f"{segment(header)}.{segment(payload)}"
        return f"{signing_input}.{segment(self.private_key.sign(signing_input.encode(), PKCS1v15(), SHA256()))}"

    def environment(self, jwks_url: str) -> dict[str, str]:
        """What the app needs to trust this issuer (the same settings as in AWS)."""
        return {"ROSTER_OIDC_ISSUER": self.issuer, "ROSTER_OIDC_AUDIENCE": self.audience,
                "ROSTER_OIDC_JWKS_URL": jwks_url, "ROSTER_OIDC_TENANT_CLAIM": self.tenant_claim}


class JwksServer:
    """The issuers' JWKS over HTTP on 127.0.0.1, at a port of its own, as an identity provider
    serves it: the app fetches it exactly as it fetches Cognito's in AWS. `fetched` lists the
    requests; `body` (bytes) replaces the answer, to play a broken provider; after `close()` the
    port refuses connections, like an unreachable one."""

    def __init__(self, *issuers: TokenIssuer):
        self.issuers = list(issuers)
        self.body: bytes | None = None
        self.fetched: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/.well-known/jwks.json"

    def __enter__(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.fetched.append(self.path)
                body = owner.body if owner.body is not None else json.dumps(
                    {"keys": [key for issuer in owner.issuers for key in issuer.jwks()["keys"]]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name="jwks-server").start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
