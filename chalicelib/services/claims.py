"""What the two mail pipelines — outbox jobs (services/mail.py: a state per recipient) and notice
batches (services/notice_delivery.py: a state per batch of ≤ 50) — share about a claim.

Both claim before SES is called (a conditional write with a fresh attempt id), release the claim
on an error before SES or a transient SES error (only the attempt that holds it may), settle
after, settle everything `failed` on the queue's last attempt, and leave a claim whose worker died
after SES accepted to the sweep, which settles it `failed` (unconfirmed) once STALE_CLAIM has
passed: never sent twice."""
from __future__ import annotations

import uuid
from datetime import timedelta

from chalicelib.adapters.clock import iso

STALE_CLAIM = timedelta(minutes=15)  # longer than any worker's timeout: the claimer is gone
UNCONFIRMED = "unconfirmed: the worker stopped after claiming; not re-sent to avoid a duplicate"
GAVE_UP = "gave up after the queue's last attempt"


def new_attempt() -> str:
    """The id a claim is made with; only the same attempt may release or settle it."""
    return uuid.uuid4().hex


def stale_before(clock) -> str:
    """Claims made before this moment are stale (their worker is gone)."""
    return iso(clock.now() - STALE_CLAIM)
