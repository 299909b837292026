"""Claims of SES sender identities (T3): the tenant that started verifying an address or a domain."""
from __future__ import annotations

from chalicelib.domain.senders import SenderTaken
from chalicelib.models import keys
from chalicelib.models.entities import SenderIdentityItem


def _free_or_own(tenant_id: str):
    return SenderIdentityItem.pk.does_not_exist() | (SenderIdentityItem.tenant_id == tenant_id)


class SenderIdentityRepository:
    def claim(self, tx, tenant_id: str, name: str, kind: str, now: str) -> None:
        """Puts into `tx` the claim of `name` for the tenant, unless another tenant holds it
        (the first to claim an identity keeps it; claiming again changes nothing)."""
        tx.update(SenderIdentityItem(keys.sender_identity(name), keys.SENDER_SK),
                  [SenderIdentityItem.tenant_id.set(tenant_id), SenderIdentityItem.kind.set(kind),
                   SenderIdentityItem.claimed_at.set(SenderIdentityItem.claimed_at | now)],
                  condition=_free_or_own(tenant_id), error=SenderTaken)

    def check_free(self, tx, tenant_id: str, name: str) -> None:
        """Puts into `tx` the condition that no other tenant claimed `name`."""
        tx.check(SenderIdentityItem, keys.sender_identity(name), keys.SENDER_SK, _free_or_own(tenant_id),
                 SenderTaken)
