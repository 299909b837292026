"""Reads of a notice's audience, and the fan-out's batches and delivery records (issue 4 §3, §4).

Every read is a GetItem, BatchGetItem or Query (never a whole-table read); every write that changes two
items at once is one TransactWriteItems. docs/notices.md explains the flow."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Iterator, NamedTuple

from chalicelib.domain.errors import Conflict
from chalicelib.domain.mail import FAILED, QUEUED, SENDING, SENT
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem, MembershipItem, PersonItem
from chalicelib.models.mail import SuppressionItem
from chalicelib.models.notices import NoticeBatchItem, NoticeDeliveryItem, NoticeEventItem
from chalicelib.repositories import rows
from chalicelib.domain.errors import Contention
from chalicelib.repositories.items import get_item

ACTIVE = "active"
PLANNED = "planned"
TRANSACTION_ATTEMPTS = 5  # a TransactionConflict on the event's counters (busy item) is retried


class NotOurs(Contention):
    """The condition of a settle failed: the item is no longer in the state this write expects."""


class NotQueued(Conflict):
    """The batch a settle was to claim ahead is not queued (any more): the settle goes alone."""

    def __init__(self) -> None:
        super().__init__("The next batch is not queued.", "not_queued")


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


class Delivery(NamedTuple):
    """What happened to one recipient of a batch, as its delivery record will say."""

    recipient: dict
    status: str
    message_id: str | None
    detail: str | None


# A settle writes 50 records; building them from plain values skips a model instance each.
_delivery_record = rows.raw_writer(NoticeDeliveryItem, ["pk", "sk", "account_ids", "language", "status", "detail",
                                                        "queued_at", "updated_at", "email_key"])


class NoticeDeliveryRepository:
    def __init__(self, database):
        self._db = database

    # --- events -------------------------------------------------------------------------
    def event(self, tenant_id: str, notice_id: str, event_key: str) -> NoticeEventItem | None:
        return get_item(NoticeEventItem, keys.notice(tenant_id, notice_id), keys.notice_event(event_key))

    def fanning_events(self, before: str, limit: int) -> list[NoticeEventItem]:
        """Events whose fan-out has not finished, written before `before` (oldest first)."""
        return list(NoticeEventItem.by_pending.query(keys.NOTICE_EVENTS_FANNING, NoticeEventItem.pending_sk < before,
                                                     limit=limit))

    def finish_fanout(self, tenant_id: str, notice_id: str, event_key: str, figures: dict) -> None:
        """The event is planned: its figures set, out of the sweeper's sight."""
        NoticeEventItem(keys.notice(tenant_id, notice_id), keys.notice_event(event_key)).update(
            [NoticeEventItem.fanout.set(PLANNED), NoticeEventItem.pending_pk.remove(), NoticeEventItem.pending_sk.remove()]
            + [getattr(NoticeEventItem, name).set(value) for name, value in figures.items()],
            condition=NoticeEventItem.pk.exists())

    def fail_fanout(self, tenant_id: str, notice_id: str, event_key: str, detail: str) -> None:
        NoticeEventItem(keys.notice(tenant_id, notice_id), keys.notice_event(event_key)).update(
            [NoticeEventItem.fanout.set(FAILED), NoticeEventItem.fanout_detail.set(detail[:500]),
             NoticeEventItem.pending_pk.remove(), NoticeEventItem.pending_sk.remove()],
            condition=NoticeEventItem.pk.exists())

    # --- batches ------------------------------------------------------------------------
    def batches(self, tenant_id: str, notice_id: str, event_key: str) -> list[NoticeBatchItem]:
        return list(NoticeBatchItem.query(keys.notice_batches(tenant_id, notice_id),
                                          NoticeBatchItem.sk.startswith(f"{event_key}#"), consistent_read=True))

    def new_batch(self, tenant_id: str, notice_id: str, event_key: str, seq: int, language: str,
                  recipients: list[dict], now: str, account_names: dict | None = None) -> NoticeBatchItem:
        sk = keys.notice_batch(event_key, seq)
        return NoticeBatchItem(keys.notice_batches(tenant_id, notice_id), sk, tenant_id=tenant_id,
                               notice_id=notice_id, event_key=event_key, seq=seq, language=language,
                               recipients=recipients, accounts=account_names or {}, status=QUEUED, created_at=now,
                               updated_at=now,
                               pending_pk=keys.NOTICE_BATCHES_OPEN,
                               pending_sk=keys.due(now, tenant_id, notice_id, "#" + sk))

    def put_batches(self, items: list[NoticeBatchItem]) -> None:
        """One conditional transaction: a concurrent fan-out that planned any of the same batches
        makes it raise Contention, writing none (the message is retried; the retry recomputes)."""
        tx = self._db.transaction()
        for item in items:
            tx.put(item, condition=NoticeBatchItem.pk.does_not_exist(), error=Contention())
        tx.commit()

    def open_batches(self, before: str, limit: int) -> list[NoticeBatchItem]:
        """Batches not yet settled, planned before `before` (oldest first)."""
        return list(NoticeBatchItem.by_pending.query(keys.NOTICE_BATCHES_OPEN, NoticeBatchItem.pending_sk < before,
                                                     limit=limit))

    def claim(self, tenant_id: str, notice_id: str, batch_sk: str, attempt: str, now: str) -> NoticeBatchItem | None:
        """queued → sending for this attempt, in one UpdateItem that answers with the claimed batch
        (ReturnValues ALL_NEW); None when it is not queued (someone else has or had it, or it does
        not exist)."""
        item = NoticeBatchItem(keys.notice_batches(tenant_id, notice_id), batch_sk)
        claimed = self._conditional_update(item, _claim_actions(attempt, now), NoticeBatchItem.status == QUEUED)
        return item if claimed else None

    def suppressed_and_next(self, emails: list[str], upcoming: tuple[str, str, str] | None
                            ) -> tuple[dict[str, str], NoticeBatchItem | None]:
        """One BatchGetItem: which of `emails` are suppressed (email → reason), and the batch
        `upcoming` = (tenant_id, notice_id, batch_sk) names, whole (None when absent or not
        asked), so that this batch's settle can claim it (`settle_and_claim`)."""
        pairs = [(keys.suppression(email), keys.SUPPRESS_SK) for email in emails]
        upcoming_key = (keys.notice_batches(upcoming[0], upcoming[1]), upcoming[2]) if upcoming else None
        suppressed, batch = {}, None
        for raw in rows.batch_get_raw(SuppressionItem, pairs + ([upcoming_key] if upcoming_key else [])):
            if (raw["pk"]["S"], raw["sk"]["S"]) == upcoming_key:
                batch = NoticeBatchItem.from_raw_data(raw)
            else:
                suppressed[raw["email"]["S"]] = raw["reason"]["S"]
        return suppressed, batch

    def batches_by_key(self, batch_keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], NoticeBatchItem]:
        """The batches (tenant_id, notice_id, batch_sk) names, in one BatchGetItem (100 a request);
        missing ones are left out."""
        wanted = {(keys.notice_batches(tenant_id, notice_id), batch_sk): (tenant_id, notice_id, batch_sk)
                  for tenant_id, notice_id, batch_sk in batch_keys}
        return {wanted[(raw["pk"]["S"], raw["sk"]["S"])]: NoticeBatchItem.from_raw_data(raw)
                for raw in rows.batch_get_raw(NoticeBatchItem, list(wanted))}

    def release(self, batch: NoticeBatchItem, attempt: str, now: str) -> bool:
        """sending → queued: a transient error gives the batch back to the queue."""
        return self._conditional_update(NoticeBatchItem(batch.pk, batch.sk), [NoticeBatchItem.status.set(QUEUED),
                                                NoticeBatchItem.updated_at.set(now)],
                                        (NoticeBatchItem.status == SENDING) & (NoticeBatchItem.attempt == attempt))

    @staticmethod
    def _conditional_update(batch: NoticeBatchItem, actions: list, condition) -> bool:
        """PynamoDB's update asks for ALL_NEW and loads the answer into the instance given."""
        from pynamodb.exceptions import UpdateError

        try:
            batch.update(actions, condition=condition)
            return True
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise

    # --- delivery records ---------------------------------------------------------------
    def settle_batch(self, batch: NoticeBatchItem, attempt: str, status: str, deliveries: list[Delivery],
                     now: str) -> bool:
        """One TransactWriteItems of ≤ 52 items: the batch leaves `sending` (only the attempt that
        holds it may settle it), its recipients' delivery records are written and the event's
        counters move by their statuses — all or nothing, so a settled batch always has every
        record and an unsettled one none. False when the claim was no longer ours."""
        return _commit_unless_not_ours(self._settle_transaction(batch, attempt, status, deliveries, now))

    def settle_and_claim(self, batch: NoticeBatchItem, attempt: str, status: str, deliveries: list[Delivery],
                         now: str, upcoming: NoticeBatchItem, upcoming_attempt: str) -> tuple[bool, bool]:
        """`settle_batch`, and in the same transaction `upcoming` queued → sending for
        `upcoming_attempt` (the claim `claim` would make, one round trip saved). If `upcoming`
        is not queued, or its claim keeps colliding, the batch settles alone. Returns (settled,
        upcoming claimed)."""
        tx = self._settle_transaction(batch, attempt, status, deliveries, now)
        tx.update(NoticeBatchItem(upcoming.pk, upcoming.sk), _claim_actions(upcoming_attempt, now),
                  condition=NoticeBatchItem.status == QUEUED, error=NotQueued())
        try:
            settled = _commit_unless_not_ours(tx)
            return settled, settled
        except (NotQueued, Contention):
            return self.settle_batch(batch, attempt, status, deliveries, now), False

    def _settle_transaction(self, batch: NoticeBatchItem, attempt: str, status: str,
                            deliveries: list[Delivery], now: str):
        tx = self._db.transaction()
        tx.update(NoticeBatchItem(batch.pk, batch.sk),
                  [NoticeBatchItem.status.set(status), NoticeBatchItem.updated_at.set(now),
                   NoticeBatchItem.pending_pk.remove(), NoticeBatchItem.pending_sk.remove()],
                  condition=(NoticeBatchItem.status == SENDING) & (NoticeBatchItem.attempt == attempt),
                  error=NotOurs())
        pk = keys.notice_deliveries(batch.tenant_id, batch.notice_id)
        for delivery in deliveries:
            tx.put_raw(NoticeDeliveryItem, _delivery_record(
                pk=pk, sk=keys.notice_delivery(batch.event_key, delivery.recipient["p"]),
                account_ids=list(delivery.recipient.get("a") or []), language=batch.language, status=delivery.status,
                detail=delivery.detail[:500] if delivery.detail else None, queued_at=batch.created_at, updated_at=now,
                email_key=keys.SES_MESSAGE_PREFIX + delivery.message_id if delivery.message_id else None))
        counts = Counter(delivery.status for delivery in deliveries)
        actions = [getattr(NoticeEventItem, name).add(count) for name, count in sorted(counts.items())]
        if actions:
            tx.update(NoticeEventItem(keys.notice(batch.tenant_id, batch.notice_id), keys.notice_event(batch.event_key)),
                      actions)
        return tx

    # --- SES feedback -------------------------------------------------------------------
    def delivery_by_message(self, message_id: str) -> NoticeDeliveryItem | None:
        for item in NoticeDeliveryItem.by_ses_message.query(keys.SES_MESSAGE_PREFIX + message_id, limit=1):
            return item
        return None

    def record_feedback(self, delivery: NoticeDeliveryItem, status: str, detail: str, now: str) -> bool:
        """sent → bounced|complained with the event's counters (sent −1, status +1), in one
        transaction conditional on the delivery still being `sent`: a repeated notification
        changes nothing. False when it was no longer `sent`."""
        tx = self._db.transaction()
        tx.update(NoticeDeliveryItem(delivery.pk, delivery.sk),
                  [NoticeDeliveryItem.status.set(status), NoticeDeliveryItem.detail.set(detail),
                   NoticeDeliveryItem.updated_at.set(now)],
                  condition=NoticeDeliveryItem.status == SENT, error=NotOurs())
        tx.update(NoticeEventItem(keys.notice(delivery.tenant_id, delivery.notice_id),
                                  keys.notice_event(delivery.event_key)),
                  [NoticeEventItem.sent.add(-1), getattr(NoticeEventItem, status).add(1)])
        return _commit_unless_not_ours(tx)


def _claim_actions(attempt: str, now: str) -> list:
    return [NoticeBatchItem.status.set(SENDING), NoticeBatchItem.attempt.set(attempt), NoticeBatchItem.updated_at.set(now)]


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
