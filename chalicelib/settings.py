"""Settings: one NamedTuple (immutable, and cheaper to define than a frozen dataclass at every cold
start), read lazily from the environment (never at import time)."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import NamedTuple


class Settings(NamedTuple):
    """What the environment configures (`get_settings()` reads it once)."""

    table_name: str
    region: str
    platform_key_secret: str
    platform_key_max_age_seconds: int
    tracing_enabled: bool
    max_body_bytes: int
    mail_queue: str
    mail_domain: str
    notice_fanout_queue: str
    notice_batch_queue: str
    public_base_url: str
    # SES configuration set sent with every mail (bounce/complaint events → SNS); "" = none (local)
    ses_configuration_set: str = ""
    # person tokens (OIDC): empty issuer = people cannot sign in
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_tenant_claim: str = "custom:tenant_id"
    oidc_tenant_id: str = ""  # a fixed tenant (single-tenant portal); wins over the claim
    oidc_leeway_seconds: int = 60
    # SES account quota (mails per second): a notice's batches are queued paced at it; 0 = unpaced
    ses_max_send_rate: float = 0.0
    # mail-flood limits (docs/api.md "Limits")
    mail_requests_per_minute: int = 120  # per tenant, on the routes that cause mail
    invitation_mails_per_address_per_day: int = 5  # per tenant and recipient address
    invitation_resend_cooldown_seconds: int = 60  # per invitation


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("ROSTER_TABLE_NAME", "roster"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-central-1",
        platform_key_secret=os.environ.get("ROSTER_PLATFORM_KEY_SECRET", "roster/platform-key"),
        platform_key_max_age_seconds=int(os.environ.get("ROSTER_PLATFORM_KEY_MAX_AGE", "300")),
        tracing_enabled=_flag("ROSTER_TRACING"),
        max_body_bytes=int(os.environ.get("ROSTER_MAX_BODY_BYTES", str(64 * 1024))),
        mail_queue=os.environ.get("ROSTER_MAIL_QUEUE", "roster-mail"),
        mail_domain=os.environ.get("ROSTER_MAIL_DOMAIN", "mail.roster.test"),
        notice_fanout_queue=os.environ.get("ROSTER_NOTICE_FANOUT_QUEUE", "roster-notice-fanout"),
        notice_batch_queue=os.environ.get("ROSTER_NOTICE_BATCH_QUEUE", "roster-notice-batch"),
        ses_max_send_rate=float(os.environ.get("ROSTER_SES_MAX_SEND_RATE", "0") or 0),
        public_base_url=os.environ.get("ROSTER_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        ses_configuration_set=os.environ.get("ROSTER_SES_CONFIGURATION_SET", "").strip(),
        oidc_issuer=os.environ.get("ROSTER_OIDC_ISSUER", "").strip(),
        oidc_audience=os.environ.get("ROSTER_OIDC_AUDIENCE", "").strip(),
        oidc_jwks_url=os.environ.get("ROSTER_OIDC_JWKS_URL", "").strip(),
        oidc_tenant_claim=os.environ.get("ROSTER_OIDC_TENANT_CLAIM", "").strip() or "custom:tenant_id",
        oidc_tenant_id=os.environ.get("ROSTER_OIDC_TENANT_ID", "").strip(),
        oidc_leeway_seconds=int(os.environ.get("ROSTER_OIDC_LEEWAY", "60")),
        mail_requests_per_minute=int(os.environ.get("ROSTER_MAIL_REQUESTS_PER_MINUTE", "120")),
        invitation_mails_per_address_per_day=int(os.environ.get("ROSTER_INVITATION_MAILS_PER_DAY", "5")),
        invitation_resend_cooldown_seconds=int(os.environ.get("ROSTER_INVITATION_RESEND_COOLDOWN", "60")),
    )
