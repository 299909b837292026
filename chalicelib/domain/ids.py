"""Identifiers and secrets. Ids are typed (`acc_…`) and random, so they reveal nothing."""
from __future__ import annotations

import base64
import secrets

ID_BODY_PATTERN = r"[a-z2-7]{16}"  # 10 random bytes in base32, lower case
ID_PATTERN = r"[a-z]{3}_" + ID_BODY_PATTERN  # and a prefix naming the kind
PREFIXES = {"tenant": "ten", "account": "acc", "person": "per", "key": "key", "job": "job", "invitation": "inv", "notice": "ntc"}


def new_id(kind: str) -> str:
    token = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return f"{PREFIXES[kind]}_{token}"


def id_from_body(kind: str, body: str) -> str:
    """The id of that kind whose random part is `body`."""
    return f"{PREFIXES[kind]}_{body}"
