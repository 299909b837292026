"""What a person (signed in with an ID token) may do in an account.

The policy of each route is data on the route (`route(..., people=...)` in handlers/http.py);
these are the levels and the rules behind them (docs/permissions.md has the matrix).
"""
from __future__ import annotations

from chalicelib.domain.entities import Membership

MEMBER = "member"  # any active member of the account: read
MANAGE = "manage"  # the customer (main profile) or an `admin` member: manage contacts (C2, G9, N1)
PEOPLE_POLICIES = (None, MEMBER, MANAGE)  # None: the tenant's API key only (the default)

PROVIDER_MANAGED = "is managed by your provider"  # C6: data owned by the level above


def grants_access(membership: Membership | None) -> bool:
    """Only an active membership grants anything; pending, invited, declined, inactive don't."""
    return membership is not None and membership.is_active


def can_manage(membership: Membership) -> bool:
    return membership.is_active and (membership.kind == "customer" or "admin" in membership.roles)


def allows(policy: str | None, membership: Membership) -> bool:
    if policy == MEMBER:
        return grants_access(membership)
    if policy == MANAGE:
        return can_manage(membership)
    return False
