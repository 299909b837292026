"""Fan-out and delivery of notice events; docs/notices.md has the guarantees.

fan-out (SQS roster-notice-fanout, one event a message): the audience, minus the people the
event's existing batches already hold, in batches of ≤ 50 sharing a language, each written once
and handed to the mail queue with the delay that paces SES (`ROSTER_SES_MAX_SEND_RATE`); a batch
due more than SQS's longest delay ahead is handed on by a continuation of the fan-out. Then the
event is `planned`, and a publication's coverage is stored on the notice.

send_batch (SQS roster-mail, `kind: notice_batch`): claim (the batch's state, put on the condition
that it has none), one SES bulk call, the SES message map of the accepted mails, then one small
transaction settling the state with every recipient's outcome and moving the event's counters.
A batch is never sent twice; a claim that outlives any worker is settled by the sweep without
sending. No worker waits for the send rate, and none retries SES in-process: a throttled batch
goes back to its queue with a delay (`RetryLater`)."""
from __future__ import annotations

import math
import time
from datetime import timedelta
from typing import Callable

from chalicelib.adapters.clock import iso
from chalicelib.adapters.ses import BULK_LIMIT, PermanentMailError, TransientMailError
from chalicelib.domain.mail import BOUNCED, COMPLAINED, FAILED, SENT, SUPPRESSED
from chalicelib.domain.notices import parse
from chalicelib.mail import notice_texts
from chalicelib.mail.catalog import pick_language, template_name
from chalicelib.repositories.items import plain
from chalicelib.resources import MAIL_QUEUE, NOTICE_FANOUT_QUEUE
from chalicelib.services.claims import GAVE_UP, UNCONFIRMED, new_attempt, stale_before
from chalicelib.services.mail import tenant_branding
from chalicelib.services.tenants import may_send_from

BATCHES_A_WRITE = 10  # batches planned before they are written and queued (one SendMessageBatch)
TENANT_CACHE_SECONDS = 60.0  # branding and sender a worker may reuse; an event's text never changes
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds: a batch due later is queued by a continuation
CONTINUATION_LEAD_SECONDS = 60  # a continuation runs this long before the first batch it queues is due
# A fan-out or batch message may legitimately be in flight (being worked on, or waiting for its
# retry) up to its queue's visibility timeout; only later is it lost. Re-queueing sooner would run
# a long fan-out twice, or duplicate the messages of batches queued behind a backlog.
FANOUT_LOST_AFTER = timedelta(seconds=NOTICE_FANOUT_QUEUE.visibility_timeout_seconds)
BATCH_LOST_AFTER = timedelta(seconds=MAIL_QUEUE.visibility_timeout_seconds)

# A worker reads the whole suppression list, one Query, when it holds at most this many addresses
# (a longer one is checked address by address, a BatchGetItem a batch), and trusts what it read
# for this long: a suppression younger than that may let one more mail through (docs/notices.md).
SUPPRESSION_LIST_LIMIT = 1000
SUPPRESSION_LIST_SECONDS = 30.0

TEMPLATE_KIND = "notice"
THROTTLED_DELAY_SECONDS = 30  # a throttled batch's first retry; doubled each receive, ≤ 900 s
FEEDBACK_DETAIL = {BOUNCED: "SES bounce", COMPLAINED: "SES complaint"}


class RetryLater(Exception):
    """The batch went back to the queue untouched (SES throttled it): its message should become
    visible again after `seconds`, not at once."""

    def __init__(self, seconds: int):
        super().__init__(f"retry in {seconds} s")
        self.seconds = seconds


def retry_delay(receive_count: int) -> int:
    """How long a throttled batch waits before its next receive: 30 s, doubled each time, ≤ 900 s."""
    return min(MAX_DELAY_SECONDS, THROTTLED_DELAY_SECONDS * 2 ** max(receive_count - 1, 0))


class NoticeDelivery:
    def __init__(self, database, clock, mailer, mail_queue, audience, links, logger, mail_domain: str,
                 max_send_rate: float = 0.0, fanout_queue=None):
        self._db = database
        self._repo = database.notice_delivery
        self._clock = clock
        self._mailer = mailer
        self._mail_queue = mail_queue
        self._fanout_queue = fanout_queue
        self._audience = audience
        self._links = links
        self._log = logger
        self._domain = mail_domain
        self.send_rate = max(float(max_send_rate), 0.0)  # mails a second for all workers; 0 = unpaced
        self._events: dict = {}
        self._tenants: dict = {}
        self._suppression_list: tuple[float, dict | None] | None = None  # (read at, address → reason | too long)
        self._monotonic = time.monotonic

    # --- fan-out -------------------------------------------------------------------------------
    def fan_out(self, tenant_id: str, notice_id: str, event_key: str, last_attempt: bool = False,
                from_seq: int | None = None) -> int:
        """Plans the event's batches and queues them; returns how many batches this call queued.

        Resumable: batches already written keep their people (nobody is planned twice) and those
        not yet claimed are queued again (a crashed run may not have); a concurrent run's batch
        makes the conditional put fail, which raises (SQS retries, and the retry recomputes).
        `from_seq` continues a paced fan-out: it queues the batches from that one on that are
        due within SQS's longest delay. On the queue's last attempt the event is marked `failed`
        before the error goes on to the dead-letter queue."""
        try:
            if from_seq is not None:
                return self._continue(tenant_id, notice_id, event_key, from_seq)
            return self._fan_out(tenant_id, notice_id, event_key)
        except Exception as exc:
            if last_attempt and from_seq is None:
                self._repo.fail_fanout(tenant_id, notice_id, event_key, f"{GAVE_UP}: {type(exc).__name__}")
            raise

    def _fan_out(self, tenant_id: str, notice_id: str, event_key: str) -> int:
        event = self._repo.event(tenant_id, notice_id, event_key)
        if event is None:
            self._log.warning("notice event not found", extra={"notice_id": notice_id, "event_key": event_key})
            return 0
        existing = self._repo.batches(tenant_id, notice_id, event_key)
        pacer = _Pacer(self._clock.now(), self.send_rate, [plan for plan, _ in existing])
        queued = self._enqueue([plan for plan, state in existing if state is None], pacer)
        if event.fanout != "planning":
            self._hand_on(pacer)
            return queued
        plan = self._audience.plan(tenant_id, event.notice_type, plain(event.affected))
        held = {r["p"] for batch, _ in existing for r in batch.recipients}
        planner = _Planner(new_batch=self._repo.new_batch, write=lambda batches: self._write(batches, pacer),
                           event=event, names=plan.account_names, now=self._clock.now_iso(),
                           seq=max((int(b.seq) for b, _ in existing), default=0), pacer=pacer)
        members = []
        # people are read 100 at a time; each language's batch is planned once it holds 50, and
        # written and queued ten at a time, so the mail workers start while the rest is read
        for chunk in self._audience.members(plan):
            members.extend(chunk)
            planner.add(member for member in chunk if member.person_id not in held)
        planner.finish()
        self._hand_on(pacer)
        coverage = self._audience.coverage(plan, members)
        figures = {"recipients": sum(len(b.recipients) for b, _ in existing) + planner.recipients,
                   "batches": len(existing) + planner.planned, "affected_accounts": coverage.affected_accounts,
                   "unreached_accounts": len(coverage.unreached_account_ids)}
        stored = {**coverage.as_dict(), "computed_at": self._clock.now_iso()} if event.kind == "published" else None
        self._repo.finish_fanout(tenant_id, notice_id, event_key, figures, iso(pacer.last_due), stored)
        return queued + planner.queued

    def _continue(self, tenant_id: str, notice_id: str, event_key: str, from_seq: int) -> int:
        pending = [plan for plan, state in self._repo.batches(tenant_id, notice_id, event_key, from_seq)
                   if state is None]
        pacer = _Pacer(self._clock.now(), self.send_rate, [])
        queued = self._enqueue(pending, pacer)
        later = pacer.later
        if later:
            self._continue_later(later[0])
        return queued

    def _write(self, batches: list, pacer: "_Pacer") -> int:
        """A conditional put of each batch, then the messages of those due within SQS's longest delay."""
        self._repo.put_batches(batches)
        return self._enqueue(batches, pacer)

    def _enqueue(self, batches: list, pacer: "_Pacer") -> int:
        """Queues each batch with the delay until it is due; batches due later than SQS can delay
        are left to a continuation (`_hand_on`). Returns how many were queued now."""
        now = pacer.now
        messages = []
        for batch in batches:
            delay = max(0, math.ceil((parse(batch.send_at or batch.created_at) - now).total_seconds()))
            if delay > MAX_DELAY_SECONDS:
                pacer.later.append(batch)
                continue
            messages.append(({"kind": "notice_batch", "tenant_id": batch.tenant_id, "notice_id": batch.notice_id,
                              "batch": batch.sk}, delay))
        if messages:
            self._mail_queue.send_many([body for body, _ in messages], delays=[delay for _, delay in messages])
        return len(messages)

    def _hand_on(self, pacer: "_Pacer") -> None:
        if pacer.later:
            self._continue_later(min(pacer.later, key=lambda b: int(b.seq)))

    def _continue_later(self, first) -> None:
        """A continuation of the fan-out, due a little before `first` (the earliest batch not queued)."""
        due_in = (parse(first.send_at) - self._clock.now()).total_seconds() - CONTINUATION_LEAD_SECONDS
        self._fanout_queue.send({"tenant_id": first.tenant_id, "notice_id": first.notice_id,
                                 "event_key": first.event_key, "from_seq": int(first.seq)},
                                delay=max(0, min(MAX_DELAY_SECONDS, math.ceil(due_in))))

    # --- one batch -----------------------------------------------------------------------------
    def send_batch(self, tenant_id: str, notice_id: str, batch_sk: str, last_attempt: bool = False,
                   receive_count: int = 1) -> int:
        """Sends a queued batch once; returns how many mails SES accepted (0 when the batch was not
        queued: a redelivered message sends nothing).

        The plan is read, then claimed. Until SES is called any error releases the claim; a throttled or
        unavailable SES releases it and raises RetryLater (the message comes back after a
        delay; nothing here sleeps or calls SES again). On the queue's last attempt the batch is
        settled `failed` instead, before the error goes on to the dead-letter queue."""
        batch = self._repo.batch(tenant_id, notice_id, batch_sk)
        attempt = new_attempt()
        if batch is None or not self._repo.claim(tenant_id, notice_id, batch_sk, attempt, self._clock.now_iso()):
            return 0  # never planned, or not queued: sent or being sent
        try:
            return self._send_batch(batch, attempt, receive_count)
        except Exception:
            if last_attempt:
                self._give_up(batch)
            raise

    def retry_later(self, queue_arn: str, receipt_handle: str, seconds: int) -> None:
        """The batch message received with `receipt_handle` from the queue `queue_arn` names comes
        back after `seconds` (the consumer knows its queue by the event's ARN, not by a setting)."""
        self._mail_queue.of_arn(queue_arn).retry_later(receipt_handle, seconds)

    def _send_batch(self, batch, attempt: str, receive_count: int) -> int:
        recipients = batch.recipients
        try:
            suppressed = self._suppressed([r["e"] for r in recipients])
            to_send = [r for r in recipients if r["e"] not in suppressed]
            mail = self._render(batch, to_send) if to_send else None
        except Exception:
            self._repo.release(batch, attempt)
            raise
        outcomes = {r["p"]: [SUPPRESSED, None, suppressed[r["e"]]] for r in recipients if r["e"] in suppressed}
        if mail is not None:
            try:
                outcomes.update(self._send(mail, to_send))
            except TransientMailError:
                self._repo.release(batch, attempt)
                raise RetryLater(retry_delay(receive_count)) from None
            self._repo.save_messages(batch, [(o[1], person) for person, o in outcomes.items() if o[0] == SENT])
        self._settle(batch, attempt, outcomes, SENT)
        return sum(1 for outcome in outcomes.values() if outcome[0] == SENT)

    def _suppressed(self, emails: list[str]) -> dict[str, str]:
        """Which of `emails` are suppressed: from the list (read once, again after
        SUPPRESSION_LIST_SECONDS) while it is short, else one BatchGetItem."""
        if self._suppression_list is None or self._monotonic() - self._suppression_list[0] > SUPPRESSION_LIST_SECONDS:
            self._suppression_list = (self._monotonic(), self._db.mail.suppression_list(SUPPRESSION_LIST_LIMIT))
        listed = self._suppression_list[1]
        if listed is None:
            return self._db.mail.suppressed(emails)
        return {email: listed[email] for email in emails if email in listed}

    def _event(self, batch):
        """The event a batch belongs to: its text is a snapshot, so a worker keeps it."""
        key = (batch.tenant_id, batch.notice_id, batch.event_key)
        if key not in self._events:
            if len(self._events) >= 64:
                self._events.clear()
            self._events[key] = self._repo.event(*key)
        return self._events[key]

    def _tenant(self, tenant_id: str):
        """The tenant's branding and sender and whether it may send from that address (its own
        claimed identity), kept for TENANT_CACHE_SECONDS by a worker."""
        cached = self._tenants.get(tenant_id)
        if cached is None or cached[0] < self._monotonic():
            tenant = self._db.tenants.get(tenant_id)
            cached = (self._monotonic() + TENANT_CACHE_SECONDS, tenant, may_send_from(tenant))
            self._tenants[tenant_id] = cached
        return cached[1], cached[2]

    def _render(self, batch, recipients: list[dict]) -> tuple:
        event = self._event(batch)
        tenant, own_sender = self._tenant(batch.tenant_id)
        branding, sender, reply_to = tenant_branding(tenant, self._domain, own_sender)
        language = pick_language(batch.language)
        texts = _in_language(plain(event.title), plain(event.body), language,
                             event.language, tenant.default_language if tenant else None)
        default_data = {**branding, **texts,
                        **notice_texts.labels(language=language, kind=event.kind, notice_type=event.notice_type,
                                              severity=event.severity, starts_at=event.starts_at, ends_at=event.ends_at,
                                              detail=plain(event.detail))}
        names = batch.accounts
        destinations = [(r["e"], {"name": r.get("n") or "",
                                  "accounts_text": ", ".join(f"{names[a]} ({a})" if names.get(a) else a
                                                             for a in r.get("a") or ()),
                                  "preferences_url": self._links.link(batch.tenant_id, r["p"], event.notice_type)})
                        for r in recipients]
        return sender, reply_to, template_name(TEMPLATE_KIND, language), default_data, destinations

    def _send(self, mail: tuple, recipients: list[dict]) -> dict:
        """One SES call. A permanent refusal fails every recipient; a transient one raises."""
        sender, reply_to, template, default_data, destinations = mail
        try:
            results = self._mailer.send(sender, reply_to, template, default_data, destinations)
        except PermanentMailError as exc:
            return {r["p"]: [FAILED, None, str(exc)[:500]] for r in recipients}
        return {r["p"]: [SENT, o.message_id, None] if o.ok else [FAILED, None, (o.error or "")[:500] or None]
                for r, o in zip(recipients, results)}

    def _settle(self, batch, attempt: str, outcomes: dict, batch_status: str) -> None:
        if not self._repo.settle(batch, attempt, batch_status, outcomes, self._clock.now_iso()):
            self._log.warning("notice batch settled by someone else", extra={"batch": batch.sk})

    def _give_up(self, batch) -> None:
        """The queue's last attempt failed: the batch's recipients are `failed`, visibly."""
        attempt = new_attempt()
        if self._repo.claim(batch.tenant_id, batch.notice_id, batch.sk, attempt, self._clock.now_iso()):
            self._settle(batch, attempt, {r["p"]: [FAILED, None, GAVE_UP] for r in batch.recipients}, FAILED)

    # --- sweep ---------------------------------------------------------------------------------
    def sweep(self, limit: int = 100) -> dict:
        """Re-queues fan-outs still planning longer than their queue's visibility timeout after they
        were written, and batches still unclaimed that long after they were due (their message
        was lost); settles stale claims (services/claims.py) without sending."""
        now = self._clock.now()
        fanning = self._repo.fanning_events(iso(now - FANOUT_LOST_AFTER), limit)
        if fanning and self._fanout_queue is not None:
            self._fanout_queue.send_many([{"tenant_id": e.tenant_id, "notice_id": e.notice_id,
                                           "event_key": e.event_key} for e in fanning])
        unconfirmed = 0
        for state in self._repo.stale_claims(stale_before(self._clock), limit):
            unconfirmed += self._settle_unconfirmed(state)
        lost_before, requeued = iso(now - BATCH_LOST_AFTER), 0
        for sending in self._repo.sending_events(lost_before, limit):
            pairs = self._repo.batches(sending.tenant_id, sending.notice_id, sending.event_key)
            lost = [plan for plan, state in pairs if state is None and (plan.send_at or plan.created_at) < lost_before]
            if lost:
                requeued += self._enqueue(lost, _Pacer(now, 0.0, []))
            elif all(state is not None and state.status != "sending" for _, state in pairs):
                self._repo.done_sending(sending)
        return {"fanouts": len(fanning), "batches": requeued, "unconfirmed": unconfirmed}

    def _settle_unconfirmed(self, state) -> int:
        """A claim older than any worker lives: its mails may or may not have gone out. The settle
        writes every outcome or none, so none exist yet: each recipient is `failed`
        (unconfirmed), never re-sent."""
        batch = self._repo.batch_of(state)
        if batch is None:
            return 0
        self._settle(batch, state.attempt, {r["p"]: [FAILED, None, UNCONFIRMED] for r in batch.recipients}, FAILED)
        return 1

    # --- SES feedback --------------------------------------------------------------------------
    def record_feedback(self, message, status: str) -> None:
        """A bounce or complaint about a notice mail (`message`: the SES message map's item): the
        delivery in its batch's state and the event's counters (sent −1, bounced|complained +1)
        in one transaction, once; the person shows it."""
        if status in FEEDBACK_DETAIL and self._repo.record_feedback(message, status, FEEDBACK_DETAIL[status],
                                                                     self._clock.now_iso()):
            self._db.people.mark_undeliverable(message.tenant_id, message.person_id, status)


class _Pacer:
    """When each batch is due: the first at once, each next one after the mails before it at
    `rate` mails a second (0: all at once), continuing after the batches already planned."""

    def __init__(self, now, rate: float, planned: list):
        self.now, self._rate = now, rate
        self.later: list = []
        self.last_due = now
        self._next = now
        for batch in planned:
            due = parse(batch.send_at or batch.created_at)
            self._next = max(self._next, due + timedelta(seconds=len(batch.recipients) / rate if rate else 0))
            self.last_due = max(self.last_due, due)

    def due(self, recipients: int) -> str:
        at = self._next
        self.last_due = max(self.last_due, at)
        if self._rate:
            self._next = at + timedelta(seconds=recipients / self._rate)
        return iso(at)


class _Planner:
    """Turns recipients (in person id order) into batches of ≤ 50 sharing a language: a
    language's batch is planned when it holds 50, the rest when every recipient has come. Batches
    are numbered in the order they are planned (after the event's existing ones), so two runs over
    the same data plan the same keys (their conditional writes collide)."""

    def __init__(self, new_batch: Callable, write: Callable[[list], int], event, names: dict, now: str, seq: int,
                 pacer: _Pacer):
        self._new_batch, self._write, self._event, self._names, self._now, self._seq, self._pacer = \
            new_batch, write, event, names, now, seq, pacer
        self._open: dict[str, list] = {}
        self._unwritten: list = []
        self.planned = self.recipients = self.queued = 0

    def add(self, members) -> None:
        for member in members:
            group = self._open.setdefault(member.language, [])
            group.append(member)
            if len(group) == BULK_LIMIT:
                self._plan(member.language, group)
                self._open[member.language] = []
        while len(self._unwritten) >= BATCHES_A_WRITE:
            self._flush(BATCHES_A_WRITE)

    def finish(self) -> None:
        for language in sorted(self._open):
            if self._open[language]:
                self._plan(language, self._open[language])
        self._open = {}
        while self._unwritten:
            self._flush(BATCHES_A_WRITE)

    def _plan(self, language: str, group: list) -> None:
        self._seq += 1
        event = self._event
        names = {a: self._names[a] for m in group for a in m.account_ids if a in self._names}
        self._unwritten.append(self._new_batch(tenant_id=event.tenant_id, notice_id=event.notice_id,
                                               event_key=event.event_key, seq=self._seq, language=language,
                                               recipients=[_recipient(m) for m in group], now=self._now,
                                               account_names=names, send_at=self._pacer.due(len(group))))
        self.planned += 1
        self.recipients += len(group)

    def _flush(self, count: int) -> None:
        batches, self._unwritten = self._unwritten[:count], self._unwritten[count:]
        self.queued += self._write(batches)


def _recipient(member) -> dict:
    return {"p": member.person_id, "e": member.email, "n": member.name, "a": list(member.account_ids)}


def _in_language(title: dict, body: dict, language: str, *fallbacks: str | None) -> dict:
    """The event's title and body in the batch's language, else the first fallback it has (the
    notice's language, the tenant's default), else any."""
    for candidate in (language, *fallbacks, *sorted(title)):
        if candidate and candidate in title:
            return {"title": title[candidate], "body": body.get(candidate) or next(iter(body.values()), "")}
    return {"title": "", "body": next(iter(body.values()), "")}
