"""Domain objects: plain values that services return and handlers render.

Every class here has a docstring: without one, @dataclass writes one from inspect.signature,
a cost each API cold start would pay for nothing. An account and its address live in
domain/accounts.py (a GET /accounts/{id} defines only those two) and are named here too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from chalicelib.domain.accounts import Account, Address

__all__ = ["Access", "Account", "Address", "ApiKey", "ContactDetails", "Membership", "Page", "Person", "Tenant"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `next_cursor` asks for the next (None: the last page)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Tenant:
    """A provider on Roster, with its settings (branding, sender, welcome mail, staff address)."""

    tenant_id: str
    name: str
    description: str | None
    default_language: str
    created_at: str
    updated_at: str
    version: int
    branding: dict = field(default_factory=dict)
    sender: dict = field(default_factory=dict)
    welcome_mail: dict = field(default_factory=dict)
    staff_email: str | None = None
    sender_claims: tuple[str, ...] = ()  # the sender identities (addresses, domains) it claimed
    sender_dkim: dict = field(default_factory=dict)  # a claimed domain's DKIM tokens

    @property
    def settings(self) -> dict:
        return {"branding": self.branding, "sender": self.sender, "welcome_mail": self.welcome_mail,
                "staff_email": self.staff_email}


@dataclass(frozen=True)
class ApiKey:
    """A tenant's API key as it is listed: `hint` shows the secret's end, never the secret."""

    key_id: str
    tenant_id: str
    name: str | None
    hint: str
    created_at: str
    created_by: str


@dataclass(frozen=True)
class Person:
    """A person of a tenant; `undeliverable` says why mail to them stopped (a bounce, a complaint)."""

    tenant_id: str
    person_id: str
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    language: str | None
    created_at: str
    updated_at: str
    version: int
    undeliverable: str | None = None


@dataclass(frozen=True)
class Membership:
    """A person in an account: kind, roles, permissions, the notices they choose, and status."""

    tenant_id: str
    account_id: str
    person_id: str
    kind: str
    roles: list[str]
    permissions: list[str]
    notifications: list[str]
    status: str
    created_at: str
    updated_at: str
    version: int
    undeliverable: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class Access:
    """One row of a person's access list (G7): a membership with the account's name."""

    membership: Membership
    account_name: str | None
    account_status: str | None = None


@dataclass(frozen=True)
class ContactDetails:
    """A contact of an account as added: the membership, the person, and what adding it did."""

    membership: Membership
    person: Person
    person_created: bool = False
    welcome_mail_job_id: str | None = None
