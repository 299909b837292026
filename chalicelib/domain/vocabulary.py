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

# Notices (domain/notices.py names each status and event kind): the statuses a notice moves
# through, and what each of its events announces (the mail's headline).
NOTICE_TYPES: tuple[str, ...] = ("outage", "maintenance", "security", "general")
SEVERITIES: tuple[str, ...] = ("info", "minor", "major", "critical")
NOTICE_STATUSES: tuple[str, ...] = ("draft", "open", "resolved", "scheduled", "in_progress", "completed", "cancelled")
EVENT_KINDS: tuple[str, ...] = (
    "published", "update", "reminder", "started", "completed", "resolved", "cancelled", "rescheduled",
)
INVITATION_STATUSES: tuple[str, ...] = ("pending", "invited", "accepted", "declined", "revoked", "expired")
IDENTITY_KINDS: tuple[str, ...] = ("address", "domain")  # what a tenant's sender identity verifies (T3)
