"""Reads of a notice's audience, and the fan-out's batches, their states and the SES message map
(docs/notices.md).

Every read is a GetItem, BatchGetItem or Query (never a whole-table read); every write that changes two
items at once is one TransactWriteItems. docs/notices.md explains the flow and the write budget."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Iterator

from chalicelib.domain.mail import FAILED, SENDING, SENT
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem, MembershipItem, PersonItem
from chalicelib.models.notices import (
    NoticeBatchesHeadItem, NoticeBatchItem, NoticeBatchStateItem, NoticeEventItem, NoticeItem, NoticeMessageItem,
)
from chalicelib.repositories import rows
from chalicelib.repositories.connection import table_connection
from chalicelib.domain.errors import Contention
from chalicelib.repositories.items import get_item

ACTIVE = "active"
PLANNED = "planned"
TRANSACTION_ATTEMPTS = 5  # a TransactionConflict on the event's counters (busy item) is retried


class NotOurs(Contention):
    """The condition of a settle failed: the item is no longer in the state this write expects."""


# Only what the audience needs is read (a ProjectionExpression): less to read and to transfer.
ACCOUNT_FIELDS = ["account_id", "status", "name", "language", "technical_contact_id", "administrative_contact_id"]
MEMBERSHIP_FIELDS = ["account_id", "person_id", "status", "notifications", "undeliverable"]
PERSON_FIELDS = ["person_id", "email", "first_name", "last_name", "language", "undeliverable"]


class AudienceReads:
    """The accounts, memberships and people a notice's audience is computed from, page by page,
    as light rows of the projected fields (repositories/rows.py)."""

    def active_accounts(self, tenant_id: str) -> Iterator[SimpleNamespace]:
        """Every active account of the tenant: the by_status partition, one Query a page."""
        return rows.query(AccountItem, keys.accounts_by_status(tenant_id, ACTIVE), ACCOUNT_FIELDS,
                          index_name=AccountItem.by_status.Meta.index_name)

    def active_memberships(self, tenant_id: str) -> Iterator[SimpleNamespace]:
        """Every active membership of the tenant (the by_list members partition), one Query a page."""
        return rows.query(MembershipItem, keys.members_list(tenant_id), MEMBERSHIP_FIELDS,
                          index_name=MembershipItem.by_list.Meta.index_name,
                          filter_condition=MembershipItem.status == ACTIVE)

    def accounts(self, tenant_id: str, account_ids: list[str]) -> list[SimpleNamespace]:
        """BatchGetItem, 100 a request; missing ones are left out."""
        return rows.batch_get(AccountItem, [(keys.account(tenant_id, a), keys.ACCOUNT_SK) for a in account_ids],
                              ACCOUNT_FIELDS)

    def people(self, tenant_id: str, person_ids: list[str]) -> list[SimpleNamespace]:
        """BatchGetItem, 100 a request; erased people are left out."""
        return rows.batch_get(PersonItem, [(keys.person(tenant_id, p), keys.PERSON_SK) for p in person_ids],
                              PERSON_FIELDS)

    def active_memberships_of(self, tenant_id: str, account_id: str) -> Iterator[SimpleNamespace]:
        return rows.query(MembershipItem, keys.account(tenant_id, account_id), MEMBERSHIP_FIELDS,
                          range_key_condition=MembershipItem.sk.startswith(keys.MEMBER_PREFIX),
                          filter_condition=MembershipItem.status == ACTIVE)


STATE_SUFFIX = "#S"


def state_key(batch_sk: str) -> str:
    return batch_sk + STATE_SUFFIX


def batch_pairs(pk: str, first_sk: str, last_sk: str, page_size: int | None = None, head: bool = False):
    """(plan, state) pairs whose plan sk lies in [first_sk, last_sk], in order, read as needed.
    The partition's head (written at publishing) is left out, or with `head` yielded as
    (None, None) when the range holds it."""
    connection = table_connection(NoticeBatchItem)
    start, plan = None, None
    condition = NoticeBatchItem.sk.between(first_sk, last_sk)
    while True:
        answer = connection.query(pk, range_key_condition=condition, consistent_read=True,
                                  exclusive_start_key=start, limit=page_size)
        for raw in answer.get("Items", []):
            if raw["sk"]["S"] == keys.NOTICE_BATCHES_HEAD:
                if head:
                    yield None, None
                continue
            if raw["sk"]["S"].endswith(STATE_SUFFIX):
                if plan is not None and state_key(plan.sk) == raw["sk"]["S"]:
                    yield plan, NoticeBatchStateItem.from_raw_data(raw)
                    plan = None
                continue
            if plan is not None:
                yield plan, None
            plan = NoticeBatchItem.from_raw_data(raw)
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    if plan is not None:
        yield plan, None


class NoticeDeliveryRepository:
    def __init__(self, database):
        self._db = database

    def batch_rows(self, tenant_id: str, notice_id: str, first_sk: str, last_sk: str, page_size: int):
        """(batch sk, its recipients as delivery rows) for the batches in [first_sk, last_sk], in
        order; a recipient is `queued` until the batch's state is settled. The head, when the
        range holds it, comes first as a batch without rows: the notice was published."""
        pk = keys.notice_batches(tenant_id, notice_id)
        for plan, state in batch_pairs(pk, first_sk, last_sk, page_size, head=True):
            yield (plan.sk, _delivery_rows(plan, state)) if plan else (keys.NOTICE_BATCHES_HEAD, [])

    def add_head(self, tx, tenant_id: str, notice_id: str, published_at: str) -> None:
        """Puts into `tx` (the publication's) the head of the notice's batches partition."""
        tx.put(NoticeBatchesHeadItem(keys.notice_batches(tenant_id, notice_id), keys.NOTICE_BATCHES_HEAD,
                                     tenant_id=tenant_id, notice_id=notice_id, published_at=published_at))

    # --- events -------------------------------------------------------------------------
    def event(self, tenant_id: str, notice_id: str, event_key: str) -> NoticeEventItem | None:
        return get_item(NoticeEventItem, keys.notice(tenant_id, notice_id), keys.notice_event(event_key))

    def fanning_events(self, before: str, limit: int) -> list[NoticeEventItem]:
        """Events whose fan-out has not finished, written before `before` (oldest first)."""
        return list(NoticeEventItem.by_pending.query(keys.NOTICE_EVENTS_FANNING, NoticeEventItem.pending_sk < before,
                                                     limit=limit))

    def finish_fanout(self, tenant_id: str, notice_id: str, event_key: str, figures: dict, last_due: str,
                      coverage: dict | None = None) -> None:
        """One transaction: the event is planned (its figures set, out of the fan-out sweep's
        sight, in the sending sweep's: NOTICE#SENDING after `last_due`, while it has batches),
        and a publication's coverage is stored on the notice."""
        pk = keys.notice(tenant_id, notice_id)
        pending = ([NoticeEventItem.pending_pk.set(keys.NOTICE_EVENTS_SENDING),
                    NoticeEventItem.pending_sk.set(keys.due(last_due, tenant_id, notice_id, "#" + event_key))]
                   if figures.get("batches") else
                   [NoticeEventItem.pending_pk.remove(), NoticeEventItem.pending_sk.remove()])
        tx = self._db.transaction()
        tx.update(NoticeEventItem(pk, keys.notice_event(event_key)), [NoticeEventItem.fanout.set(PLANNED)] + pending
                  + [getattr(NoticeEventItem, name).set(value) for name, value in figures.items()],
                  condition=NoticeEventItem.pk.exists())
        if coverage is not None:
            tx.update(NoticeItem(pk, keys.NOTICE_SK), [NoticeItem.coverage.set(coverage)],
                      condition=NoticeItem.pk.exists())
        tx.commit()

    def fail_fanout(self, tenant_id: str, notice_id: str, event_key: str, detail: str) -> None:
        NoticeEventItem(keys.notice(tenant_id, notice_id), keys.notice_event(event_key)).update(
            [NoticeEventItem.fanout.set(FAILED), NoticeEventItem.fanout_detail.set(detail[:500]),
             NoticeEventItem.pending_pk.remove(), NoticeEventItem.pending_sk.remove()],
            condition=NoticeEventItem.pk.exists())

    def sending_events(self, before: str, limit: int) -> list[NoticeEventItem]:
        """Events with batches not all settled whose last batch was due before `before`."""
        return list(NoticeEventItem.by_pending.query(keys.NOTICE_EVENTS_SENDING,
                                                     NoticeEventItem.pending_sk < before, limit=limit))

    def done_sending(self, event: NoticeEventItem) -> None:
        """Every batch of the event is settled: out of the sending sweep's sight."""
        NoticeEventItem(event.pk, event.sk).update([NoticeEventItem.pending_pk.remove(),
                                                    NoticeEventItem.pending_sk.remove()])

    # --- batches ------------------------------------------------------------------------
    def batches(self, tenant_id: str, notice_id: str, event_key: str, from_seq: int = 1
                ) -> list[tuple[NoticeBatchItem, NoticeBatchStateItem | None]]:
        """The event's batches from `from_seq` on, each with its state (None: queued); one Query
        a page, plans and states side by side."""
        return list(batch_pairs(keys.notice_batches(tenant_id, notice_id), keys.notice_batch(event_key, from_seq),
                                f"{event_key}#~"))

    def new_batch(self, tenant_id: str, notice_id: str, event_key: str, seq: int, language: str,
                  recipients: list[dict], now: str, account_names: dict | None = None,
                  send_at: str | None = None) -> NoticeBatchItem:
        return NoticeBatchItem(keys.notice_batches(tenant_id, notice_id), keys.notice_batch(event_key, seq),
                               tenant_id=tenant_id, notice_id=notice_id, event_key=event_key, seq=seq,
                               language=language, recipients=recipients, accounts=account_names or {},
                               created_at=now, send_at=send_at or now)

    def put_batches(self, items: list[NoticeBatchItem]) -> None:
        """A conditional PutItem each (not a transaction: a plan is kilobytes, and a transaction
        bills twice): a concurrent fan-out that planned the same batch makes it raise
        Contention; the message is retried and the retry reads what was written."""
        from pynamodb.exceptions import PutError

        for item in items:
            try:
                item.save(condition=NoticeBatchItem.pk.does_not_exist(), add_version_condition=False)
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    raise Contention() from exc
                raise

    def batch(self, tenant_id: str, notice_id: str, batch_sk: str) -> NoticeBatchItem | None:
        return get_item(NoticeBatchItem, keys.notice_batches(tenant_id, notice_id), batch_sk)

    def batch_of(self, state: NoticeBatchStateItem) -> NoticeBatchItem | None:
        return get_item(NoticeBatchItem, state.pk, state.sk.removesuffix(STATE_SUFFIX))

    def state(self, tenant_id: str, notice_id: str, batch_sk: str) -> NoticeBatchStateItem | None:
        return get_item(NoticeBatchStateItem, keys.notice_batches(tenant_id, notice_id), state_key(batch_sk))

    def claim(self, tenant_id: str, notice_id: str, batch_sk: str, attempt: str, now: str) -> bool:
        """queued → sending for this attempt: a PutItem of the batch's state on the condition that it
        has none. False when it has one (someone else has or had the batch)."""
        from pynamodb.exceptions import PutError

        item = NoticeBatchStateItem(keys.notice_batches(tenant_id, notice_id), state_key(batch_sk), status=SENDING,
                                    attempt=attempt, updated_at=now, pending_pk=keys.NOTICE_BATCHES_OPEN,
                                    pending_sk=keys.due(now, tenant_id, notice_id, "#" + batch_sk))
        try:
            item.save(condition=NoticeBatchStateItem.pk.does_not_exist(), add_version_condition=False)
            return True
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def release(self, batch: NoticeBatchItem, attempt: str) -> bool:
        """sending → queued (the state goes): a transient error gives the batch back to the queue.
        Only the attempt that holds it may."""
        from pynamodb.exceptions import DeleteError

        try:
            NoticeBatchStateItem(batch.pk, state_key(batch.sk)).delete(
                condition=(NoticeBatchStateItem.status == SENDING) & (NoticeBatchStateItem.attempt == attempt),
                add_version_condition=False)
            return True
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    def stale_claims(self, before: str, limit: int) -> list[NoticeBatchStateItem]:
        """States still `sending` since before `before` (oldest first)."""
        return list(NoticeBatchStateItem.by_pending.query(keys.NOTICE_BATCHES_OPEN,
                                                          NoticeBatchStateItem.pending_sk < before, limit=limit))

    def save_messages(self, batch: NoticeBatchItem, sent: list[tuple[str, str]]) -> None:
        """The SES message map of a batch's accepted mails, (message id, person id) each: one
        BatchWriteItem of 25 (idempotent puts; PynamoDB asks again for unprocessed items)."""
        with NoticeMessageItem.batch_write() as writer:
            for message_id, person_id in sent:
                writer.save(NoticeMessageItem(keys.ses_message(message_id), keys.SES_SK, tenant_id=batch.tenant_id,
                                              notice_id=batch.notice_id, batch=batch.sk, person_id=person_id))

    # --- settling -----------------------------------------------------------------------
    def settle(self, batch: NoticeBatchItem, attempt: str, status: str, outcomes: dict, now: str) -> bool:
        """One TransactWriteItems of two small items: the batch's state leaves `sending` with every
        recipient's outcome (only the attempt that holds it may settle it), and the event's
        counters move by the outcomes' statuses. False when the claim was no longer ours."""
        tx = self._db.transaction()
        tx.update(NoticeBatchStateItem(batch.pk, state_key(batch.sk)),
                  [NoticeBatchStateItem.status.set(status), NoticeBatchStateItem.outcomes.set(outcomes),
                   NoticeBatchStateItem.updated_at.set(now), NoticeBatchStateItem.pending_pk.remove(),
                   NoticeBatchStateItem.pending_sk.remove()],
                  condition=(NoticeBatchStateItem.status == SENDING) & (NoticeBatchStateItem.attempt == attempt),
                  error=NotOurs())
        counts = Counter(outcome[0] for outcome in outcomes.values())
        actions = [getattr(NoticeEventItem, name).add(count) for name, count in sorted(counts.items())]
        if actions:
            tx.update(NoticeEventItem(keys.notice(batch.tenant_id, batch.notice_id), keys.notice_event(batch.event_key)),
                      actions)
        return _commit_unless_not_ours(tx)

    # --- SES feedback -------------------------------------------------------------------
    def record_feedback(self, message: NoticeMessageItem, status: str, detail: str, now: str) -> bool:
        """The delivery sent → bounced|complained in its batch's state, with the event's counters
        (sent −1, status +1), in one transaction conditional on the state's version: a repeated
        notification changes nothing. False when the delivery is not `sent` (any more)."""
        pk = keys.notice_batches(message.tenant_id, message.notice_id)
        for _ in range(TRANSACTION_ATTEMPTS):
            state = get_item(NoticeBatchStateItem, pk, state_key(message.batch))
            outcome = (state.outcomes or {}).get(message.person_id) if state is not None else None
            if outcome is None or outcome[0] != SENT:
                return False
            outcomes = {**state.outcomes, message.person_id: [status, outcome[1], detail]}
            event_key = keys.event_of_batch(message.batch)
            tx = self._db.transaction()
            tx.update(NoticeBatchStateItem(pk, state.sk),
                      [NoticeBatchStateItem.outcomes.set(outcomes), NoticeBatchStateItem.version.add(1),
                       NoticeBatchStateItem.updated_at.set(now)],
                      condition=NoticeBatchStateItem.version == state.version, error=NotOurs())
            tx.update(NoticeEventItem(keys.notice(message.tenant_id, message.notice_id), keys.notice_event(event_key)),
                      [NoticeEventItem.sent.add(-1), getattr(NoticeEventItem, status).add(1)])
            if _commit_unless_not_ours(tx):
                return True
        return False


def _commit_unless_not_ours(tx) -> bool:
    """Commits; False when a condition failed. Many batches settle into the same event item at
    once, so a TransactionConflict (another transaction on it) is retried with a short pause."""
    import random
    import time

    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            tx.commit()
            return True
        except NotOurs:
            return False
        except Contention:
            if attempt == TRANSACTION_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))
    return False


def _delivery_rows(plan: NoticeBatchItem, state: NoticeBatchStateItem | None) -> list[dict]:
    settled = state is not None and state.status != "sending"
    outcomes = (state.outcomes or {}) if settled else {}
    rows = []
    for r in plan.recipients:
        outcome = outcomes.get(r["p"]) or ["queued", None, None]
        rows.append({"event_key": plan.event_key, "person_id": r["p"], "account_ids": list(r.get("a") or ()),
                     "language": plan.language, "status": outcome[0], "detail": outcome[2],
                     "ses_message_id": outcome[1], "queued_at": plan.created_at,
                     "updated_at": state.updated_at if settled else plan.created_at})
    return rows
