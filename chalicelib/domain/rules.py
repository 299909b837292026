"""Business rules that need no I/O: warnings (N4), onboarding requirements (C4), counters."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.errors import Problem
from chalicelib.domain.text import ascii_email

if TYPE_CHECKING:
    from chalicelib.domain.entities import Account

COUNTED_ROLES = {"caretaker": "caretaker_count", "on_site_admin": "on_site_admin_count"}
SLOT_ROLES = ("technical", "administrative")

NOT_YET_MEMBERS = ("pending", "invited", "declined")  # an invitation's membership counts nothing


def account_warnings(account: "Account") -> list[str]:
    warnings = []
    if not account.technical_contact_id:
        warnings.append("no_technical_contact")
    if not account.administrative_contact_id:
        warnings.append("no_administrative_contact")
    if account.caretaker_count < 1:
        warnings.append("no_caretaker")
    if account.on_site_admin_count < 1:
        warnings.append("no_on_site_admin")
    return warnings


def onboarding_gaps(account: "Account") -> list[Problem]:
    """What a draft still lacks before it may become active (C1, C4)."""
    gaps = []
    if not account.name:
        gaps.append(Problem("name", "is required"))
    for part in ("street", "postal_code", "city", "country"):
        if not getattr(account.address, part):
            gaps.append(Problem(f"address.{part}", "is required"))
    if not account.business_type:
        gaps.append(Problem("business_type", "is required"))
    if account.caretaker_count < 1:
        gaps.append(Problem("contacts", "needs at least one active caretaker"))
    if account.on_site_admin_count < 1:
        gaps.append(Problem("contacts", "needs at least one active on-site admin"))
    return gaps


def counter_deltas(before_roles: set[str], before_active: bool,
                   after_roles: set[str], after_active: bool) -> dict[str, int]:
    """How the account's role counters move when a membership changes (only active ones count)."""
    deltas = {}
    for role, counter in COUNTED_ROLES.items():
        delta = int(after_active and role in after_roles) - int(before_active and role in before_roles)
        if delta:
            deltas[counter] = delta
    return deltas


def normalise_email(email: str) -> str:
    """The form a person's address is stored, looked up and compared in: trimmed, lower-cased,
    its domain in ASCII (an IDN domain as punycode, as SES sends and reports it)."""
    return ascii_email(email.strip()).lower()


SLOTS = ("technical", "administrative")


def holds_slot(kind_roles_active: tuple[str, set[str], bool] | None, slot: str) -> bool:
    if kind_roles_active is None:
        return False
    _, roles, active = kind_roles_active
    return active and slot in roles


def membership_effects(before: tuple[str, set[str], bool] | None,
                       after: tuple[str, set[str], bool] | None) -> dict:
    """What a membership change does to its account: counters, and slots claimed or released.

    A state is (kind, roles, active) or None when the membership does not exist. Slots are
    the designated contacts (technical, administrative: held by an active member with that
    role) and the customer (the account's one main profile, held while the membership exists).
    """
    counters = counter_deltas(before[1] if before else set(), bool(before and before[2]),
                              after[1] if after else set(), bool(after and after[2]))
    member_delta = int(after is not None) - int(before is not None)
    if member_delta:
        counters["member_count"] = member_delta
    claim, release = [], []
    for slot in SLOTS:
        held_before, held_after = holds_slot(before, slot), holds_slot(after, slot)
        if held_after and not held_before:
            claim.append(slot)
        elif held_before and not held_after:
            release.append(slot)
    customer_before = before is not None and before[0] == "customer"
    customer_after = after is not None and after[0] == "customer"
    if customer_after and not customer_before:
        claim.append("customer")
    elif customer_before and not customer_after:
        release.append("customer")
    return {"counters": counters, "claim": claim, "release": release}
