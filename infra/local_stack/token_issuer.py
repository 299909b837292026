"""A local OIDC issuer for the dev console (and tests, bench): an RSA key made at start, its
JWKS, and ID tokens shaped like Cognito's (RS256, iss, aud, exp, email, email_verified,
custom:tenant_id). Never deployed."""
from __future__ import annotations

import secrets
import time
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
        import json

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

    def environment(self, jwks_url: str) -> dict[str, str]:
        """What the app needs to trust this issuer (the same settings as in AWS)."""
        return {"ROSTER_OIDC_ISSUER": self.issuer, "ROSTER_OIDC_AUDIENCE": self.audience,
                "ROSTER_OIDC_JWKS_URL": jwks_url, "ROSTER_OIDC_TENANT_CLAIM": self.tenant_claim}
