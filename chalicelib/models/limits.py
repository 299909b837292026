"""Counters behind the mail limits (docs/api.md "Limits"): one item per counter and window."""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.models.base import RosterModel


class LimitItem(RosterModel):
    """pk T#<tid>#LIMIT#<name>, sk <window> (a day's counter) or WINDOW (a rolling counter whose
    `window` attribute names the window it counts)."""

    window = UnicodeAttribute(null=True)
    used = NumberAttribute(default=0)


LIMIT_MODELS = [LimitItem]
