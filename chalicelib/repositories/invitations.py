"""Invitations and their link tokens (only the SHA-256 of a token is stored, as the key)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.entities import Account, Page, Person, Tenant
from chalicelib.domain.errors import Contention
from chalicelib.domain.invitations import OPEN, Invitation, LinkKeys
from chalicelib.models import keys
from chalicelib.models.entities import AccountItem, EmailClaimItem, MembershipItem, PersonItem, TenantItem
from chalicelib.models.invitations import InvitationItem, InvitationTokenItem
from chalicelib.repositories.connection import table_connection
from chalicelib.repositories.items import get_item, query_page


def to_invitation(item: InvitationItem) -> Invitation:
    return Invitation(
        tenant_id=item.tenant_id, invitation_id=item.invitation_id, account_id=item.account_id,
        person_id=item.person_id, email=item.email, kind=item.kind, roles=sorted(item.roles or ()),
        permissions=sorted(item.permissions or ()), notifications=sorted(item.notifications or ()),
        language=item.language, status=item.status, expires_in_days=int(item.expires_in_days),
        expires_at=item.expires_at, invited_by=item.invited_by, inviter_person_id=item.inviter_person_id,
        mail_job_id=item.mail_job_id, created_at=item.created_at, updated_at=item.updated_at,
        responded_at=item.responded_at, version=int(item.version), token_hash=item.token_hash)


@dataclass(frozen=True)
class Parties:
    """Who and what an invitation names, as its page and its answer need them."""

    tenant: Tenant | None
    account: Account | None
    person: Person | None
    inviter: Person | None


@dataclass(frozen=True)
class LinkToken:
    """A link's token item: the invitation it opens, whom and what that names (the ids the link
    itself names, so the page checks them) and, once answered, the answer."""

    tenant_id: str
    invitation_id: str
    email: str
    outcome: str | None
    account_id: str
    person_id: str
    inviter_person_id: str | None


class InvitationRepository:
    def key(self, tenant_id: str, invitation_id: str) -> tuple[str, str]:
        return keys.invitation(tenant_id, invitation_id), keys.INVITATION_SK

    def _ref(self, tenant_id: str, invitation_id: str) -> InvitationItem:
        return InvitationItem(*self.key(tenant_id, invitation_id))

    def _new_item(self, inv: Invitation) -> InvitationItem:
        tid, iid = inv.tenant_id, inv.invitation_id
        return InvitationItem(
            *self.key(tid, iid), tenant_id=tid, invitation_id=iid, account_id=inv.account_id,
            person_id=inv.person_id, email=inv.email, kind=inv.kind, roles=set(inv.roles),
            permissions=set(inv.permissions), notifications=set(inv.notifications), language=inv.language,
            status=inv.status, expires_in_days=inv.expires_in_days, expires_at=inv.expires_at,
            token_hash=inv.token_hash, invited_by=inv.invited_by, inviter_person_id=inv.inviter_person_id,
            mail_job_id=inv.mail_job_id, created_at=inv.created_at, updated_at=inv.updated_at, version=inv.version,
            list_pk=keys.invitations_list(tid, inv.account_id), list_sk=keys.created(inv.created_at, iid),
            status_pk=keys.invitations_by_status(tid, inv.account_id, inv.status),
            pending_pk=keys.INVITATIONS_DUE, pending_sk=keys.invitation_due(inv.expires_at, tid, iid),
        )

    def add(self, tx, inv: Invitation) -> None:
        tx.put(self._new_item(inv), condition=InvitationItem.pk.does_not_exist())

    def close(self, tx, inv: Invitation, status: str, now: str) -> None:
        """Revoked, replaced or expired, if still the version read."""
        tx.update(self._ref(inv.tenant_id, inv.invitation_id), self._status_actions(inv, status, now),
                  condition=InvitationItem.version == inv.version, error=Contention())

    def renew(self, tx, before: Invitation, after: Invitation, now: str) -> None:
        """A new link (token, expiry, mail) for the invitation, pending again, if still the version read."""
        tid, iid = before.tenant_id, before.invitation_id
        actions = self._status_actions(before, "pending", now) + [
            InvitationItem.token_hash.set(after.token_hash), InvitationItem.expires_at.set(after.expires_at),
            InvitationItem.mail_job_id.set(after.mail_job_id), InvitationItem.pending_pk.set(keys.INVITATIONS_DUE),
            InvitationItem.pending_sk.set(keys.invitation_due(after.expires_at, tid, iid))]
        tx.update(self._ref(tid, iid), actions, condition=InvitationItem.version == before.version, error=Contention())

    def mark_invited(self, tx, inv: Invitation, now: str) -> None:
        """pending → invited, if the link is still the one mailed."""
        tx.update(self._ref(inv.tenant_id, inv.invitation_id), self._status_actions(inv, "invited", now),
                  condition=(InvitationItem.status == "pending") & (InvitationItem.token_hash == inv.token_hash))

    def answer(self, tx, inv: Invitation, outcome: str, now: str) -> None:
        """accepted | declined, if still open and the version read."""
        tx.update(self._ref(inv.tenant_id, inv.invitation_id),
                  self._status_actions(inv, outcome, now) + [InvitationItem.responded_at.set(now)],
                  condition=(InvitationItem.version == inv.version) & InvitationItem.status.is_in(*OPEN),
                  error=Contention())

    def _status_actions(self, inv: Invitation, status: str, now: str) -> list:
        """Moves an invitation to `status` (its list index follows; a closed one leaves the due index)."""
        actions = [InvitationItem.status.set(status),
                   InvitationItem.status_pk.set(keys.invitations_by_status(inv.tenant_id, inv.account_id, status)),
                   InvitationItem.updated_at.set(now), InvitationItem.version.add(1)]
        if status not in ("pending", "invited"):
            actions += [InvitationItem.pending_pk.remove(), InvitationItem.pending_sk.remove()]
        return actions

    def get(self, tenant_id: str, invitation_id: str) -> Invitation | None:
        item = get_item(InvitationItem, *self.key(tenant_id, invitation_id))
        return to_invitation(item) if item else None

    def with_account(self, tenant_id: str, account_id: str, invitation_id: str
                     ) -> tuple[Invitation | None, Account | None]:
        """The invitation and the account of the path, in one strongly consistent BatchGetItem."""
        from chalicelib.repositories.accounts import to_account

        invitation, account = batch_get([(InvitationItem, *self.key(tenant_id, invitation_id)),
                                         (AccountItem, keys.account(tenant_id, account_id), keys.ACCOUNT_SK)])
        return (to_invitation(invitation) if invitation else None), (to_account(account) if account else None)

    def page(self, tenant_id: str, account_id: str, status: str | None, limit: int, cursor: str | None
             ) -> Page[Invitation]:
        if status:
            items, next_cursor = query_page(InvitationItem.by_status.query, "status_pk",
                                            keys.invitations_by_status(tenant_id, account_id, status), limit, cursor)
        else:
            items, next_cursor = query_page(InvitationItem.by_list.query, "list_pk",
                                            keys.invitations_list(tenant_id, account_id), limit, cursor)
        return Page([to_invitation(item) for item in items], next_cursor)

    def due(self, now: str, limit: int) -> list[tuple[str, str]]:
        """Open invitations whose expiry has passed: one Query on the due index."""
        return [(item.tenant_id, item.invitation_id) for item in
                InvitationItem.by_due.query(keys.INVITATIONS_DUE, InvitationItem.pending_sk < now, limit=limit)]

    def parties(self, inv: Invitation) -> Parties:
        """The tenant, account, invitee and inviter (if a person invited) in one strongly
        consistent BatchGetItem: the invitation names them all, none depends on another."""
        return _parties(batch_get(_party_refs(inv.tenant_id, inv.account_id, inv.person_id,
                                              inv.inviter_person_id)))

    def link(self, digest: str, link: LinkKeys) -> tuple[LinkToken | None, Invitation | None, Parties]:
        """A link's token item, the invitation it opens and the parties it names, in one strongly
        consistent BatchGetItem: the link names every key."""
        token, invitation, *parties = batch_get(
            [(InvitationTokenItem, *self.token_key(digest)), (InvitationItem, *self.key(link.tenant_id, link.invitation_id))]
            + _party_refs(link.tenant_id, link.account_id, link.person_id, link.inviter_person_id))
        return (_link_token(token) if token else None, to_invitation(invitation) if invitation else None,
                _parties(parties))

    def setting(self, tenant_id: str, account_id: str, email: str
                ) -> tuple[str | None, Account | None, Tenant | None]:
        """What a new invitation needs to know first, in one strongly consistent BatchGetItem:
        who holds the e-mail in the tenant (its claim), the account and the tenant."""
        from chalicelib.repositories.accounts import to_account
        from chalicelib.repositories.tenants import to_tenant

        claim, account, tenant = batch_get([(EmailClaimItem, keys.email_claim(tenant_id, email), keys.EMAIL_SK),
                                            (AccountItem, keys.account(tenant_id, account_id), keys.ACCOUNT_SK),
                                            (TenantItem, keys.tenant(tenant_id), keys.TENANT_SK)])
        return (claim.person_id if claim else None, to_account(account) if account else None,
                to_tenant(tenant) if tenant else None)

    def invitee(self, tenant_id: str, account_id: str, person_id: str) -> tuple[Person | None, tuple | None]:
        """The person already in the tenant and their membership in the account with the id of
        the invitation that offers it, in one strongly consistent BatchGetItem."""
        from chalicelib.repositories.memberships import MembershipRepository, to_membership
        from chalicelib.repositories.people import to_person

        person, membership = batch_get([(PersonItem, keys.person(tenant_id, person_id), keys.PERSON_SK),
                                        (MembershipItem, *MembershipRepository().key(tenant_id, account_id, person_id))])
        return (to_person(person) if person else None,
                (to_membership(membership), membership.invitation_id) if membership else None)

    # --- tokens ----------------------------------------------------------------------------
    def token_key(self, digest: str) -> tuple[str, str]:
        return keys.invitation_token(digest), keys.TOKEN_SK

    def _token_ref(self, digest: str) -> InvitationTokenItem:
        return InvitationTokenItem(*self.token_key(digest))

    def add_token(self, tx, digest: str, inv: Invitation) -> None:
        tx.put(InvitationTokenItem(*self.token_key(digest), tenant_id=inv.tenant_id, invitation_id=inv.invitation_id,
                                   email=inv.email, account_id=inv.account_id, person_id=inv.person_id,
                                   inviter_person_id=inv.inviter_person_id),
               condition=InvitationTokenItem.pk.does_not_exist())

    def drop_token(self, tx, digest: str) -> None:
        """The link dies: its token item goes."""
        tx.delete(self._token_ref(digest))

    def use_token(self, tx, digest: str, outcome: str) -> None:
        """Records the answer on the token, once."""
        tx.update(self._token_ref(digest), [InvitationTokenItem.outcome.set(outcome)],
                  condition=InvitationTokenItem.pk.exists() & InvitationTokenItem.outcome.does_not_exist(),
                  error=Contention())



def _link_token(item: InvitationTokenItem) -> LinkToken:
    return LinkToken(tenant_id=item.tenant_id, invitation_id=item.invitation_id, email=item.email,
                     outcome=item.outcome, account_id=item.account_id, person_id=item.person_id,
                     inviter_person_id=item.inviter_person_id)


def _party_refs(tenant_id: str, account_id: str, person_id: str, inviter_person_id: str | None) -> list:
    refs = [(TenantItem, keys.tenant(tenant_id), keys.TENANT_SK),
            (AccountItem, keys.account(tenant_id, account_id), keys.ACCOUNT_SK),
            (PersonItem, keys.person(tenant_id, person_id), keys.PERSON_SK)]
    if inviter_person_id:
        refs.append((PersonItem, keys.person(tenant_id, inviter_person_id), keys.PERSON_SK))
    return refs


def _parties(items: list) -> Parties:
    from chalicelib.repositories.accounts import to_account
    from chalicelib.repositories.people import to_person
    from chalicelib.repositories.tenants import to_tenant

    return Parties(*(None if item is None else convert(item)
                     for convert, item in zip((to_tenant, to_account, to_person, to_person), items + [None])))


def batch_get(refs: list[tuple[type, str, str]]) -> list:
    """Items of several models of the one table, each (model, pk, sk), in one strongly
    consistent BatchGetItem (more only for keys DynamoDB leaves unprocessed), in the order
    asked; None where there is no item. Up to 100 keys."""
    connection = table_connection(refs[0][0])
    wanted = list(dict.fromkeys((h, r) for _, h, r in refs))
    found: dict[tuple[str, str], dict] = {}
    while wanted:
        reply = connection.batch_get_item([{"pk": h, "sk": r} for h, r in wanted], consistent_read=True)
        for raw in reply.get("Responses", {}).get(connection.table_name, []):
            found[raw["pk"]["S"], raw["sk"]["S"]] = raw
        unprocessed = reply.get("UnprocessedKeys", {}).get(connection.table_name, {}).get("Keys", [])
        wanted = [(key["pk"]["S"], key["sk"]["S"]) for key in unprocessed]
    return [model_cls.from_raw_data(found[h, r]) if (h, r) in found else None for model_cls, h, r in refs]
