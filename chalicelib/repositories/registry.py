"""Every repository in one place, built once by the composition root and handed to the services."""
from __future__ import annotations

from chalicelib.repositories.transaction import Transaction


class Repositories:
    """The table's repositories, sharing one DynamoDB connection; `transaction()` starts the
    TransactWriteItems that several of them fill with one change."""

    def __init__(self, table_name: str, region: str):
        from chalicelib.models.audit import AUDIT_MODELS
        from chalicelib.models.entities import ALL_MODELS
        from chalicelib.repositories.accounts import AccountRepository
        from chalicelib.repositories.api_keys import ApiKeyRepository
        from chalicelib.repositories.audit import AuditRepository
        from chalicelib.repositories.connection import connect
        from chalicelib.repositories.invitations import InvitationRepository
        from chalicelib.repositories.limits import LimitRepository
        from chalicelib.repositories.mail import MailRepository
        from chalicelib.repositories.memberships import MembershipRepository
        from chalicelib.repositories.notice_delivery import NoticeDeliveryRepository
        from chalicelib.repositories.notices import NoticeRepository
        from chalicelib.repositories.people import PeopleRepository
        from chalicelib.repositories.sender_identities import SenderIdentityRepository
        from chalicelib.repositories.tenants import TenantRepository

        self.connection = connect([*ALL_MODELS, *AUDIT_MODELS], table_name, region)
        self.tenants = TenantRepository()
        self.sender_identities = SenderIdentityRepository()
        self.api_keys = ApiKeyRepository()
        self.accounts = AccountRepository()
        self.people = PeopleRepository(self.connection)
        self.memberships = MembershipRepository()
        self.invitations = InvitationRepository()
        self.audit = AuditRepository()
        self.limits = LimitRepository()
        self.notices = NoticeRepository()
        self.mail = MailRepository(self)
        self.notice_delivery = NoticeDeliveryRepository(self)

    def transaction(self) -> Transaction:
        return Transaction(self.connection)
