"""Who is calling: the verified credential, never a value from the request body or path."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["anonymous", "platform", "api_key"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    tenant_id: str | None = None
    key_id: str | None = None

    @property
    def actor(self) -> str:
        return self.key_id or self.kind


ANONYMOUS = Principal("anonymous")
