"""The audit trail of an account: entries are written inside the change's own transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from chalicelib.domain.entities import Page
from chalicelib.models.audit import AuditItem
from chalicelib.repositories.items import query_page


def audit_partition(tenant_id: str, account_id: str) -> str:
    return f"T#{tenant_id}#A#{account_id}#AUDIT"


@dataclass(frozen=True)
class AuditEntry:
    action: str
    actor_type: str
    actor_id: str
    at: str
    target: str
    changed: list[str]


def entry_item(tenant_id: str, account_id: str, actor: dict, *, action: str, at: str, target: str,
               changed) -> AuditItem:
    """A new entry; the random suffix keeps two entries of one millisecond apart."""
    return AuditItem(audit_partition(tenant_id, account_id), f"{at}#{secrets.token_hex(6)}", tenant_id=tenant_id,
                     account_id=account_id, action=action, actor_type=actor["type"], actor_id=actor["id"], at=at,
                     target=target, changed=sorted(changed))


class AuditRepository:
    def add(self, tx, tenant_id: str, account_id: str, actor: dict | None, action: str, now: str, *,
            target: str | None = None, changed=()) -> None:
        """Puts an audit entry into `tx` (nothing without an actor: internal calls)."""
        if actor is not None:
            tx.put(entry_item(tenant_id, account_id, actor, action=action, at=now, target=target or account_id,
                              changed=changed))

    def page(self, tenant_id: str, account_id: str, limit: int, cursor: str | None) -> Page[AuditEntry]:
        """Newest first: one Query, backwards."""
        items, next_cursor = query_page(AuditItem.query, "pk", audit_partition(tenant_id, account_id), limit, cursor,
                                        scan_index_forward=False)
        return Page([AuditEntry(action=i.action, actor_type=i.actor_type, actor_id=i.actor_id, at=i.at,
                                target=i.target, changed=list(i.changed or [])) for i in items], next_cursor)
