"""Memberships: a person in an account, its status (an invitation's pending → invited → active |
declined), roles, permissions and notification choices."""
from __future__ import annotations

from chalicelib.domain.entities import Membership
from chalicelib.domain.errors import Contention
from chalicelib.domain.invitations import OPEN
from chalicelib.models import keys
from chalicelib.models.entities import MembershipItem
from chalicelib.repositories.items import get_item, query_page, set_or_remove, update_versioned



def to_membership(item: MembershipItem) -> Membership:
    return Membership(tenant_id=item.tenant_id, account_id=item.account_id, person_id=item.person_id,
                      kind=item.kind, roles=sorted(item.roles or ()), permissions=sorted(item.permissions or ()),
                      notifications=sorted(item.notifications or ()), status=item.status,
                      created_at=item.created_at, updated_at=item.updated_at, version=int(item.version),
                      undeliverable=item.undeliverable)


class MembershipRepository:
    def key(self, tenant_id: str, account_id: str, person_id: str) -> tuple[str, str]:
        return keys.account(tenant_id, account_id), keys.member(person_id)

    def _ref(self, tenant_id: str, account_id: str, person_id: str) -> MembershipItem:
        return MembershipItem(*self.key(tenant_id, account_id, person_id))

    def new_item(self, m: Membership, invitation_id: str | None = None, version: int = 1) -> MembershipItem:
        return MembershipItem(
            *self.key(m.tenant_id, m.account_id, m.person_id), tenant_id=m.tenant_id,
            account_id=m.account_id, person_id=m.person_id, kind=m.kind, roles=set(m.roles),
            permissions=set(m.permissions), notifications=set(m.notifications), status=m.status,
            created_at=m.created_at, updated_at=m.updated_at, version=version, invitation_id=invitation_id,
            person_key=keys.person(m.tenant_id, m.person_id), person_sk=m.account_id,
            list_pk=keys.members_list(m.tenant_id), list_sk=f"{m.account_id}#{m.person_id}",
        )

    # --- reads --------------------------------------------------------------------------
    def get(self, tenant_id: str, account_id: str, person_id: str) -> Membership | None:
        item = get_item(MembershipItem, *self.key(tenant_id, account_id, person_id))
        return to_membership(item) if item else None

    def get_many(self, tenant_id: str, person_id: str, account_ids: list[str]) -> dict[str, Membership]:
        """The person's memberships in `account_ids` (account id → membership), read strongly
        consistent in one BatchGetItem per hundred keys. Missing ones are left out."""
        from chalicelib.repositories.rows import batch_get_raw

        found = batch_get_raw(MembershipItem, [self.key(tenant_id, aid, person_id) for aid in account_ids],
                              consistent_read=True)
        return {m.account_id: m for m in (to_membership(MembershipItem.from_raw_data(raw)) for raw in found)}

    def account_page(self, tenant_id: str, account_id: str, limit: int, cursor: str | None,
                     filters: dict | None = None) -> tuple[bool, list[Membership], str | None]:
        """The account item (first page only) and a page of its memberships, in one Query;
        `filters`: role (one of the roles), or any other attribute's value.

        The account item sorts before the memberships ("ACCOUNT" < "M#"), so the first page
        tells at once whether the account exists.
        """
        filter_condition = None
        for name, value in (filters or {}).items():
            part = MembershipItem.roles.contains(value) if name == "role" else getattr(MembershipItem, name) == value
            filter_condition = part if filter_condition is None else filter_condition & part
        first_page = cursor is None
        if filter_condition is not None:
            filter_condition = (MembershipItem.sk == keys.ACCOUNT_SK) | filter_condition
        items, next_cursor = query_page(
            MembershipItem.query, "pk", keys.account(tenant_id, account_id), limit + (1 if first_page else 0),
            cursor, range_key_condition=MembershipItem.sk >= keys.ACCOUNT_SK, filter_condition=filter_condition)
        exists = not first_page or any(item.sk == keys.ACCOUNT_SK for item in items)
        memberships = [to_membership(item) for item in items if item.sk.startswith(keys.MEMBER_PREFIX)]
        return exists, memberships, next_cursor

    # --- writes -------------------------------------------------------------------------
    def add(self, tx, membership: Membership, error=None, invitation_id: str | None = None) -> None:
        """A new membership; `error` if the person already has one in the account."""
        tx.put(self.new_item(membership, invitation_id), condition=MembershipItem.pk.does_not_exist(),
               error=error or Contention())

    def replace(self, tx, before: Membership, membership: Membership, invitation_id: str) -> None:
        """An invitation's new membership in place of `before` (a declined or open one), if
        still the version read."""
        tx.put(self.new_item(membership, invitation_id, before.version + 1),
               condition=MembershipItem.version == before.version, error=Contention())

    def change(self, tx, before: Membership, after: Membership) -> None:
        """Status, roles, permissions and notification choices as in `after`, if still the
        version read."""
        m = self._ref(before.tenant_id, before.account_id, before.person_id)
        actions = [MembershipItem.status.set(after.status)]
        actions += [set_or_remove(getattr(MembershipItem, name), set(getattr(after, name)))
                    for name in ("roles", "permissions", "notifications")]
        update_versioned(tx, m, actions, version=before.version, now=after.updated_at)

    def change_roles(self, tx, tenant_id: str, account_id: str, person_id: str, *, gains: set, losses: set, now: str,
                     version: int | None = None, roles: set | None = None, error=None) -> None:
        """Gains and losses of designated roles. A holder who both gains and loses gets `roles`
        (the roles read, changed) on that `version`: DynamoDB refuses ADD and DELETE of one
        attribute in one update. A gain needs an active membership."""
        condition = MembershipItem.pk.exists()
        if gains and losses:
            actions = [MembershipItem.roles.set(roles)]
            condition &= MembershipItem.version == version
        elif gains:
            actions = [MembershipItem.roles.add(gains)]
        else:
            actions = [MembershipItem.roles.delete(losses)]
        if gains:
            condition &= MembershipItem.status == "active"
        tx.update(self._ref(tenant_id, account_id, person_id),
                  actions + [MembershipItem.version.add(1), MembershipItem.updated_at.set(now)],
                  condition=condition, error=error or Contention())

    def delete(self, tx, membership: Membership, exact: bool = True) -> None:
        """The membership goes; `exact`: only if still the version read."""
        m = membership
        condition = (MembershipItem.version == m.version) if exact else None
        tx.delete(self._ref(m.tenant_id, m.account_id, m.person_id), condition=condition,
                  error=Contention() if exact else None)

    def require_active(self, tx, tenant_id: str, account_id: str, person_id: str) -> None:
        tx.check(MembershipItem, *self.key(tenant_id, account_id, person_id),
                 condition=MembershipItem.status == "active", error=Contention())

    def mark_undeliverable(self, membership: Membership, reason: str) -> None:
        """One UpdateItem, unless the membership was removed meanwhile."""
        from pynamodb.exceptions import UpdateError

        m = membership
        try:
            self._ref(m.tenant_id, m.account_id, m.person_id).update([MembershipItem.undeliverable.set(reason)],
                                                                      condition=MembershipItem.pk.exists())
        except UpdateError:
            pass

    # --- the membership an invitation offers --------------------------------------------
    def reopen(self, tx, tenant_id: str, account_id: str, person_id: str, invitation_id: str, now: str) -> None:
        """A new link for the invitation: its membership is pending again."""
        tx.update(self._ref(tenant_id, account_id, person_id),
                  [MembershipItem.status.set("pending"), MembershipItem.updated_at.set(now),
                   MembershipItem.version.add(1)],
                  condition=MembershipItem.invitation_id == invitation_id, error=Contention())

    def mark_invited(self, tx, tenant_id: str, account_id: str, person_id: str, invitation_id: str, now: str) -> None:
        tx.update(self._ref(tenant_id, account_id, person_id),
                  [MembershipItem.status.set("invited"), MembershipItem.version.add(1),
                   MembershipItem.updated_at.set(now)],
                  condition=(MembershipItem.invitation_id == invitation_id) & (MembershipItem.status == "pending"))

    def answer(self, tx, tenant_id: str, account_id: str, person_id: str, invitation_id: str, *, status: str,
               now: str, error) -> None:
        """The invitee's answer: active or declined, if the invitation's membership is still open."""
        tx.update(self._ref(tenant_id, account_id, person_id),
                  [MembershipItem.status.set(status), MembershipItem.invitation_id.remove(),
                   MembershipItem.updated_at.set(now), MembershipItem.version.add(1)],
                  condition=(MembershipItem.invitation_id == invitation_id) & MembershipItem.status.is_in(*OPEN),
                  error=error)

    def drop_offer(self, tx, tenant_id: str, account_id: str, person_id: str, invitation_id: str) -> None:
        """The invitation closed: its membership goes if still open (or is gone already)."""
        tx.delete(self._ref(tenant_id, account_id, person_id),
                  condition=MembershipItem.pk.does_not_exist() | (
                      (MembershipItem.invitation_id == invitation_id) & MembershipItem.status.is_in(*OPEN)),
                  error=Contention())
