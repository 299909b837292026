"""Counters of the mail limits: one item per counter and window (a minute, a day)."""
from __future__ import annotations

from chalicelib.domain.errors import DomainError
from chalicelib.models import keys
from chalicelib.models.limits import LimitItem


def _counted(tenant_id: str, name: str, window: str, limit: int):
    return LimitItem(keys.limit(tenant_id, name), window), [LimitItem.used.add(1)], (
        LimitItem.used.does_not_exist() | (LimitItem.used < limit))


class LimitRepository:
    def take(self, tenant_id: str, name: str, window: str, limit: int) -> bool:
        """Counts one use in `window` with one conditional UpdateItem; False when it is full."""
        from pynamodb.exceptions import UpdateError

        item, actions, condition = _counted(tenant_id, name, window, limit)
        try:
            item.update(actions, condition=condition)
            return True
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return False

    def count(self, tx, tenant_id: str, name: str, window: str, limit: int, error: DomainError) -> None:
        """Counts one use of `window` inside `tx`; the transaction fails with `error` once `limit`
        uses were counted."""
        item, actions, condition = _counted(tenant_id, name, window, limit)
        tx.update(item, actions, condition=condition, error=error)
