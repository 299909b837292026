"""The API key item (docs/data-model.md): a module of its own, so authenticating a key defines no
other model."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.models.base import ByList, RosterModel
from chalicelib.repositories.connection import register


class ApiKeyItem(RosterModel):
    tenant_id = UnicodeAttribute()
    key_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    secret_hash = UnicodeAttribute()
    hint = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()
    list_pk = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    by_list = ByList()


register(ApiKeyItem)
