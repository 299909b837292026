"""Fan-out and delivery of notice events (issue 4 §4); docs/notices.md has the guarantees.

fan-out (SQS roster-notice-fanout, one event a message): the audience, minus the people the
event's existing batches already hold, in batches of ≤ 50 sharing a language, written ten to a
conditional transaction and handed to the mail queue as they are written; then the event is
`planned`.

send_batch (SQS roster-mail, `kind: notice_batch`): claim queued → sending (the claim answers
with the batch), one SES bulk call, then one transaction settling the batch, writing one
delivery record per recipient and moving the event's counters. A worker with more batches in its
SQS batch reads the next one with this one's suppression lookup and claims it in this one's
settle, so from the second batch on a batch costs three round trips, not four. Prepared by
`begin` (the mail handler does, for each SQS batch), a worker reads those next batches at once and
the suppression list once (when it is short), and a batch costs two: SES and the settle. A batch
is never sent twice; a claim that outlives any worker is settled by the sweep without sending."""
from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from typing import Callable

from chalicelib.adapters.clock import iso
from chalicelib.adapters.rate_limit import TokenBucket, backoff
from chalicelib.adapters.ses import BULK_LIMIT, PermanentMailError, TransientMailError
from chalicelib.domain.mail import BOUNCED, COMPLAINED, FAILED, QUEUED, SENDING, SENT, SUPPRESSED
from chalicelib.mail import notice_texts
from chalicelib.mail.catalog import pick_language, template_name
from chalicelib.repositories.items import plain
from chalicelib.repositories.notice_delivery import Delivery
from chalicelib.resources import MAIL_QUEUE, NOTICE_FANOUT_QUEUE
from chalicelib.services.mail import STALE_CLAIM, tenant_branding
from chalicelib.services.tenants import may_send_from

BATCH_MARGIN_SECONDS = 10.0  # what a paced batch needs beyond its pacing: the SES call, a retry
BATCHES_A_WRITE = 10  # one TransactWriteItems and one SendMessageBatch (its limit) per 10 batches
TENANT_CACHE_SECONDS = 60.0  # branding and sender a worker may reuse; an event's text never changes
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
SES_RETRIES = 3  # in-process retries of a throttled SES call before the batch goes back to SQS
UNCONFIRMED = "unconfirmed: the worker stopped after claiming; not re-sent to avoid a duplicate"
GAVE_UP = "gave up after the queue's last attempt"
FEEDBACK_DETAIL = {BOUNCED: "SES bounce", COMPLAINED: "SES complaint"}


class NoticeDelivery:
    def __init__(self, database, clock, mailer, mail_queue, audience, links, logger, mail_domain: str,
                 max_send_rate: float = 0.0, worker_concurrency: int = 1, sleep: Callable[[float], None] = time.sleep,
                 fanout_queue=None, rng: Callable[[float, float], float] = random.uniform):
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
        self._sleep = sleep
        self._rng = rng
        rate = max_send_rate / max(worker_concurrency, 1) if max_send_rate else 0.0
        self.bucket = TokenBucket(rate, sleep=sleep)
        self._events: dict = {}
        self._tenants: dict = {}
        self._held: dict[tuple[str, str, str], tuple[str, object]] = {}  # claimed ahead: key → (attempt, batch)
        self._prefetched: dict[tuple[str, str, str], object] = {}  # read by `begin`: key → batch
        self._suppression_list: tuple[float, dict | None] | None = None  # (read at, address → reason | too long)
        self._monotonic = time.monotonic

    # --- fan-out -------------------------------------------------------------------------------
    def fan_out(self, tenant_id: str, notice_id: str, event_key: str, last_attempt: bool = False) -> int:
        """Plans the event's batches and queues them; returns how many batches this call queued.

        Resumable: batches already written keep their people (nobody is planned twice) and are
        queued again (a crashed run may not have); a concurrent run's batch makes the conditional
        PutItem fail, which raises (SQS retries, and the retry recomputes). On the queue's last
        attempt the event is marked `failed` before the error goes on to the dead-letter queue."""
        try:
            return self._fan_out(tenant_id, notice_id, event_key)
        except Exception as exc:
            if last_attempt:
                self._repo.fail_fanout(tenant_id, notice_id, event_key, f"{GAVE_UP}: {type(exc).__name__}")
            raise

    def _fan_out(self, tenant_id: str, notice_id: str, event_key: str) -> int:
        event = self._repo.event(tenant_id, notice_id, event_key)
        if event is None:
            self._log.warning("notice event not found", extra={"notice_id": notice_id, "event_key": event_key})
            return 0
        existing = self._repo.batches(tenant_id, notice_id, event_key)
        requeued = [b for b in existing if b.status == QUEUED]
        self._enqueue(requeued)  # a crashed run may not have queued them; twice is harmless (claims)
        if event.fanout != "planning":
            return len(requeued)
        plan = self._audience.plan(tenant_id, event.notice_type, plain(event.affected))
        held = {r["p"] for batch in existing for r in batch.recipients}
        planner = _Planner(self._repo.new_batch, self._write, event, plan.account_names, self._clock.now_iso(),
                           max((int(b.seq) for b in existing), default=0))
        members = []
        # people are read 100 at a time; each language's batch is planned once it holds 50, and
        # written and queued ten at a time, so the mail workers start while the rest is read
        for chunk in self._audience.members(plan):
            members.extend(chunk)
            planner.add(member for member in chunk if member.person_id not in held)
        planner.finish()
        coverage = self._audience.coverage(plan, members)
        batches = len(existing) + planner.planned
        self._repo.finish_fanout(tenant_id, notice_id, event_key, {
            "recipients": sum(len(b.recipients) for b in existing) + planner.recipients, "batches": batches,
            "affected_accounts": coverage.affected_accounts,
            "unreached_accounts": len(coverage.unreached_account_ids)})
        return len(requeued) + planner.planned

    def _write(self, batches: list) -> None:
        """One conditional transaction of the batches, then their messages."""
        self._repo.put_batches(batches)
        self._enqueue(batches)

    def _enqueue(self, batches: list) -> None:
        if batches:
            self._mail_queue.send_many([{"kind": "notice_batch", "tenant_id": b.tenant_id, "notice_id": b.notice_id,
                                         "batch": b.sk} for b in batches])

    # --- one batch -----------------------------------------------------------------------------
    def seconds_per_batch(self) -> float:
        """How long a full batch may take at this worker's pace (0 when unpaced), with a margin
        for the SES call and a throttling retry."""
        return BULK_LIMIT / self.bucket.rate + BATCH_MARGIN_SECONDS if self.bucket.rate else 0.0

    def defer(self, tenant_id: str, notice_id: str, batch_sk: str) -> None:
        """Puts a batch's message back on the queue untouched: this worker's time is up (a paced
        worker must not be cut off by its timeout between SES accepting and the settle). A claim
        held for it is given back first."""
        self._release_held((tenant_id, notice_id, batch_sk))
        self._mail_queue.send({"kind": "notice_batch", "tenant_id": tenant_id, "notice_id": notice_id,
                               "batch": batch_sk})

    def send_batch(self, tenant_id: str, notice_id: str, batch_sk: str, last_attempt: bool = False,
                   then: tuple[str, str, str] | None = None) -> int:
        """Sends a queued batch once; returns how many mails SES accepted (0 when the batch was not
        queued: a redelivered message sends nothing).

        The claim (queued → sending) answers with the batch, so it costs no read. Until SES is
        called any error releases the claim; throttling is retried in-process with backoff, then
        released and raised (SQS redelivers later). On the queue's last attempt the batch is
        settled `failed` before the error goes on to the dead-letter queue.

        `then` = (tenant_id, notice_id, batch_sk) of the batch this worker sends next: it is read
        along with this batch's suppression lookup and claimed in this batch's settle, and its own
        send_batch starts from that claim. `release_held` gives back a claim never used."""
        held = self._held.pop((tenant_id, notice_id, batch_sk), None)
        if held is not None:
            attempt, batch = held
        else:
            attempt = uuid.uuid4().hex
            batch = self._repo.claim(tenant_id, notice_id, batch_sk, attempt, self._clock.now_iso())
        if batch is None:
            return 0  # not queued: sent, being sent, or never planned
        try:
            return self._send_batch(batch, attempt, then)
        except Exception:
            if last_attempt:
                self._give_up(tenant_id, notice_id, batch_sk)
            raise

    def begin(self, batch_keys: list[tuple[str, str, str]]) -> None:
        """Prepares an invocation that sends `batch_keys` in this order (tenant_id, notice_id,
        batch_sk): reads the suppression list (one Query, if it is short) and every batch after
        the first (one BatchGetItem; the first one's claim answers with it), so that each batch
        then costs two round trips, SES and its settle. A read that fails is logged and each
        batch reads what it needs itself, as without `begin`."""
        self._prefetched = {}
        try:
            self._read_suppression_list()
            if len(batch_keys) > 1:
                self._prefetched = self._repo.batches_by_key(batch_keys[1:])
        except Exception:
            self._log.warning("preparing the notice batches failed; each batch reads for itself", exc_info=True)

    def _read_suppression_list(self) -> None:
        self._suppression_list = (self._monotonic(), self._db.mail.suppression_list(SUPPRESSION_LIST_LIMIT))

    def _listed_suppressions(self, emails: list[str]) -> dict[str, str] | None:
        """Which of `emails` the suppression list names, read again when older than
        SUPPRESSION_LIST_SECONDS; None when no list was read or it is too long."""
        if self._suppression_list is None:
            return None
        if self._monotonic() - self._suppression_list[0] > SUPPRESSION_LIST_SECONDS:
            self._read_suppression_list()
        listed = self._suppression_list[1]
        return None if listed is None else {email: listed[email] for email in emails if email in listed}

    def release_held(self) -> None:
        """Gives back (sending → queued) every batch claimed ahead whose turn did not come, and
        forgets what `begin` read. Called as an invocation ends: a release that fails is logged,
        not raised (the invocation's work stands; the claim goes stale and the sweep settles it,
        as a worker's death would leave it)."""
        self._prefetched, self._suppression_list = {}, None
        for key in list(self._held):
            try:
                self._release_held(key)
            except Exception:
                self._log.exception("a notice batch claimed ahead could not be released", extra={"batch": key[2]})

    def _release_held(self, key: tuple[str, str, str]) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            attempt, batch = held
            self._repo.release(batch, attempt, self._clock.now_iso())

    def _send_batch(self, batch, attempt: str, then: tuple[str, str, str] | None) -> int:
        recipients = batch.recipients
        try:
            suppressed, upcoming = self._suppressed_and_next([r["e"] for r in recipients], then)
            to_send = [r for r in recipients if r["e"] not in suppressed]
            mail = self._render(batch, to_send) if to_send else None
        except Exception:
            self._repo.release(batch, attempt, self._clock.now_iso())
            raise
        outcomes = {r["p"]: (SUPPRESSED, None, suppressed[r["e"]]) for r in recipients if r["e"] in suppressed}
        if mail is not None:
            try:
                outcomes.update(self._send(mail, to_send))
            except TransientMailError:
                self._repo.release(batch, attempt, self._clock.now_iso())
                raise
        self._settle(batch, attempt, recipients, outcomes, SENT, upcoming)
        return sum(1 for status, _, _ in outcomes.values() if status == SENT)

    def _suppressed_and_next(self, emails: list[str], then: tuple[str, str, str] | None):
        """(the suppressed of `emails`, the batch `then` names): from what `begin` read where it
        can, the rest in one BatchGetItem."""
        suppressed = self._listed_suppressions(emails)
        upcoming = self._prefetched.pop(then, None) if then else None
        if suppressed is not None and (then is None or upcoming is not None):
            return suppressed, upcoming
        read, read_upcoming = self._repo.suppressed_and_next(emails if suppressed is None else [],
                                                              then if upcoming is None else None)
        return (read if suppressed is None else suppressed), (upcoming or read_upcoming)

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
            cached = (self._monotonic() + TENANT_CACHE_SECONDS, tenant, may_send_from(self._db, tenant))
            self._tenants[tenant_id] = cached
        return cached[1], cached[2]

    def _render(self, batch, recipients: list[dict]) -> tuple:
        event = self._event(batch)
        tenant, own_sender = self._tenant(batch.tenant_id)
        branding, sender, reply_to = tenant_branding(tenant, self._domain, own_sender)
        language = pick_language(batch.language)
        texts = _in_language(plain(event.title), plain(event.body), language, tenant.default_language if tenant else None)
        default_data = {**branding, **texts,
                        **notice_texts.labels(language, event.kind, event.notice_type, event.severity, event.starts_at,
                                              event.ends_at, plain(event.detail))}
        names = batch.accounts
        destinations = [(r["e"], {"name": r.get("n") or "",
                                  "accounts_text": ", ".join(f"{names[a]} ({a})" if names.get(a) else a
                                                             for a in r.get("a") or ()),
                                  "preferences_url": self._links.link(batch.tenant_id, r["p"], event.notice_type)})
                        for r in recipients]
        return sender, reply_to, template_name(TEMPLATE_KIND, language), default_data, destinations

    def _send(self, mail: tuple, recipients: list[dict]) -> dict:
        sender, reply_to, template, default_data, destinations = mail
        self.bucket.take(len(destinations))
        for retry in range(SES_RETRIES + 1):
            try:
                results = self._mailer.send(sender, reply_to, template, default_data, destinations)
                break
            except TransientMailError:
                if retry == SES_RETRIES:
                    raise
                self._sleep(backoff(retry, rng=self._rng))
            except PermanentMailError as exc:
                return {r["p"]: (FAILED, None, str(exc)) for r in recipients}
        return {r["p"]: (SENT if o.ok else FAILED, o.message_id if o.ok else None, o.error)
                for r, o in zip(recipients, results)}

    def _settle(self, batch, attempt: str, recipients: list[dict], outcomes: dict, batch_status: str,
                upcoming=None) -> None:
        """Settles the batch; claims `upcoming` in the same transaction when it is queued."""
        now = self._clock.now_iso()
        deliveries = [Delivery(r, *outcomes[r["p"]]) for r in recipients]
        if upcoming is None or upcoming.status != QUEUED:
            settled = self._repo.settle_batch(batch, attempt, batch_status, deliveries, now)
        else:
            upcoming_attempt = uuid.uuid4().hex
            settled, claimed = self._repo.settle_and_claim(batch, attempt, batch_status, deliveries, now,
                                                           upcoming, upcoming_attempt)
            if claimed:
                upcoming.status, upcoming.attempt, upcoming.updated_at = SENDING, upcoming_attempt, now
                self._held[(upcoming.tenant_id, upcoming.notice_id, upcoming.sk)] = (upcoming_attempt, upcoming)
        if not settled:
            self._log.warning("notice batch settled by someone else", extra={"batch": batch.sk})

    def _give_up(self, tenant_id: str, notice_id: str, batch_sk: str) -> None:
        """The queue's last attempt failed: the batch's recipients are `failed`, visibly."""
        attempt = uuid.uuid4().hex
        batch = self._repo.claim(tenant_id, notice_id, batch_sk, attempt, self._clock.now_iso())
        if batch is not None:
            self._settle(batch, attempt, batch.recipients, {r["p"]: (FAILED, None, GAVE_UP) for r in batch.recipients},
                         FAILED)

    def _settle_unconfirmed(self, batch) -> None:
        """A claim older than any worker lives: its mails may or may not have gone out. The settle
        writes every record or none, so none exist yet: each recipient is `failed` (unconfirmed),
        never re-sent."""
        self._settle(batch, batch.attempt, batch.recipients,
                     {r["p"]: (FAILED, None, UNCONFIRMED) for r in batch.recipients}, FAILED)

    # --- sweep ---------------------------------------------------------------------------------
    def sweep(self, limit: int = 100) -> dict:
        """Re-queues fan-outs and batches still open longer than their queue's visibility timeout
        after they were written (their message was lost) and settles claims older than STALE_CLAIM."""
        now = self._clock.now()
        stale = iso(now - STALE_CLAIM)
        fanning = self._repo.fanning_events(iso(now - FANOUT_LOST_AFTER), limit)
        if fanning and self._fanout_queue is not None:
            self._fanout_queue.send_many([{"tenant_id": e.tenant_id, "notice_id": e.notice_id,
                                           "event_key": e.event_key} for e in fanning])
        queued, unconfirmed = [], 0
        for batch in self._repo.open_batches(iso(now - min(BATCH_LOST_AFTER, STALE_CLAIM)), limit):
            if batch.status == QUEUED and batch.created_at < iso(now - BATCH_LOST_AFTER):
                queued.append(batch)
            elif batch.status == SENDING and batch.updated_at < stale:
                self._settle_unconfirmed(batch)
                unconfirmed += 1
        self._enqueue(queued)
        return {"fanouts": len(fanning), "batches": len(queued), "unconfirmed": unconfirmed}

    # --- SES feedback --------------------------------------------------------------------------
    def record_feedback(self, message_id: str, status: str) -> bool:
        """A bounce or complaint about a notice mail: the delivery record and the event's counters
        (sent −1, bounced|complained +1) in one transaction, once; the person shows it. Returns
        whether the message was a notice mail."""
        delivery = self._repo.delivery_by_message(message_id)
        if delivery is None:
            return False
        if delivery.status == SENT and status in FEEDBACK_DETAIL:
            if self._repo.record_feedback(delivery, status, FEEDBACK_DETAIL[status], self._clock.now_iso()):
                self._db.people.mark_undeliverable(delivery.tenant_id, delivery.person_id, status)
        return True


class _Planner:
    """Turns recipients (in person id order) into batches of ≤ 50 sharing a language: a
    language's batch is planned when it holds 50, the rest when every recipient has come. Batches
    are numbered in the order they are planned (after the event's existing ones), so two runs over
    the same data plan the same keys (their conditional writes collide)."""

    def __init__(self, new_batch: Callable, write: Callable[[list], None], event, names: dict, now: str, seq: int):
        self._new_batch, self._write, self._event, self._names, self._now, self._seq = \
            new_batch, write, event, names, now, seq
        self._open: dict[str, list] = {}
        self._unwritten: list = []
        self.planned = self.recipients = 0

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
        self._unwritten.append(self._new_batch(
            event.tenant_id, event.notice_id, event.event_key, self._seq, language, [_recipient(m) for m in group],
            self._now, {a: self._names[a] for m in group for a in m.account_ids if a in self._names}))
        self.planned += 1
        self.recipients += len(group)

    def _flush(self, count: int) -> None:
        batches, self._unwritten = self._unwritten[:count], self._unwritten[count:]
        self._write(batches)


def _recipient(member) -> dict:
    return {"p": member.person_id, "e": member.email, "n": member.name, "a": list(member.account_ids)}


def _in_language(title: dict, body: dict, language: str, default_language: str | None) -> dict:
    """The event's title and body in the batch's language, else the tenant's default, else any."""
    for candidate in (language, default_language, *sorted(title)):
        if candidate and candidate in title:
            return {"title": title[candidate], "body": body.get(candidate) or next(iter(body.values()), "")}
    return {"title": "", "body": next(iter(body.values()), "")}
