"""Tenant API keys: one item per key, addressed by its id; only a hash of the secret is kept."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.errors import NotFound
from chalicelib.models import keys
from chalicelib.models.api_keys import ApiKeyItem
from chalicelib.repositories.items import get_item, query_page

if TYPE_CHECKING:  # authenticating a key reads its hash: no domain value
    from chalicelib.domain.entities import ApiKey, Page


def to_api_key(item: ApiKeyItem) -> ApiKey:
    from chalicelib.domain.entities import ApiKey

    return ApiKey(item.key_id, item.tenant_id, item.name, item.hint, item.created_at, item.created_by)


class ApiKeyRepository:
    def _new_item(self, key: ApiKey, secret_hash: str) -> ApiKeyItem:
        return ApiKeyItem(keys.api_key(key.key_id), keys.KEY_SK, tenant_id=key.tenant_id, key_id=key.key_id,
                          name=key.name, secret_hash=secret_hash, hint=key.hint, created_at=key.created_at,
                          created_by=key.created_by, list_pk=keys.api_keys_list(key.tenant_id),
                          list_sk=keys.created(key.created_at, key.key_id))

    def create(self, key: ApiKey, secret_hash: str) -> None:
        self._new_item(key, secret_hash).save(condition=ApiKeyItem.pk.does_not_exist())

    def add(self, tx, key: ApiKey, secret_hash: str) -> None:
        tx.put(self._new_item(key, secret_hash), condition=ApiKeyItem.pk.does_not_exist())

    def secret_hash(self, key_id: str) -> tuple[str, str] | None:
        """(tenant_id, secret_hash) of a live key, read strongly so a revoked key fails at once."""
        item = get_item(ApiKeyItem, keys.api_key(key_id), keys.KEY_SK)
        return (item.tenant_id, item.secret_hash) if item else None

    def list(self, tenant_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        from chalicelib.domain.entities import Page

        items, next_cursor = query_page(ApiKeyItem.by_list.query, "list_pk", keys.api_keys_list(tenant_id), limit, cursor)
        return Page([to_api_key(item) for item in items], next_cursor)

    def delete(self, tenant_id: str, key_id: str) -> None:
        from pynamodb.exceptions import DeleteError

        try:
            ApiKeyItem(keys.api_key(key_id), keys.KEY_SK).delete(
                condition=ApiKeyItem.tenant_id == tenant_id, add_version_condition=False)
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound("API key")
            raise
