"""Notice items: the notice, one item per mailed event (its content snapshot, fan-out
state and delivery figures), the batches of ≤ 50 recipients the fan-out plans, and one delivery
state per batch (the recipients' outcomes), and the SES message map of notice mails.
docs/notices.md explains the flow."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models.base import PackedJSONAttribute, RosterModel, index_meta
from chalicelib.repositories.connection import register


class NoticeList(GlobalSecondaryIndex):
    Meta = index_meta("by_list")
    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class NoticeStatus(GlobalSecondaryIndex):
    Meta = index_meta("by_status")
    status_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class Pending(GlobalSecondaryIndex):
    """The shared sparse by_pending index: what the schedules must look at, by moment."""

    Meta = index_meta("by_pending")
    pending_pk = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)


class NoticeItem(RosterModel):
    """pk T#<tid>#N#<notice_id>, sk NOTICE. list_sk = <starts_at>#<notice_id> (lists by time)."""

    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    type = UnicodeAttribute()
    severity = UnicodeAttribute()
    status = UnicodeAttribute()
    title = MapAttribute(default=dict)       # language -> text
    body = MapAttribute(default=dict)        # language -> text
    affected = MapAttribute(default=dict)    # {"all": true} | {"account_ids": [...]}
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    reminders = ListAttribute(of=NumberAttribute, default=list)  # minutes before starts_at
    steps = MapAttribute(default=dict)       # maintenance plan: step key -> {at, state}
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    published_at = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    event_count = NumberAttribute(default=0)
    update_count = NumberAttribute(default=0)
    coverage = MapAttribute(null=True)       # affected_accounts, recipients, unreached_accounts, ...
    language = UnicodeAttribute(null=True)  # the tenant's default language when it was created
    list_pk = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    status_pk = UnicodeAttribute()
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    by_list = NoticeList()
    by_status = NoticeStatus()
    by_due = Pending()


class NoticeEventItem(RosterModel):
    """pk T#<tid>#N#<notice_id>, sk E#<event_key>: one mailed moment of a notice and its figures.

    The content is a snapshot, so the fan-out and every batch send what was published even if
    the notice changes later. In by_pending while its fan-out runs (NOTICE#FANOUT), then while its
    batches are not all settled (NOTICE#SENDING)."""

    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    event_key = UnicodeAttribute()
    seq = NumberAttribute(default=0)   # the notice's n-th event: the order events happened in
    kind = UnicodeAttribute()      # published | update | reminder | started | completed | resolved | ...
    notice_type = UnicodeAttribute()
    severity = UnicodeAttribute()
    notice_status = UnicodeAttribute()  # the notice's status this event announces
    title = MapAttribute(default=dict)
    body = MapAttribute(default=dict)
    affected = MapAttribute(default=dict)
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    detail = MapAttribute(null=True)   # e.g. a reminder's minutes, a reschedule's old times
    language = UnicodeAttribute(null=True)  # the notice's: its texts' fallback for a reader's language
    created_at = UnicodeAttribute()
    fanout = UnicodeAttribute()        # planning | planned | failed
    fanout_detail = UnicodeAttribute(null=True)
    recipients = NumberAttribute(default=0)
    batches = NumberAttribute(default=0)
    affected_accounts = NumberAttribute(default=0)
    unreached_accounts = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    suppressed = NumberAttribute(default=0)
    bounced = NumberAttribute(default=0)
    complained = NumberAttribute(default=0)
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    by_pending = Pending()


class NoticeBatchItem(RosterModel):
    """pk T#<tid>#N#<notice_id>#B, sk <event_key>#<nnnnn>: the plan of ≤ 50 recipients sharing a
    language, written once by the fan-out and never updated (its state is another item, so no
    claim or settle rewrites these kilobytes).

    `recipients` holds, per person: p (person id), e (e-mail), n (name), a (account ids);
    `accounts` the names of the accounts its mails name. Both are packed (compressed JSON).
    `send_at` is when its message becomes visible on the queue (the pacing)."""

    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    event_key = UnicodeAttribute()
    seq = NumberAttribute()
    language = UnicodeAttribute()
    recipients = PackedJSONAttribute(default=list)
    accounts = PackedJSONAttribute(default=dict)  # account id -> name, of the accounts its mails name
    created_at = UnicodeAttribute()
    send_at = UnicodeAttribute(null=True)


class NoticeBatchesHeadItem(RosterModel):
    """pk T#<tid>#N#<notice_id>#B, sk !NOTICE: written in the transaction that publishes the
    notice, never changed. It sorts before every batch, so the Query that lists the deliveries
    reads it too: a published notice without batches yet is told from no notice (a 404) without
    reading the notice."""

    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    published_at = UnicodeAttribute()


class NoticeBatchStateItem(RosterModel):
    """pk T#<tid>#N#<notice_id>#B, sk <batch sk>#S: a batch's claim and, once settled, what
    happened to each recipient. No item = the batch is queued.

    Written by the claim (a conditional put: `sending`, in the by_pending partition NOTICE#BATCH
    so that the sweep finds a claim its worker never settled), then by the settle (`sent` or
    `failed` with `outcomes` packed: person id → [status, SES message id, detail]) and by SES
    feedback (a delivery `sent` → `bounced`|`complained`, guarded by `version`)."""

    status = UnicodeAttribute()        # sending | sent | failed
    attempt = UnicodeAttribute()
    outcomes = PackedJSONAttribute(null=True)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    by_pending = Pending()


class NoticeMessageItem(RosterModel):
    """pk SES#<message id>, sk SES (the key of the mail jobs' SesMessageItem): which notice
    delivery an SES message is, so that a bounce or complaint finds it. One small put per mail
    SES accepted, outside any transaction and in no index."""

    pipeline = UnicodeAttribute(default="notice")
    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    batch = UnicodeAttribute()
    person_id = UnicodeAttribute()


NOTICE_MODELS = [NoticeItem, NoticeEventItem, NoticeBatchItem, NoticeBatchesHeadItem, NoticeBatchStateItem,
                 NoticeMessageItem]
register(*NOTICE_MODELS)
