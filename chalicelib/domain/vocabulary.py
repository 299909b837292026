"""The fixed vocabularies of the domain (docs/api.md lists them for clients)."""
from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("de", "fr", "it", "en")

BUSINESS_TYPES: tuple[str, ...] = (
    "agriculture", "construction", "education", "energy_utilities", "finance_insurance",
    "government", "healthcare", "hospitality", "it_services", "legal", "manufacturing",
    "media", "non_profit", "professional_services", "real_estate", "retail",
    "telecommunications", "transport_logistics", "wholesale", "other",
)
ACCOUNT_STATUSES: tuple[str, ...] = ("draft", "active", "inactive")
MEMBERSHIP_KINDS: tuple[str, ...] = ("customer", "contact", "guest")
MEMBERSHIP_STATUSES: tuple[str, ...] = ("pending", "invited", "declined", "active", "inactive")
ROLES: tuple[str, ...] = ("admin", "caretaker", "on_site_admin", "other_support", "technical", "administrative")
PERMISSIONS: tuple[str, ...] = ("billing", "support", "provisioning", "configuration", "security")
NOTIFICATIONS: tuple[str, ...] = ("outage", "maintenance", "security", "billing", "general")
WARNINGS: tuple[str, ...] = ("no_technical_contact", "no_administrative_contact", "no_caretaker", "no_on_site_admin")
