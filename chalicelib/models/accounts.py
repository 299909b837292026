"""The account item, its address and the indexes that list accounts by status and by warning
(docs/data-model.md): a module of their own, so a request about an account defines no other model."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models.base import ByList, RosterModel, index_meta
from chalicelib.repositories.connection import register


class ByStatus(GlobalSecondaryIndex):
    Meta = index_meta("by_status")
    status_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


def _warning_index(index_name: str, counter: str):
    attrs = {
        "Meta": index_meta(index_name),
        "warn_pk": UnicodeAttribute(hash_key=True),
        counter: NumberAttribute(range_key=True),
    }
    return type(f"Warn_{counter}", (GlobalSecondaryIndex,), attrs)


WarnCaretaker = _warning_index("warn_caretaker", "caretaker_count")
WarnOnSiteAdmin = _warning_index("warn_on_site_admin", "on_site_admin_count")
WarnTechnical = _warning_index("warn_technical", "has_technical")
WarnAdministrative = _warning_index("warn_administrative", "has_administrative")


class Address(MapAttribute):
    street = UnicodeAttribute(null=True)
    postal_code = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)


class AccountItem(RosterModel):
    tenant_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    address = Address(null=True)
    business_type = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    email_domains = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    customer_person_id = UnicodeAttribute(null=True)
    technical_contact_id = UnicodeAttribute(null=True)
    administrative_contact_id = UnicodeAttribute(null=True)
    member_count = NumberAttribute(default=0)
    caretaker_count = NumberAttribute(default=0)
    on_site_admin_count = NumberAttribute(default=0)
    has_technical = NumberAttribute(default=0)
    has_administrative = NumberAttribute(default=0)
    list_pk = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    status_pk = UnicodeAttribute()
    warn_pk = UnicodeAttribute()
    by_list = ByList()
    by_status = ByStatus()
    warn_caretaker = WarnCaretaker()
    warn_on_site_admin = WarnOnSiteAdmin()
    warn_technical = WarnTechnical()
    warn_administrative = WarnAdministrative()


register(AccountItem)
