"""Invitations (G2, G3, G5, G6, G9): values and the link token. No I/O here."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.ids import ID_BODY_PATTERN, id_from_body
# in domain/vocabulary.py: the routes' schemas read it there without importing this module (cold start)
from chalicelib.domain.vocabulary import INVITATION_STATUSES  # noqa: F401

OPEN = ("pending", "invited")
OUTCOMES = ("accepted", "declined")
ID_BODY = re.compile(ID_BODY_PATTERN)
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
LINK_ID_KINDS = ("tenant", "account", "invitation", "person", "person")


@dataclass(frozen=True)
class LinkKeys:
    """The ids a link's page reads, named by the link itself so that one request reads them all."""

    tenant_id: str
    account_id: str
    invitation_id: str
    person_id: str
    inviter_person_id: str | None


def new_token(link: LinkKeys) -> str:
    """The link's ids (without their prefixes), then 256 random bits, dot-separated. The token
    item is keyed by the SHA-256 of the whole string, so a link with any id changed opens nothing."""
    ids = (link.tenant_id, link.account_id, link.invitation_id, link.person_id, link.inviter_person_id)
    return ".".join([i.split("_", 1)[1] for i in ids if i] + [secrets.token_urlsafe(32)])


def link_keys(token: str) -> LinkKeys | None:
    """The ids a well-formed token names; None for anything else."""
    *bodies, secret = (token or "").split(".")
    if len(bodies) not in (4, 5) or not SECRET_SHAPE.fullmatch(secret) or not all(map(ID_BODY.fullmatch, bodies)):
        return None
    ids = [id_from_body(kind, body) for kind, body in zip(LINK_ID_KINDS, bodies)]
    return LinkKeys(*ids, None) if len(ids) == 4 else LinkKeys(*ids)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


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
