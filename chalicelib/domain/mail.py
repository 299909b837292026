"""Mail jobs: what a state change asks to be sent, and where each recipient's mail stands."""
from __future__ import annotations

from dataclasses import dataclass, field

QUEUED, SENDING, SENT = "queued", "sending", "sent"
SUPPRESSED, BOUNCED, COMPLAINED, FAILED = "suppressed", "bounced", "complained", "failed"
SETTLED = frozenset({SENT, SUPPRESSED, BOUNCED, COMPLAINED, FAILED})
RECIPIENT_STATUSES = (QUEUED, SENDING, SENT, SUPPRESSED, BOUNCED, COMPLAINED, FAILED)
LINK = "link"  # a recipient's bearer link (an invitation's token): kept only until the recipient is settled


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str
    person_id: str | None = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MailJob:
    tenant_id: str
    job_id: str
    kind: str
    recipients: tuple[Recipient, ...]
    data: dict = field(default_factory=dict)
    account_id: str | None = None
    created_at: str = ""


@dataclass(frozen=True)
class RecipientState:
    key: str
    email: str
    language: str
    person_id: str | None
    data: dict
    status: str
    ses_message_id: str | None
    detail: str | None
    updated_at: str


@dataclass(frozen=True)
class JobView:
    tenant_id: str
    job_id: str
    kind: str
    account_id: str | None
    created_at: str
    data: dict
    recipients: list[RecipientState]

    @property
    def status(self) -> str:
        states = {r.status for r in self.recipients}
        if not states <= SETTLED:
            return "in_progress"
        return "sent" if states <= {SENT} else "settled"


def mask_email(email: str) -> str:
    """For logs: the first character of the local part and the domain (a***@example.com)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
