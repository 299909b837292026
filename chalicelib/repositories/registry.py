"""Every repository in one place, built once by the composition root and handed to the services."""
from __future__ import annotations

from importlib import import_module

from chalicelib.repositories.transaction import Transaction


class _Repository:
    """A repository built on its first use, from `chalicelib.repositories.<module>`: a request
    imports only the repository modules its service reads through, so the notice, invitation
    and mail modules stay out of the cold start of the other routes. `takes` names what its
    constructor is given: nothing, "connection" or "repositories"."""

    def __init__(self, module: str, class_name: str, takes: str | None = None):
        self.module, self.class_name, self.takes = module, class_name, takes

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, repositories, owner=None):
        if repositories is None:
            return self
        repository_class = getattr(import_module(f"chalicelib.repositories.{self.module}"), self.class_name)
        given = {None: (), "connection": (repositories.connection,), "repositories": (repositories,)}[self.takes]
        repository = repositories.__dict__[self.name] = repository_class(*given)
        return repository


class Repositories:
    """The table's repositories, sharing one DynamoDB connection; `transaction()` starts the
    TransactWriteItems that several of them fill with one change. Each repository is built on its
    first use; each model is bound to the table with the connection, or as its module is imported
    later (repositories/connection.py)."""

    tenants = _Repository("tenants", "TenantRepository")
    sender_identities = _Repository("sender_identities", "SenderIdentityRepository")
    api_keys = _Repository("api_keys", "ApiKeyRepository")
    accounts = _Repository("accounts", "AccountRepository")
    people = _Repository("people", "PeopleRepository", takes="connection")
    memberships = _Repository("memberships", "MembershipRepository")
    invitations = _Repository("invitations", "InvitationRepository")
    audit = _Repository("audit", "AuditRepository")
    limits = _Repository("limits", "LimitRepository")
    notices = _Repository("notices", "NoticeRepository")
    mail = _Repository("mail", "MailRepository", takes="repositories")
    notice_delivery = _Repository("notice_delivery", "NoticeDeliveryRepository", takes="repositories")

    def __init__(self, table_name: str, region: str):
        from chalicelib.repositories.connection import connect_registered

        self.connection = connect_registered(table_name, region)

    def transaction(self) -> Transaction:
        return Transaction(self.connection)
