"""Counters of the mail limits: a rolling per-tenant window, and per-day counts in a transaction."""
from __future__ import annotations

from chalicelib.domain.errors import DomainError
from chalicelib.models import keys
from chalicelib.models.limits import LimitItem


class LimitRepository:
    def take(self, tenant_id: str, name: str, window: str, limit: int) -> bool:
        """Counts one use in `window` (a sortable label, e.g. the minute); False when it is full.

        One conditional UpdateItem; a second one starts a new window (no read, and no item per
        window is left behind)."""
        from pynamodb.exceptions import UpdateError

        item = LimitItem(keys.limit(tenant_id, name), keys.LIMIT_WINDOW_SK)
        steps = (([LimitItem.used.add(1)], (LimitItem.window == window) & (LimitItem.used < limit)),
                 ([LimitItem.window.set(window), LimitItem.used.set(1)],
                  LimitItem.window.does_not_exist() | (LimitItem.window < window)))
        for _ in range(2):  # a rival may start the new window between our two steps
            for actions, condition in steps:
                try:
                    item.update(actions, condition=condition)
                    return True
                except UpdateError as exc:
                    if exc.cause_response_code != "ConditionalCheckFailedException":
                        raise
        return False

    def count(self, tx, tenant_id: str, name: str, window: str, limit: int, error: DomainError) -> None:
        """Counts one use of the `window` counter inside `tx`; the transaction fails with `error`
        once `limit` uses were counted."""
        tx.update(LimitItem(keys.limit(tenant_id, name), window), [LimitItem.used.add(1)],
                  condition=LimitItem.used.does_not_exist() | (LimitItem.used < limit), error=error)
