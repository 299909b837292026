"""A customer account and its postal address: the domain values a GET /accounts/{id} answers
with, in a module of their own so that request defines no other (each dataclass is defined at a
cold start's cost, docs/performance.md). domain/entities.py names them with the other values and
says why each class has a docstring."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    """A postal address; every part may be missing while the account is a draft."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Account:
    """A customer account: its own fields, its designated contacts and the counts its warnings read."""

    tenant_id: str
    account_id: str
    name: str | None
    address: Address
    business_type: str | None
    language: str | None
    email_domains: list[str]
    status: str
    created_at: str
    updated_at: str
    version: int
    customer_person_id: str | None
    technical_contact_id: str | None
    administrative_contact_id: str | None
    caretaker_count: int
    on_site_admin_count: int
    member_count: int

    @property
    def warnings(self) -> list[str]:
        from chalicelib.domain.rules import account_warnings

        return account_warnings(self)
