"""The items of the Roster table (docs/data-model.md gives the key of each and its indexes).

The account and API key items live in models/accounts.py and models/api_keys.py (a GET
/accounts/{id} defines only those two models) and are named here too; the notice, mail,
invitation, limit and audit items have modules of their own."""
from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models import keys
from chalicelib.models.accounts import AccountItem, Address
from chalicelib.models.api_keys import ApiKeyItem
from chalicelib.models.base import ByList, RosterModel, index_meta
from chalicelib.repositories.connection import register

__all__ = ["AccountItem", "Address", "ApiKeyItem", "ByEmail", "ByPerson", "EmailClaimItem", "ErasureItem", "MembershipItem",
           "PersonItem", "SenderIdentityItem", "TenantItem"]


class ByEmail(GlobalSecondaryIndex):
    Meta = index_meta("by_email")
    email_key = UnicodeAttribute(hash_key=True)


class ByPerson(GlobalSecondaryIndex):
    Meta = index_meta("by_person")
    person_key = UnicodeAttribute(hash_key=True)
    person_sk = UnicodeAttribute(range_key=True)


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


ENTITY_MODELS = [TenantItem, SenderIdentityItem, PersonItem, EmailClaimItem, MembershipItem, ErasureItem]
register(*ENTITY_MODELS)
