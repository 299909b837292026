"""Reading an account's audit trail (entries are written by the services, inside each change's transaction)."""
from __future__ import annotations

from chalicelib.domain.entities import Page
from chalicelib.domain.errors import NotFound


class AuditService:
    def __init__(self, repositories):
        self._repos = repositories

    def page(self, tenant_id: str, account_id: str, limit: int, cursor: str | None) -> Page:
        result = self._repos.audit.page(tenant_id, account_id, limit, cursor)
        if cursor is None and not result.items and self._repos.accounts.get(tenant_id, account_id) is None:
            raise NotFound("Account")
        return result
