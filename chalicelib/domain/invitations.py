"""Invitations (G2, G3, G5, G6, G9): values and the link token. No I/O here."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

# in domain/vocabulary.py: the routes' schemas read it there without importing this module (cold start)
from chalicelib.domain.vocabulary import INVITATION_STATUSES  # noqa: F401

OPEN = ("pending", "invited")
OUTCOMES = ("accepted", "declined")
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: str) -> bool:
    return bool(TOKEN_SHAPE.fullmatch(token or ""))


@dataclass(frozen=True)
class Invitation:
    tenant_id: str
    invitation_id: str
    account_id: str
    person_id: str
    email: str
    kind: str
    roles: list[str]
    permissions: list[str]
    notifications: list[str]
    language: str | None
    status: str
    expires_in_days: int
    expires_at: str
    invited_by: str
    inviter_person_id: str | None
    mail_job_id: str | None
    created_at: str
    updated_at: str
    responded_at: str | None
    version: int
    token_hash: str

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def sent_at(self) -> datetime:
        """When its current link was issued: the expiry is set that many days after it."""
        return datetime.fromisoformat(self.expires_at.replace("Z", "+00:00")) - timedelta(days=self.expires_in_days)


@dataclass(frozen=True)
class PageContext:
    """What an invitation page shows: who invites, to which account, what is offered."""

    language: str
    brand_name: str
    inviter_name: str
    account_name: str
    account_id: str
    permissions: list[str]
    roles: list[str]
    expires_at: str


@dataclass(frozen=True)
class Answer:
    """The state a link is in, for its page: open, accepted, declined, expired, not_found, conflict,
    not_registered (a guest who is no active member of another account, G3)."""

    state: str
    context: PageContext | None = None
    invitation_id: str | None = None
