"""Notice items (issue 4): the notice, one item per mailed event (its content snapshot, fan-out
state and delivery figures), the batches of ≤ 50 recipients the fan-out plans, and one delivery
record per recipient and event. docs/notices.md explains the flow."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models import keys
from chalicelib.models.base import PackedJSONAttribute, RosterModel, index_meta


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


class BySesMessage(GlobalSecondaryIndex):
    """The by_email index, shared: a delivery's key is SESMSG#<message id> (bounces find it)."""

    Meta = index_meta("by_email")
    email_key = UnicodeAttribute(hash_key=True)


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
    the notice changes later. Carries `pending_*` until the fan-out has planned every batch."""

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
    """pk T#<tid>#N#<notice_id>#B, sk <event_key>#<nnnnn>: ≤ 50 recipients sharing a language.

    `recipients` holds, per person: p (person id), e (e-mail), n (name), a (account ids);
    `accounts` the names of the accounts its mails name. Both are packed (compressed JSON): the
    worker reads them whole and never changes them, and its claim and settle update this item,
    which then costs about 3 write units instead of 8. Carries `pending_*` until settled."""

    tenant_id = UnicodeAttribute()
    notice_id = UnicodeAttribute()
    event_key = UnicodeAttribute()
    seq = NumberAttribute()
    language = UnicodeAttribute()
    recipients = PackedJSONAttribute(default=list)
    accounts = PackedJSONAttribute(default=dict)  # account id -> name, of the accounts its mails name
    status = UnicodeAttribute()        # queued | sending | sent | failed
    attempt = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    by_pending = Pending()


class NoticeDeliveryItem(RosterModel):
    """pk T#<tid>#N#<notice_id>#D, sk <event_key>#<person_id>: what happened to one mail.

    Written once, when its batch settles (one write per recipient); a bounce or complaint
    updates it through `email_key` = SESMSG#<message id>. The ids live in the keys only, not
    again as attributes: records are written by the ten thousand, and every attribute costs on
    each write."""

    account_ids = ListAttribute(of=UnicodeAttribute, default=list)
    language = UnicodeAttribute()
    status = UnicodeAttribute()        # sent | suppressed | failed | bounced | complained
    detail = UnicodeAttribute(null=True)
    queued_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    email_key = UnicodeAttribute(null=True)
    by_ses_message = BySesMessage()

    @property
    def tenant_id(self) -> str:
        return keys.notice_of_deliveries(self.pk)[0]

    @property
    def notice_id(self) -> str:
        return keys.notice_of_deliveries(self.pk)[1]

    @property
    def event_key(self) -> str:
        return keys.event_and_person_of_delivery(self.sk)[0]

    @property
    def person_id(self) -> str:
        return keys.event_and_person_of_delivery(self.sk)[1]

    @property
    def ses_message_id(self) -> str | None:
        return self.email_key.removeprefix(keys.SES_MESSAGE_PREFIX) if self.email_key else None


NOTICE_MODELS = [NoticeItem, NoticeEventItem, NoticeBatchItem, NoticeDeliveryItem]
