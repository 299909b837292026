"""Mail jobs and recipients, SES message ids, suppressed addresses."""
from __future__ import annotations

from chalicelib.domain.mail import LINK, QUEUED, SENDING, JobView, MailJob, RecipientState
from chalicelib.models import keys
from chalicelib.models.mail import MailJobItem, MailRecipientItem, SesMessageItem, SuppressionItem
from chalicelib.repositories import rows
from chalicelib.repositories.connection import table_connection
from chalicelib.domain.errors import Contention
from chalicelib.repositories.items import get_item, plain, query_page
from chalicelib.repositories.transaction import MAX_TRANSACTION_ITEMS


def to_state(item: MailRecipientItem) -> RecipientState:
    return RecipientState(key=item.sk, email=item.email, language=item.language, person_id=item.person_id,
                          data=plain(item.data), status=item.status, ses_message_id=item.ses_message_id,
                          detail=item.detail, updated_at=item.updated_at)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class MailRepository:
    def __init__(self, database):
        self._db = database

    # --- writing a job ----------------------------------------------------------------------
    def add_job(self, tx, job: MailJob, now: str) -> None:
        """Puts the job and one item per recipient into `tx`: the caller's transaction, so the
        mail is written together with the change that causes it (outbox)."""
        pk = keys.mail_job(job.tenant_id, job.job_id)
        tx.put(MailJobItem(pk, keys.JOB_SK, tenant_id=job.tenant_id, job_id=job.job_id, kind=job.kind,
                           data=job.data, account_id=job.account_id, created_at=now,
                           recipient_count=len(job.recipients), pending_pk=keys.PENDING_MAIL,
                           pending_sk=f"{now}#{job.tenant_id}#{job.job_id}"))
        for index, recipient in enumerate(job.recipients):
            tx.put(MailRecipientItem(pk, keys.recipient(index), email=recipient.email, person_id=recipient.person_id,
                                     language=recipient.language, data=recipient.data, status=QUEUED, updated_at=now))

    # --- reading ----------------------------------------------------------------------------
    def job(self, tenant_id: str, job_id: str) -> MailJobItem | None:
        return get_item(MailJobItem, keys.mail_job(tenant_id, job_id), keys.JOB_SK)

    def recipients(self, tenant_id: str, job_id: str) -> list[RecipientState]:
        return [to_state(item) for item in MailRecipientItem.query(
            keys.mail_job(tenant_id, job_id), MailRecipientItem.sk.startswith(keys.RECIPIENT_PREFIX),
            consistent_read=True)]

    def view(self, tenant_id: str, job_id: str, limit: int, cursor: str | None) -> tuple[JobView | None, str | None]:
        """The job with a page of its recipients. The first page is one Query of the job's
        partition (the job item sorts before its recipients); a later page reads the job and
        Queries on from the cursor."""
        pk = keys.mail_job(tenant_id, job_id)
        if cursor is None:
            item, rows, next_cursor = self._first_page(pk, limit)
        else:
            item = self.job(tenant_id, job_id)
            rows, next_cursor = query_page(MailRecipientItem.query, "pk", pk, limit, cursor,
                                           range_key_condition=MailRecipientItem.sk.startswith(keys.RECIPIENT_PREFIX))
        if item is None:
            return None, None
        view = JobView(tenant_id=tenant_id, job_id=job_id, kind=item.kind, account_id=item.account_id,
                       created_at=item.created_at, data=plain(item.data), recipients=[to_state(row) for row in rows])
        return view, next_cursor

    @staticmethod
    def _first_page(pk: str, limit: int) -> tuple[MailJobItem | None, list[MailRecipientItem], str | None]:
        from chalicelib.repositories import cursor as cursors

        answer = table_connection(MailJobItem).query(  # raw items: the partition holds two models
            pk, range_key_condition=MailJobItem.sk.between(keys.JOB_SK, f"{keys.RECIPIENT_PREFIX}~"),
            consistent_read=True, limit=limit + 1)
        job, recipients = None, []
        for raw in answer.get("Items", []):
            if raw["sk"]["S"] == keys.JOB_SK:
                job = MailJobItem.from_raw_data(raw)
            elif raw["sk"]["S"].startswith(keys.RECIPIENT_PREFIX):
                recipients.append(MailRecipientItem.from_raw_data(raw))
        return job, recipients, cursors.encode(answer.get("LastEvaluatedKey"))

    def pending_jobs(self, created_before: str, limit: int) -> list[tuple[str, str]]:
        items = MailJobItem.by_pending.query(keys.PENDING_MAIL, MailJobItem.pending_sk < created_before, limit=limit)
        return [(item.tenant_id, item.job_id) for item in items]

    def suppressed(self, emails: list[str]) -> dict[str, str]:
        if not emails:
            return {}
        found = SuppressionItem.batch_get([(keys.suppression(e), keys.SUPPRESS_SK) for e in set(emails)])
        return {item.email: item.reason for item in found}

    def suppression_list(self, limit: int) -> dict[str, str] | None:
        """Every suppressed address (address → reason) if there are at most `limit`: one Query of
        the SUPPRESSED list (a page holds thousands). None if there are more: check addresses
        one by one (`suppressed`) then."""
        listed = {}
        for row in rows.query(SuppressionItem, keys.SUPPRESSED_LIST, ["email", "reason"],
                              index_name=SuppressionItem.by_list.Meta.index_name, limit=limit + 1):
            listed[row.email] = row.reason
            if len(listed) > limit:
                return None
        return listed

    def message(self, message_id: str):
        """The SES message map's item: a job recipient's (SesMessageItem) or a notice delivery's
        (NoticeMessageItem, `pipeline` = notice); None when the message is not Roster's."""
        from chalicelib.models.notices import NoticeMessageItem

        raw = table_connection(SesMessageItem).get_item(keys.ses_message(message_id), keys.SES_SK,
                                                        consistent_read=True).get("Item")
        if raw is None:
            return None
        model = NoticeMessageItem if raw.get("pipeline", {}).get("S") == "notice" else SesMessageItem
        return model.from_raw_data(raw)

    # --- delivery state ---------------------------------------------------------------------
    def claim(self, tenant_id: str, job_id: str, recipient_keys: list[str], attempt: str, now: str) -> list[str]:
        """Marks queued recipients `sending` for this attempt; returns the keys it got.

        The claim comes before the send, so a redelivered message or a second worker never
        sends to a recipient twice, even when a worker dies after SES accepted its mail.
        """
        pk, claimed = keys.mail_job(tenant_id, job_id), []
        for chunk in _chunks(recipient_keys, MAX_TRANSACTION_ITEMS):
            tx = self._db.transaction()
            for key in chunk:
                tx.update(MailRecipientItem(pk, key), [MailRecipientItem.status.set(SENDING),
                          MailRecipientItem.attempt.set(attempt), MailRecipientItem.updated_at.set(now)],
                          condition=MailRecipientItem.status == QUEUED, error=Contention())
            try:
                tx.commit()
                claimed += chunk
            except Contention:  # someone else holds some of them: claim one by one
                claimed += [key for key in chunk if self._claim_one(pk, key, attempt, now)]
        return claimed

    def _claim_one(self, pk: str, key: str, attempt: str, now: str) -> bool:
        from pynamodb.exceptions import UpdateError

        try:
            MailRecipientItem(pk, key).update(
                [MailRecipientItem.status.set(SENDING), MailRecipientItem.attempt.set(attempt),
                 MailRecipientItem.updated_at.set(now)], condition=MailRecipientItem.status == QUEUED)
            return True
        except UpdateError:
            return False

    def settle(self, tenant_id: str, job_id: str, outcomes: list[tuple[RecipientState, str, str | None, str | None]],
               now: str) -> None:
        """Records (recipient, status, ses_message_id, detail) outcomes, with the SES message
        map for sent ones, in transactions of up to 100 items.

        A settled recipient is never sent again, so the link it carried (an invitation's bearer
        token) leaves its item in the same write, whatever the outcome."""
        pk, writes = keys.mail_job(tenant_id, job_id), []
        for recipient, status, message_id, detail in outcomes:
            actions = [MailRecipientItem.status.set(status), MailRecipientItem.updated_at.set(now)]
            if LINK in recipient.data:
                actions.append(MailRecipientItem.data[LINK].remove())
            if message_id:
                actions.append(MailRecipientItem.ses_message_id.set(message_id))
            if detail:
                actions.append(MailRecipientItem.detail.set(detail[:500]))
            group = [("update", MailRecipientItem(pk, recipient.key), actions, None)]
            if message_id:
                group.append(("put", SesMessageItem(keys.ses_message(message_id), keys.SES_SK, tenant_id=tenant_id,
                                                    job_id=job_id, recipient=recipient.key,
                                                    person_id=recipient.person_id, email=recipient.email), None, None))
            writes.append(group)
        tx, size = self._db.transaction(), 0
        for group in writes:
            if size + len(group) > MAX_TRANSACTION_ITEMS:
                tx.commit()
                tx, size = self._db.transaction(), 0
            for kind, item, actions, condition in group:
                tx.update(item, actions, condition=condition) if kind == "update" else tx.put(item)
            size += len(group)
        tx.commit()

    def release(self, tenant_id: str, job_id: str, recipient_keys: list[str], attempt: str, now: str) -> None:
        """Gives recipients of a failed attempt back to the queue (a transient error)."""
        pk = keys.mail_job(tenant_id, job_id)
        for chunk in _chunks(recipient_keys, MAX_TRANSACTION_ITEMS):
            tx = self._db.transaction()
            for key in chunk:
                tx.update(MailRecipientItem(pk, key), [MailRecipientItem.status.set(QUEUED),
                          MailRecipientItem.updated_at.set(now)], condition=MailRecipientItem.attempt == attempt)
            tx.commit()

    def finish(self, tenant_id: str, job_id: str) -> None:
        """The job has no queued recipient left: the sweeper stops looking at it."""
        MailJobItem(keys.mail_job(tenant_id, job_id), keys.JOB_SK).update(
            [MailJobItem.pending_pk.remove(), MailJobItem.pending_sk.remove()])

    def set_status(self, tenant_id: str, job_id: str, recipient_key: str, status: str, detail: str, now: str) -> None:
        MailRecipientItem(keys.mail_job(tenant_id, job_id), recipient_key).update(
            [MailRecipientItem.status.set(status), MailRecipientItem.detail.set(detail[:500]),
             MailRecipientItem.updated_at.set(now)])

    def suppress(self, email: str, reason: str, now: str) -> None:
        SuppressionItem(keys.suppression(email), keys.SUPPRESS_SK, email=email, reason=reason, since=now,
                        list_pk=keys.SUPPRESSED_LIST, list_sk=email).save()
