"""Counters behind the mail limits (docs/api.md "Limits")."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute

from chalicelib.models.base import RosterModel
from chalicelib.repositories.connection import register


class LimitItem(RosterModel):
    """pk T#<tid>#LIMIT#<name>, sk <window>: the uses counted in one window (a minute, a day)."""

    used = NumberAttribute(default=0)


LIMIT_MODELS = [LimitItem]
register(*LIMIT_MODELS)
