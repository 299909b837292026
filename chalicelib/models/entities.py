"""The items of the Roster table (docs/data-model.md gives the key of each and its indexes)."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models import keys
from chalicelib.models.base import ByList, RosterModel, index_meta
from chalicelib.models.invitations import INVITATION_MODELS
from chalicelib.models.limits import LIMIT_MODELS
from chalicelib.models.mail import MAIL_MODELS
from chalicelib.models.notices import NOTICE_MODELS


class ByStatus(GlobalSecondaryIndex):
    Meta = index_meta("by_status")
    status_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class ByEmail(GlobalSecondaryIndex):
    Meta = index_meta("by_email")
    email_key = UnicodeAttribute(hash_key=True)


class ByPerson(GlobalSecondaryIndex):
    Meta = index_meta("by_person")
    person_key = UnicodeAttribute(hash_key=True)
    person_sk = UnicodeAttribute(range_key=True)


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


class TenantItem(RosterModel):
    tenant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    default_language = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    branding = MapAttribute(null=True)      # T5: brand_name, logo_url, brand_color, letterhead, footer
    sender = MapAttribute(null=True)        # T3: address, reply_to, verified
    sender_claims = UnicodeSetAttribute(null=True)  # the sender identities this tenant claimed
    sender_dkim = MapAttribute(null=True)           # a claimed domain's Easy DKIM tokens, by domain
    welcome_mail = MapAttribute(null=True)  # P4: enabled, portal_url
    staff_email = UnicodeAttribute(null=True)


class SenderIdentityItem(RosterModel):
    """The tenant that started verifying an SES identity (T3): the only one that may send from it."""

    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # address | domain
    claimed_at = UnicodeAttribute()


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


class PersonItem(RosterModel):
    tenant_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    undeliverable = UnicodeAttribute(null=True)  # bounced | complained (SES feedback)
    email_key = UnicodeAttribute()
    list_pk = UnicodeAttribute()
    list_sk = UnicodeAttribute()
    person_key = UnicodeAttribute()
    person_sk = UnicodeAttribute(default=keys.PERSON_FIRST)
    by_email = ByEmail()
    by_list = ByList()
    by_person = ByPerson()


class EmailClaimItem(RosterModel):
    """Holds an e-mail address for one person of a tenant: the uniqueness guard."""

    person_id = UnicodeAttribute()


class MembershipItem(RosterModel):
    tenant_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    roles = UnicodeSetAttribute(default=set)
    permissions = UnicodeSetAttribute(default=set)
    notifications = UnicodeSetAttribute(default=set)
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)
    undeliverable = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)  # the open invitation of a pending/invited membership
    person_key = UnicodeAttribute()
    person_sk = UnicodeAttribute()
    # every membership of the tenant, by account: a notice to all accounts reads its audience here
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    by_person = ByPerson()
    by_list = ByList()


class ErasureItem(RosterModel):
    """A person erasure under way; housekeeping finishes any that a crash interrupted."""

    tenant_id = UnicodeAttribute()
    person_id = UnicodeAttribute()
    started_at = UnicodeAttribute()


ALL_MODELS = [TenantItem, SenderIdentityItem, ApiKeyItem, AccountItem, PersonItem, EmailClaimItem, MembershipItem,
              ErasureItem, *MAIL_MODELS, *INVITATION_MODELS, *NOTICE_MODELS, *LIMIT_MODELS]
