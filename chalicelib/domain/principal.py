"""Who is calling: the verified credential, never a value from the request body or path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["anonymous", "platform", "api_key", "person"]


@dataclass(frozen=True)
class Principal:
    """A verified caller: its kind, its tenant, and the key or person it is."""

    kind: PrincipalKind
    tenant_id: str | None = None
    key_id: str | None = None
    person_id: str | None = None  # kind "person": the person the token's verified e-mail maps to

    @property
    def actor(self) -> str:
        return self.key_id or self.person_id or self.kind

    @property
    def actor_ref(self) -> dict:
        """Who acted, as the audit trail records it: {type: api_key|person|platform, id}."""
        return {"type": self.kind, "id": self.actor}


ANONYMOUS = Principal("anonymous")
