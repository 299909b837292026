"""Audit trail items: one per API write on an account, in their own partition per account
(`T#<tenant>#A#<account>#AUDIT`), sorted by time so the newest come first with one Query."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute

from chalicelib.models.base import RosterModel
from chalicelib.repositories.connection import register


class AuditItem(RosterModel):
    tenant_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    action = UnicodeAttribute()        # e.g. account.updated, contact.added
    actor_type = UnicodeAttribute()    # api_key | person
    actor_id = UnicodeAttribute()      # key_… | per_…
    at = UnicodeAttribute()
    target = UnicodeAttribute()        # the account id, or the person id a contact change is about
    changed = ListAttribute(of=UnicodeAttribute, default=list)  # field names, never values


AUDIT_MODELS = [AuditItem]
register(*AUDIT_MODELS)
