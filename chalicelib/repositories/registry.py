"""Every repository in one place, built once by the composition root and handed to the services."""
from __future__ import annotations

from importlib import import_module

from chalicelib.repositories.transaction import Transaction

# Each repository: the attribute services read it as (also its module in chalicelib/repositories/) → its class.
_REPOSITORIES = {
    "tenants": "TenantRepository", "sender_identities": "SenderIdentityRepository", "api_keys": "ApiKeyRepository",
    "accounts": "AccountRepository", "people": "PeopleRepository", "memberships": "MembershipRepository",
    "invitations": "InvitationRepository", "audit": "AuditRepository", "limits": "LimitRepository",
    "notices": "NoticeRepository", "mail": "MailRepository", "notice_delivery": "NoticeDeliveryRepository",
}
# The repositories whose constructor takes something: the connection, or these repositories.
_TAKES_CONNECTION = ("people",)
_TAKES_REPOSITORIES = ("mail", "notice_delivery")


class Repositories:
    """The table's repositories, sharing one DynamoDB connection; `transaction()` starts the
    TransactWriteItems that several of them fill with one change.

    Every model is bound to the table with the connection. Each repository is built on its first
    use (then kept as an attribute): a request imports only the repository modules its service
    reads through, so the notice, invitation and mail modules stay out of the cold start of the
    other routes.
    """

    def __init__(self, table_name: str, region: str):
        from chalicelib.models.audit import AUDIT_MODELS
        from chalicelib.models.entities import ALL_MODELS
        from chalicelib.repositories.connection import connect

        self.connection = connect([*ALL_MODELS, *AUDIT_MODELS], table_name, region)

    def __getattr__(self, name: str):
        """Called for an attribute not set yet only: builds the repository of that name once."""
        if name not in _REPOSITORIES:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        repository_class = getattr(import_module(f"chalicelib.repositories.{name}"), _REPOSITORIES[name])
        if name in _TAKES_CONNECTION:
            repository = repository_class(self.connection)
        elif name in _TAKES_REPOSITORIES:
            repository = repository_class(self)
        else:
            repository = repository_class()
        setattr(self, name, repository)
        return repository

    def transaction(self) -> Transaction:
        return Transaction(self.connection)
