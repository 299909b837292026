"""Identifiers and secrets. Ids are typed (`acc_…`) and random, so they reveal nothing."""
from __future__ import annotations

import base64
import secrets

ID_PATTERN = r"[a-z]{3}_[a-z2-7]{16}"  # a prefix and 10 random bytes in base32, lower case
PREFIXES = {"tenant": "ten", "account": "acc", "person": "per", "key": "key", "job": "job", "invitation": "inv", "notice": "ntc"}


def new_id(kind: str) -> str:
    token = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return f"{PREFIXES[kind]}_{token}"
