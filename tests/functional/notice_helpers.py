"""Notice fixtures written straight into the table (the API and the schedule are tested elsewhere):
tenants, accounts, people and memberships in any state, a notice with one event, and a
NoticeDelivery wired to moto with a fake clock, a fake links object and recorded sleeps."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from chalicelib import bootstrap
from chalicelib.adapters.clock import iso
from chalicelib.domain.entities import Account, Address, Membership, Person, Tenant
from chalicelib.domain.ids import new_id
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem
from chalicelib.models.notices import NoticeEventItem, NoticeItem

REGION = "eu-central-1"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, moment: datetime = T0):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def now_iso(self) -> str:
        return iso(self.moment)

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


class Links:
    """PreferenceService.link's contract without the platform key."""

    def link(self, tenant_id: str, person_id: str, notice_type: str | None = None) -> str:
        return f"https://roster.example/preferences/{tenant_id}.{person_id}" + (f"?type={notice_type}" if notice_type else "")


class World:
    """One tenant and whatever accounts, people and memberships a test needs."""

    def __init__(self, default_language: str = "de", name: str = "Alpine Telecom"):
        self.db = bootstrap.get_repositories()
        self.tenant_id = new_id("tenant")
        now = iso(T0)
        self.db.tenants.new_item(Tenant(self.tenant_id, name, None, default_language, now, now, 1)).save()

    def account(self, name: str | None = None, status: str = "active", language: str | None = None,
                technical: str | None = None, administrative: str | None = None) -> str:
        account_id, now = new_id("account"), iso(T0)
        item = self.db.accounts.new_item(Account(self.tenant_id, account_id, name or f"Customer {account_id[-4:]}",
                                                 Address(), None, language, [], status, now, now, 1, None, None, None,
                                                 0, 0, 0))
        item.technical_contact_id, item.administrative_contact_id = technical, administrative
        item.save()
        return account_id

    def designate(self, account_id: str, technical: str | None = None, administrative: str | None = None) -> None:
        actions = []
        if technical:
            actions.append(AccountItem.technical_contact_id.set(technical))
        if administrative:
            actions.append(AccountItem.administrative_contact_id.set(administrative))
        AccountItem(keys.account(self.tenant_id, account_id), keys.ACCOUNT_SK).update(actions)

    def person(self, email: str | None = None, language: str | None = None, first_name: str | None = "Anna",
               last_name: str | None = None, undeliverable: str | None = None) -> str:
        person_id, now = new_id("person"), iso(T0)
        item = self.db.people.new_item(Person(self.tenant_id, person_id, email or f"{person_id}@example.com",
                                                     first_name, last_name, None, language, now, now, 1))
        item.undeliverable = undeliverable
        item.save()
        return person_id

    def member(self, account_id: str, person_id: str, notifications=("outage", "maintenance", "security", "general"),
               roles=(), status: str = "active") -> None:
        now = iso(T0)
        self.db.memberships.new_item(Membership(self.tenant_id, account_id, person_id, "contact", list(roles), [],
                                                      list(notifications), status, now, now, 1)).save()

    def contact(self, account_id: str, language: str | None = None, **member) -> str:
        """A new person with an active membership in the account."""
        person_id = self.person(language=language)
        self.member(account_id, person_id, **member)
        return person_id

    def notice(self, notice_type: str = "maintenance", affected: dict | None = None, kind: str = "published",
               event_key: str = "published", severity: str = "major", title: dict | None = None,
               body: dict | None = None, starts_at: str | None = "2026-12-02T22:00:00.000Z",
               ends_at: str | None = "2026-12-03T02:00:00.000Z", detail: dict | None = None,
               created_at: datetime = T0, language: str | None = None) -> tuple[str, str]:
        """A published notice and its event (fan-out `planning`), as the notices API writes them;
        `language`: the notice's (none: a notice from before notices kept one)."""
        notice_id, now = "ntc_" + secrets.token_hex(8), iso(created_at)
        title = title or {"de": "Router-Wechsel", "en": "Router replacement"}
        body = body or {"de": "Wir ersetzen die Core-Router.", "en": "We replace the core routers."}
        affected = affected or {"all": True}
        pk = keys.notice(self.tenant_id, notice_id)
        NoticeItem(pk, keys.NOTICE_SK, tenant_id=self.tenant_id, notice_id=notice_id, type=notice_type,
                   severity=severity, status="scheduled", title=title, body=body, affected=affected,
                   starts_at=starts_at, ends_at=ends_at, created_at=now, updated_at=now, published_at=now,
                   language=language, event_count=1, list_pk=keys.notices_list(self.tenant_id), list_sk=f"{starts_at or now}#{notice_id}",
                   status_pk=keys.notices_by_status(self.tenant_id, "scheduled")).save()
        NoticeEventItem(pk, keys.notice_event(event_key), tenant_id=self.tenant_id, notice_id=notice_id,
                        event_key=event_key, kind=kind, notice_type=notice_type, severity=severity,
                        notice_status="scheduled", title=title, body=body, affected=affected, starts_at=starts_at,
                        ends_at=ends_at, detail=detail, language=language, created_at=now, fanout="planning",
                        pending_pk=keys.NOTICE_EVENTS_FANNING,
                        pending_sk=keys.due(now, self.tenant_id, notice_id, "#" + event_key)).save()
        return notice_id, event_key

    def event(self, notice_id: str, event_key: str = "published") -> NoticeEventItem:
        return NoticeEventItem.get(keys.notice(self.tenant_id, notice_id), keys.notice_event(event_key),
                                   consistent_read=True)


def delivery_service(clock: Clock | None = None, ses_client=None, max_send_rate: float = 0.0):
    """A NoticeDelivery on moto: the app's queues, SES (or `ses_client`), fake clock and links."""
    import boto3

    from chalicelib.adapters.job_queue import SqsMessages
    from chalicelib.adapters.ses import SesMailer
    from chalicelib.services.audience import Audience
    from chalicelib.services.notice_delivery import NoticeDelivery

    sqs = boto3.client("sqs", region_name=REGION)
    return NoticeDelivery(bootstrap.get_repositories(), clock or Clock(), SesMailer(ses_client or bootstrap.get_ses_client()),
                          SqsMessages(sqs, BATCH_QUEUE), Audience(bootstrap.get_repositories()), Links(),
                          bootstrap.get_logger(), "mail.roster.test", max_send_rate,
                          fanout_queue=SqsMessages(sqs, "roster-notice-fanout"))


BATCH_QUEUE = "roster-notice-batch"


def batch_messages(max_rounds: int = 50) -> list[dict]:
    """Every notice_batch message waiting on the batch queue (received and deleted)."""
    import json

    from tests.functional.mail_helpers import queue_url, receive

    sqs = boto3_sqs()
    bodies = []
    for _ in range(max_rounds):
        messages = receive(BATCH_QUEUE)
        if not messages:
            break
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url(BATCH_QUEUE), ReceiptHandle=message["ReceiptHandle"])
    return bodies


def boto3_sqs():
    import boto3

    return boto3.client("sqs", region_name=REGION)


def deliveries(world: World, notice_id: str) -> list:
    """Every delivery row of the notice (as GET …/deliveries lists them), as records."""
    from types import SimpleNamespace

    from chalicelib import bootstrap

    repository = bootstrap.get_repositories().notice_delivery
    return [SimpleNamespace(**row) for _, rows in repository.batch_rows(world.tenant_id, notice_id, " ", "~", None)
            for row in rows if row["status"] != "queued"]


def batches(world: World, notice_id: str) -> list:
    """The notice's batch plans, each with `status` (queued until claimed) and `attempt`."""
    from chalicelib.repositories.notice_delivery import batch_pairs

    found = []
    for plan, state in batch_pairs(keys.notice_batches(world.tenant_id, notice_id), " ", "~"):
        plan.status = state.status if state else "queued"
        plan.attempt = state.attempt if state else None
        found.append(plan)
    return found
