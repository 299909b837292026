"""Settings: one frozen dataclass, read lazily from the environment (never at import time)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    region: str
    platform_key_secret: str
    platform_key_max_age_seconds: int
    tracing_enabled: bool
    max_body_bytes: int
    mail_queue: str
    mail_domain: str
    public_base_url: str
    # SES configuration set sent with every mail (bounce/complaint events → SNS); "" = none (local)
    ses_configuration_set: str = ""


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
        public_base_url=os.environ.get("ROSTER_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        ses_configuration_set=os.environ.get("ROSTER_SES_CONFIGURATION_SET", "").strip(),
    )
