"""Key values of the single table. Every key starts with the tenant, so another tenant's id
can never address an item: a foreign id is simply a missing item (404)."""
from __future__ import annotations

TENANT_SK = "TENANT"
ACCOUNT_SK = "ACCOUNT"
PERSON_SK = "PERSON"
EMAIL_SK = "EMAIL"
KEY_SK = "KEY"
MEMBER_PREFIX = "M#"
PERSON_FIRST = "#"  # sorts before every account id in the by_person index
ERASURE_PK = "ERASURE"


def tenant(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def api_key(key_id: str) -> str:
    return f"KEY#{key_id}"


def api_keys_list(tenant_id: str) -> str:
    return f"T#{tenant_id}#KEYS"


def account(tenant_id: str, account_id: str) -> str:
    return f"T#{tenant_id}#A#{account_id}"


def accounts_list(tenant_id: str) -> str:
    return f"T#{tenant_id}#ACCOUNTS"


def accounts_by_status(tenant_id: str, status: str) -> str:
    return f"T#{tenant_id}#ACCOUNTS#{status}"


def member(person_id: str) -> str:
    return f"{MEMBER_PREFIX}{person_id}"


def person(tenant_id: str, person_id: str) -> str:
    return f"T#{tenant_id}#P#{person_id}"


def people_list(tenant_id: str) -> str:
    return f"T#{tenant_id}#PEOPLE"


def email_claim(tenant_id: str, email: str) -> str:
    return f"T#{tenant_id}#E#{email}"


def email_lookup(tenant_id: str, email: str) -> str:
    return f"T#{tenant_id}#{email}"


def erasure(tenant_id: str, person_id: str) -> str:
    return f"{tenant_id}#{person_id}"


def created(created_at: str, entity_id: str) -> str:
    """Sort key of lists: oldest first, ties broken by id."""
    return f"{created_at}#{entity_id}"


PENDING_MAIL = "MAIL#PENDING"
JOB_SK = "JOB"
RECIPIENT_PREFIX = "R#"
SES_SK = "SES"
SUPPRESS_SK = "SUPPRESS"


def mail_job(tenant_id: str, job_id: str) -> str:
    return f"T#{tenant_id}#J#{job_id}"


def recipient(index: int) -> str:
    return f"{RECIPIENT_PREFIX}{index:05d}"


def ses_message(message_id: str) -> str:
    return f"SES#{message_id}"


def suppression(email: str) -> str:
    return f"SUPPRESS#{email}"


SENDER_SK = "SENDER"


def sender_identity(name: str) -> str:
    """A claimed SES identity (an address or a domain, lower case): one per AWS account, so not
    under a tenant's key."""
    return f"SENDER#{name}"


SUPPRESSED_LIST = "SUPPRESSED"  # by_list partition of every suppressed address, by address


INVITATION_SK = "INVITATION"
TOKEN_SK = "TOKEN"
INVITATIONS_DUE = "INVITATION#DUE"  # by_pending partition of open invitations, sorted by expiry


def invitation(tenant_id: str, invitation_id: str) -> str:
    return f"T#{tenant_id}#I#{invitation_id}"


def invitations_list(tenant_id: str, account_id: str) -> str:
    return f"T#{tenant_id}#A#{account_id}#INVITATIONS"


def invitations_by_status(tenant_id: str, account_id: str, status: str) -> str:
    return f"T#{tenant_id}#A#{account_id}#INVITATIONS#{status}"


def invitation_token(token_hash: str) -> str:
    return f"INVTOKEN#{token_hash}"


def invitation_due(expires_at: str, tenant_id: str, invitation_id: str) -> str:
    return f"{expires_at}#{tenant_id}#{invitation_id}"


NOTICE_SK = "NOTICE"
EVENT_PREFIX = "E#"
NOTICES_DUE = "NOTICE#DUE"          # by_pending partition of maintenance notices with a step ahead
NOTICE_EVENTS_FANNING = "NOTICE#FANOUT"  # by_pending partition of events whose fan-out is not done
NOTICE_BATCHES_OPEN = "NOTICE#BATCH"     # by_pending partition of batch claims not yet settled
NOTICE_EVENTS_SENDING = "NOTICE#SENDING"  # by_pending partition of events with batches not all settled


def members_list(tenant_id: str) -> str:
    """by_list partition of every membership of a tenant (a notice's audience for all accounts)."""
    return f"T#{tenant_id}#MEMBERS"


def notice(tenant_id: str, notice_id: str) -> str:
    return f"T#{tenant_id}#N#{notice_id}"


def notices_list(tenant_id: str) -> str:
    return f"T#{tenant_id}#NOTICES"


def notices_by_status(tenant_id: str, status: str) -> str:
    return f"T#{tenant_id}#NOTICES#{status}"


def notice_event(event_key: str) -> str:
    return f"{EVENT_PREFIX}{event_key}"


def notice_batches(tenant_id: str, notice_id: str) -> str:
    return f"T#{tenant_id}#N#{notice_id}#B"


# First in a notice's batches partition (before every event key): written when it is published.
NOTICE_BATCHES_HEAD = "!NOTICE"


def notice_batch(event_key: str, seq: int) -> str:
    return f"{event_key}#{seq:05d}"


def event_of_batch(batch_sk: str) -> str:
    """The event key of a notice_batch key (an event key may hold '#', a sequence never)."""
    return batch_sk.rsplit("#", 1)[0]


def due(at: str, tenant_id: str, entity_id: str, suffix: str = "") -> str:
    """by_pending sort key: the moment first, so a key condition `<= now` finds what is due."""
    return f"{at}#{tenant_id}#{entity_id}{suffix}"



def limit(tenant_id: str, name: str) -> str:
    """A counter of the tenant's: `mail-requests`, or `invitation-mail#<e-mail>` per day."""
    return f"T#{tenant_id}#LIMIT#{name}"
