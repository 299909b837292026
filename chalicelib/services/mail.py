"""The mail pipeline: outbox jobs written with the change that causes them, a queue worker that
sends each recipient at most once, a sweeper for jobs that never reached the queue, and SES
feedback (bounces, complaints) that stops mail to bad addresses."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from chalicelib.adapters.clock import iso
from chalicelib.adapters.ses import BULK_LIMIT, PermanentMailError, TransientMailError
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import new_id
from chalicelib.domain.mail import (
    FAILED, QUEUED, SENDING, SENT, SETTLED, SUPPRESSED, JobView, MailJob, Recipient,
)
from chalicelib.repositories.items import plain
from chalicelib.mail.catalog import BRANDING_DEFAULTS, pick_language, template_name
from chalicelib.services.claims import GAVE_UP, UNCONFIRMED, new_attempt, stale_before
from chalicelib.services.tenants import may_send_from

SWEEP_AFTER = timedelta(minutes=2)

AfterSent = Callable[[str, dict, object], None]


def tenant_branding(tenant, mail_domain: str, own_sender: bool) -> tuple[dict, tuple[str, str], list[str]]:
    """The branding (T5) every template gets, the sender (T3: display name, address) and the
    reply-to addresses. The mailer builds the From header from the sender (adapters/ses.py).

    Unless the tenant may send from its own address (`tenants.may_send_from`), mail goes out as
    "<brand> <no-reply@domain>"."""
    settings = tenant.settings if tenant else {}
    # The API's branding.logo_url is the templates' brand_logo_url (the other names are equal).
    branding = {**BRANDING_DEFAULTS, **{("brand_logo_url" if k == "logo_url" else k): v
                                        for k, v in (settings.get("branding") or {}).items() if v}}
    if tenant and not (settings.get("branding") or {}).get("brand_name"):
        branding["brand_name"] = tenant.name
    sender = settings.get("sender") or {}
    address = sender["address"] if own_sender else f"no-reply@{mail_domain}"
    reply_to = [sender["reply_to"]] if sender.get("reply_to") else []
    return branding, (branding["brand_name"], address), reply_to


class MailService:
    def __init__(self, database, clock, mailer, job_queue, mail_domain: str, logger):
        self._db = database
        self._repo = database.mail
        self._clock = clock
        self._mailer = mailer
        self._queue = job_queue
        self._domain = mail_domain
        self._log = logger
        self._after_sent: dict[str, AfterSent] = {}

    def on_sent(self, kind: str, callback: AfterSent) -> None:
        """Registers what follows a sent mail of `kind` (e.g. an invitation becomes `invited`).
        The callback must be idempotent: a retried job may call it again."""
        self._after_sent[kind] = callback

    # --- request side ------------------------------------------------------------------------
    def add(self, tx, tenant_id: str, kind: str, recipients: list[Recipient], data: dict | None = None,
            account_id: str | None = None) -> MailJob:
        """Writes a mail job into the caller's transaction. Call `dispatch` after the commit."""
        job = MailJob(tenant_id=tenant_id, job_id=new_id("job"), kind=kind, recipients=tuple(recipients),
                      data=data or {}, account_id=account_id, created_at=self._clock.now_iso())
        self._repo.add_job(tx, job, job.created_at)
        return job

    def dispatch(self, job: MailJob) -> None:
        """Hands a committed job to the queue. A failure here loses nothing: the sweeper
        re-queues every job still pending after SWEEP_AFTER."""
        try:
            self._queue.send(job.tenant_id, job.job_id)
        except Exception:  # the job is safe in DynamoDB; the sweeper will send it
            self._log.warning("mail job not queued; the sweeper will", extra={"job_id": job.job_id})

    def view(self, tenant_id: str, job_id: str, limit: int, cursor: str | None) -> tuple[JobView, str | None]:
        view, next_cursor = self._repo.view(tenant_id, job_id, limit, cursor)
        if view is None:
            raise NotFound("Mail job")
        return view, next_cursor

    # --- worker ------------------------------------------------------------------------------
    def process(self, tenant_id: str, job_id: str, last_attempt: bool = False) -> None:
        """Sends the job's queued recipients: suppressed addresses are skipped, the rest are
        claimed (so nobody gets it twice), sent in bulk per language, and settled.

        A transient SES error puts the claimed recipients back and raises (SQS retries); a
        permanent one fails them. On the queue's last attempt anything left is marked failed
        before the error goes on to the dead-letter queue."""
        job = self._repo.job(tenant_id, job_id)
        if job is None:
            self._log.warning("mail job not found", extra={"job_id": job_id})
            return
        now = self._clock.now_iso()
        recipients = self._repo.recipients(tenant_id, job_id)
        self._settle_stale_claims(tenant_id, job_id, recipients)
        queued = [r for r in recipients if r.status == QUEUED]
        if queued:
            suppressed = self._repo.suppressed([r.email for r in queued])
            if suppressed:
                self._repo.settle(tenant_id, job_id, [(r, SUPPRESSED, None, suppressed[r.email])
                                                      for r in queued if r.email in suppressed], now)
            queued = [r for r in queued if r.email not in suppressed]
        if queued:
            try:
                self._send(job, queued)
            except TransientMailError:
                if last_attempt:
                    self._fail_open(tenant_id, job_id, GAVE_UP)
                raise
        self._finish_if_settled(tenant_id, job_id)

    def _send(self, job, queued) -> None:
        tenant = self._db.tenants.get(job.tenant_id)
        settings = tenant.settings if tenant else {}
        branding, sender, reply_to = tenant_branding(tenant, self._domain, may_send_from(tenant))
        account = self._db.accounts.get(job.tenant_id, job.account_id) if job.account_id else None
        context = {"account_id": job.account_id or "", "account_name": (account.name if account else "") or "",
                   "portal_url": (settings.get("welcome_mail") or {}).get("portal_url", "")}
        default_language = tenant.default_language if tenant else None
        attempt, now = new_attempt(), self._clock.now_iso()
        claimed = set(self._repo.claim(job.tenant_id, job.job_id, [r.key for r in queued], attempt, now))
        by_template: dict[str, list] = {}
        for recipient in queued:
            if recipient.key in claimed:
                language = pick_language(recipient.language, account.language if account else None,
                                         default_language)
                by_template.setdefault(template_name(job.kind, language), []).append(recipient)
        default_data = {**branding, **context,
                        **plain(job.data)}
        for template, group in by_template.items():
            for start in range(0, len(group), BULK_LIMIT):
                batch = group[start:start + BULK_LIMIT]
                try:
                    outcomes = self._mailer.send(sender, reply_to, template, default_data,
                                                 [(r.email, r.data) for r in batch])
                except TransientMailError:
                    self._repo.release(job.tenant_id, job.job_id, [r.key for r in group[start:]], attempt,
                                       self._clock.now_iso())
                    raise
                except PermanentMailError as exc:
                    self._repo.settle(job.tenant_id, job.job_id, [(r, FAILED, None, str(exc)) for r in batch],
                                      self._clock.now_iso())
                    continue
                results = [(r, SENT if o.ok else FAILED, o.message_id, o.error) for r, o in zip(batch, outcomes)]
                self._repo.settle(job.tenant_id, job.job_id, results, self._clock.now_iso())
                self._run_after_sent(job, [r for r, status, _, _ in results if status == SENT])

    def _run_after_sent(self, job, sent: list) -> None:
        callback = self._after_sent.get(job.kind)
        if callback is None:
            return
        data = plain(job.data)
        for recipient in sent:
            callback(job.tenant_id, data, recipient)

    def _settle_stale_claims(self, tenant_id: str, job_id: str, recipients) -> None:
        """A claim older than any worker can live means the worker died between claim and
        settle. Its mail may or may not have gone out; it is not sent again (at most once)."""
        cutoff = stale_before(self._clock)
        stale = [r for r in recipients if r.status == SENDING and r.updated_at < cutoff]
        if stale:
            self._repo.settle(tenant_id, job_id, [(r, FAILED, None, UNCONFIRMED) for r in stale], self._clock.now_iso())

    def _fail_open(self, tenant_id: str, job_id: str, detail: str) -> None:
        open_ = [r for r in self._repo.recipients(tenant_id, job_id) if r.status == QUEUED]
        self._repo.settle(tenant_id, job_id, [(r, FAILED, None, detail) for r in open_], self._clock.now_iso())

    def _finish_if_settled(self, tenant_id: str, job_id: str) -> None:
        if all(r.status in SETTLED for r in self._repo.recipients(tenant_id, job_id)):
            self._repo.finish(tenant_id, job_id)

    # --- sweeper -----------------------------------------------------------------------------
    def sweep(self, limit: int = 100) -> int:
        """Re-queues jobs still pending SWEEP_AFTER after they were written (their dispatch
        failed, or their worker died). Sending twice is harmless: recipients are claimed."""
        cutoff = iso(self._clock.now() - SWEEP_AFTER)
        pending = self._repo.pending_jobs(cutoff, limit)
        for tenant_id, job_id in pending:
            self._queue.send(tenant_id, job_id)
        return len(pending)

    # --- SES feedback ------------------------------------------------------------------------
    def record_feedback(self, message, status: str, kind: str, addresses: list[str]) -> None:
        """A bounce or complaint about a job's mail (`message`: its SES message map item): the
        recipient shows it and the person is flagged. The address is already suppressed."""
        if message.email not in addresses:
            return
        self._repo.set_status(message.tenant_id, message.job_id, message.recipient, status, f"SES {kind.lower()}",
                              self._clock.now_iso())
        if message.person_id:
            self._db.people.mark_undeliverable(message.tenant_id, message.person_id, status)
