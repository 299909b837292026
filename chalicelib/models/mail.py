"""Mail items: a job (what to send, to whom), one item per recipient (its delivery state),
the SES message id → recipient map (for bounces), and suppressed addresses."""
from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models.base import ByList, RosterModel, index_meta
from chalicelib.repositories.connection import register


class ByPending(GlobalSecondaryIndex):
    Meta = index_meta("by_pending")
    pending_pk = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)


class MailJobItem(RosterModel):
    """pk T#<tid>#J#<job_id>, sk JOB. Carries `pending_*` until every recipient is settled."""

    tenant_id = UnicodeAttribute()
    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    data = MapAttribute(default=dict)
    account_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    recipient_count = NumberAttribute()
    pending_pk = UnicodeAttribute(null=True)
    pending_sk = UnicodeAttribute(null=True)
    by_pending = ByPending()


class MailRecipientItem(RosterModel):
    """pk T#<tid>#J#<job_id>, sk R#<nnnn>: one recipient and where their mail stands."""

    email = UnicodeAttribute()
    person_id = UnicodeAttribute(null=True)
    language = UnicodeAttribute()
    data = MapAttribute(default=dict)
    status = UnicodeAttribute()
    attempt = UnicodeAttribute(null=True)
    ses_message_id = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()


class SesMessageItem(RosterModel):
    """pk SES#<message id>, sk SES: which recipient a bounce or complaint is about."""

    tenant_id = UnicodeAttribute()
    job_id = UnicodeAttribute()
    recipient = UnicodeAttribute()
    person_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute()


class SuppressionItem(RosterModel):
    """pk SUPPRESS#<email>, sk SUPPRESS: no mail goes to this address any more. Listed in the
    by_list partition SUPPRESSED (list_sk = the address), so that a short list is read whole."""

    email = UnicodeAttribute()
    reason = UnicodeAttribute()
    since = UnicodeAttribute()
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    by_list = ByList()


MAIL_MODELS = [MailJobItem, MailRecipientItem, SesMessageItem, SuppressionItem]
register(*MAIL_MODELS)
