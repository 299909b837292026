"""Every repository in one place, built once by the composition root and handed to the services."""
from __future__ import annotations

from functools import cached_property

from chalicelib.repositories.transaction import Transaction


class Repositories:
    """The table's repositories, sharing one DynamoDB connection; `transaction()` starts the
    TransactWriteItems that several of them fill with one change.

    Every model is bound to the table with the connection. Each repository is built on its first
    use: a request imports only the repository modules its service reads through, so the notice,
    invitation and mail modules stay out of the cold start of the other routes.
    """

    def __init__(self, table_name: str, region: str):
        from chalicelib.models.audit import AUDIT_MODELS
        from chalicelib.models.entities import ALL_MODELS
        from chalicelib.repositories.connection import connect

        self.connection = connect([*ALL_MODELS, *AUDIT_MODELS], table_name, region)

    def transaction(self) -> Transaction:
        return Transaction(self.connection)

    @cached_property
    def tenants(self):
        from chalicelib.repositories.tenants import TenantRepository

        return TenantRepository()

    @cached_property
    def sender_identities(self):
        from chalicelib.repositories.sender_identities import SenderIdentityRepository

        return SenderIdentityRepository()

    @cached_property
    def api_keys(self):
        from chalicelib.repositories.api_keys import ApiKeyRepository

        return ApiKeyRepository()

    @cached_property
    def accounts(self):
        from chalicelib.repositories.accounts import AccountRepository

        return AccountRepository()

    @cached_property
    def people(self):
        from chalicelib.repositories.people import PeopleRepository

        return PeopleRepository(self.connection)

    @cached_property
    def memberships(self):
        from chalicelib.repositories.memberships import MembershipRepository

        return MembershipRepository()

    @cached_property
    def invitations(self):
        from chalicelib.repositories.invitations import InvitationRepository

        return InvitationRepository()

    @cached_property
    def audit(self):
        from chalicelib.repositories.audit import AuditRepository

        return AuditRepository()

    @cached_property
    def limits(self):
        from chalicelib.repositories.limits import LimitRepository

        return LimitRepository()

    @cached_property
    def notices(self):
        from chalicelib.repositories.notices import NoticeRepository

        return NoticeRepository()

    @cached_property
    def mail(self):
        from chalicelib.repositories.mail import MailRepository

        return MailRepository(self)

    @cached_property
    def notice_delivery(self):
        from chalicelib.repositories.notice_delivery import NoticeDeliveryRepository

        return NoticeDeliveryRepository(self)
