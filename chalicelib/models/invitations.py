"""Invitation items: the invitation (its state, the hash of its live link) and the token item
keyed by that hash (how a link finds its invitation). The raw token is never stored."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models.base import RosterModel, index_meta
from chalicelib.repositories.connection import register


class InvitationList(GlobalSecondaryIndex):
    Meta = index_meta("by_list")
    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class InvitationStatus(GlobalSecondaryIndex):
    Meta = index_meta("by_status")
    status_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class InvitationDue(GlobalSecondaryIndex):
    """The mail outbox's sparse by_pending index, shared: open invitations sort by expiry."""

    Meta = index_meta("by_pending")
    pending_pk = UnicodeAttribute(hash_key=True)
    pending_sk = UnicodeAttribute(range_key=True)


class InvitationItem(RosterModel):
    """pk T#<tid>#I#<invitation_id>, sk INVITATION."""

    tenant_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    email = UnicodeAttribute()
    kind = UnicodeAttribute()  # contact | guest
    roles = UnicodeSetAttribute(default=set)
    permissions = UnicodeSetAttribute(default=set)
    notifications = UnicodeSetAttribute(default=set)
    language = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # pending | invited | accepted | declined | revoked | expired
    expires_in_days = NumberAttribute()
    expires_at = UnicodeAttribute()
    token_hash = UnicodeAttribute()
    invited_by = UnicodeAttribute()
    inviter_person_id = UnicodeAttribute(null=True)
    mail_job_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    responded_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    list_pk = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    status_pk = UnicodeAttribute()
    pending_pk = UnicodeAttribute(null=True)  # only while open (pending or invited)
    pending_sk = UnicodeAttribute(null=True)
    by_list = InvitationList()
    by_status = InvitationStatus()
    by_due = InvitationDue()


class InvitationTokenItem(RosterModel):
    """pk INVTOKEN#<sha256 of the token>, sk TOKEN. `outcome` is set once, with the answer. The
    account, invitee and inviter are the invitation's (they never change): its page reads them
    together with the invitation."""

    tenant_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute()
    email = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)  # accepted | declined
    account_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    inviter_person_id = UnicodeAttribute(null=True)


INVITATION_MODELS = [InvitationItem, InvitationTokenItem]
register(*INVITATION_MODELS)
