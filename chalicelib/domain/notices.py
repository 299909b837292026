"""Notices (N1–N5): outage, maintenance, security and general notices to the people of affected
accounts. Values, the status machine, the audience rule and the maintenance plan. No I/O here."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

# The vocabularies live in domain/vocabulary.py: the routes' schemas read them there without
# importing this module, whose classes would cost the API's cold start on every route.
from chalicelib.domain.vocabulary import EVENT_KINDS, NOTICE_STATUSES, NOTICE_TYPES, SEVERITIES  # noqa: F401

DEFAULT_REMINDERS = (1440, 60)

DRAFT, OPEN, RESOLVED, SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED = NOTICE_STATUSES
LIVE = (OPEN, SCHEDULED, IN_PROGRESS)  # published and not finished: updates are possible

# What an event announces (the mail's headline, EVENT_KINDS); each is one mail per person.
PUBLISHED, UPDATE, REMINDER, STARTED = "published", "update", "reminder", "started"
RESCHEDULED = "rescheduled"

# N3: designated contacts receive these types whatever their own selections.
DESIGNATED = {
    "technical": ("outage", "maintenance", "security"),
    "administrative": ("maintenance", "general"),
}

# Statuses an update may move a notice to (`POST /notices/{id}/updates {status}`), per status.
UPDATE_MOVES = {
    OPEN: (RESOLVED,),
    SCHEDULED: (IN_PROGRESS, CANCELLED),
    IN_PROGRESS: (COMPLETED, CANCELLED),
}


def published_status(notice_type: str) -> str:
    return SCHEDULED if notice_type == "maintenance" else OPEN


def designated_roles(notice_type: str) -> tuple[str, ...]:
    """Which designated contacts (technical, administrative) a notice of this type reaches."""
    return tuple(role for role, types in DESIGNATED.items() if notice_type in types)


@dataclass(frozen=True)
class Notice:
    tenant_id: str
    notice_id: str
    type: str
    severity: str
    status: str
    title: dict
    body: dict
    affected: dict
    starts_at: str | None
    ends_at: str | None
    reminders: list[int]
    steps: dict
    created_at: str
    updated_at: str
    published_at: str | None
    created_by: str | None
    version: int
    event_count: int = 0
    update_count: int = 0
    coverage: dict | None = None
    # the language its texts must exist in: the tenant's default at its creation (None: created before it was kept)
    language: str | None = None

    @property
    def is_maintenance(self) -> bool:
        return self.type == "maintenance"


@dataclass(frozen=True)
class NoticeEvent:
    """One mailed moment of a notice, with a snapshot of what it says and its delivery figures."""

    tenant_id: str
    notice_id: str
    event_key: str
    kind: str
    notice_type: str
    severity: str
    notice_status: str
    title: dict
    body: dict
    affected: dict
    starts_at: str | None
    ends_at: str | None
    created_at: str
    detail: dict = field(default_factory=dict)
    language: str | None = None  # the notice's language, when it has one
    seq: int = 0
    fanout: str = "planning"
    fanout_detail: str | None = None
    recipients: int = 0
    batches: int = 0
    affected_accounts: int = 0
    unreached_accounts: int = 0
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    bounced: int = 0
    complained: int = 0

    @property
    def settled(self) -> int:
        return self.sent + self.failed + self.suppressed + self.bounced + self.complained

    @property
    def queued(self) -> int:
        return max(self.recipients - self.settled, 0)


FIGURES = ("recipients", "queued", "sent", "failed", "suppressed", "bounced", "complained")


def figures(events: list[NoticeEvent]) -> dict:
    """A notice's delivery figures: the sum over its events."""
    return {name: sum(getattr(e, name) for e in events) for name in FIGURES}


# --- the maintenance plan ------------------------------------------------------------------
# `steps` maps a step key to {"at": iso moment, "state": planned | done | skipped}. Reminder keys
# carry the start they belong to, so a reschedule plans new reminders instead of reusing sent ones.
PLANNED, DONE, SKIPPED = "planned", "done", "skipped"


def reminder_key(minutes: int, starts_at: str) -> str:
    return f"reminder-{minutes}-{compact(starts_at)}"


def compact(moment: str) -> str:
    return "".join(ch for ch in moment if ch.isdigit())[:12]  # YYYYMMDDhhmm


def plan(starts_at: str, ends_at: str, reminders: list[int], now: str, to_iso) -> dict:
    """The steps of a scheduled maintenance. A reminder whose moment is already past when the
    plan is made is skipped: the announcement (or the reschedule mail) sent now says it all."""
    start = parse(starts_at)
    steps = {}
    for minutes in sorted(set(reminders), reverse=True):
        at = to_iso(start - timedelta(minutes=minutes))
        steps[reminder_key(minutes, starts_at)] = {"at": at, "state": PLANNED if at > now else SKIPPED,
                                                   "minutes": minutes}
    steps[STARTED] = {"at": starts_at, "state": PLANNED}
    steps[COMPLETED] = {"at": ends_at, "state": PLANNED}
    return steps


@dataclass(frozen=True)
class Tick:
    """What one run of the schedule does to a maintenance: the step to mail (if any), the steps
    it marks skipped, and the status the notice ends in."""

    send: str | None
    skip: tuple[str, ...]
    status: str


def tick(status: str, steps: dict, now: str) -> Tick:
    """Catch-up rule: of the steps that are due, only the latest is mailed; the earlier ones are
    skipped (a trigger that was down for a while sends one mail, not a burst). A reminder whose
    moment has passed by more than its own offset (that is: the maintenance has started) is
    skipped, never sent late."""
    due = sorted(((key, s) for key, s in steps.items() if s["state"] == PLANNED and s["at"] <= now),
                 key=lambda kv: (kv[1]["at"], _order(kv[0])))
    if not due:
        return Tick(None, (), status)
    latest_key, _ = due[-1]
    skip = tuple(key for key, _ in due[:-1])
    if latest_key.startswith(REMINDER):
        starts = steps[STARTED]["at"]
        if now >= starts:  # the moment has passed by more than the offset
            return Tick(None, skip + (latest_key,), status)
        return Tick(latest_key, skip, status)
    return Tick(latest_key, skip, IN_PROGRESS if latest_key == STARTED else COMPLETED)


def _order(key: str) -> int:
    return {STARTED: 1, COMPLETED: 2}.get(key, 0)


def next_due(steps: dict) -> str | None:
    planned = [s["at"] for s in steps.values() if s["state"] == PLANNED]
    return min(planned) if planned else None


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


@dataclass(frozen=True)
class AudienceMember:
    """One recipient of a notice: a person and every affected account they act for."""

    person_id: str
    email: str
    name: str
    language: str
    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    """Who a notice reaches, and the affected accounts it reaches nobody in (N4 for one notice)."""

    affected_accounts: int
    recipients: int
    unreached_account_ids: tuple[str, ...]
    by_language: dict
    account_names: dict = field(default_factory=dict)  # of the reached accounts: what mails name

    def as_dict(self) -> dict:
        return {"affected_accounts": self.affected_accounts, "recipients": self.recipients,
                "unreached_accounts": len(self.unreached_account_ids), "by_language": dict(self.by_language)}
