"""JSON shapes of the API's objects and of the link pages' JSON answers (docs/api.md)."""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations only: a renderer is called with what a service already loaded
    from chalicelib.domain.entities import Access, Account, ApiKey, ContactDetails, Membership, Page, Person, Tenant
    from chalicelib.domain.invitations import Answer, Invitation
    from chalicelib.services.preferences import PreferencePage


def tenant(t: Tenant) -> dict:
    """The tenant without its record of sender claims (GET /tenant/sender reports on those)."""
    shown = asdict(t)
    del shown["sender_claims"], shown["sender_dkim"]
    return shown


def new_tenant(t: Tenant, api_key_secret: str) -> dict:
    """A new tenant with its first API key's secret, shown this once."""
    return {"tenant": tenant(t), "api_key": api_key_secret}


def api_key(k: ApiKey) -> dict:
    return {"key_id": k.key_id, "name": k.name, "hint": k.hint, "created_at": k.created_at, "created_by": k.created_by}


def new_api_key(k: ApiKey, secret: str) -> dict:
    """A new key with its secret, shown this once."""
    return {"api_key": api_key(k), "secret": secret}


def account(a: Account) -> dict:
    return {
        "account_id": a.account_id, "name": a.name, "address": asdict(a.address), "business_type": a.business_type,
        "language": a.language, "email_domains": a.email_domains, "status": a.status,
        "designated_contacts": {"technical": a.technical_contact_id, "administrative": a.administrative_contact_id},
        "customer_person_id": a.customer_person_id, "member_count": a.member_count, "warnings": a.warnings,
        "created_at": a.created_at, "updated_at": a.updated_at, "version": a.version,
    }


def person(p: Person) -> dict:
    return {"person_id": p.person_id, "email": p.email, "first_name": p.first_name, "last_name": p.last_name,
            "phone": p.phone, "language": p.language, "undeliverable": p.undeliverable,
            "created_at": p.created_at, "updated_at": p.updated_at, "version": p.version}


def membership(m: Membership) -> dict:
    return {"account_id": m.account_id, "person_id": m.person_id, "kind": m.kind, "status": m.status,
            "roles": m.roles, "permissions": m.permissions, "notifications": m.notifications,
            "undeliverable": m.undeliverable, "created_at": m.created_at, "updated_at": m.updated_at, "version": m.version}


def contact(c: ContactDetails, invitee_only: bool = False) -> dict:
    """`invitee_only`: the person as the inviter knows them, their id and the e-mail invited."""
    shown = {"person_id": c.person.person_id, "email": c.person.email} if invitee_only else person(c.person)
    return {**membership(c.membership), "person": shown}


def access(a: Access) -> dict:
    m = a.membership
    return {"account_id": m.account_id, "account_name": a.account_name, "account_status": a.account_status,
            "kind": m.kind, "status": m.status, "roles": m.roles, "permissions": m.permissions}


# the status of the membership an invitation offers, while the invitation is in this status
_MEMBERSHIP_STATUS = {"pending": "pending", "invited": "invited", "accepted": "active", "declined": "declined"}


def invitation(i: Invitation) -> dict:
    return {"invitation_id": i.invitation_id, "account_id": i.account_id, "person_id": i.person_id,
            "email": i.email, "kind": i.kind, "roles": i.roles, "permissions": i.permissions,
            "notifications": i.notifications, "language": i.language, "status": i.status,
            "membership_status": _MEMBERSHIP_STATUS.get(i.status), "expires_at": i.expires_at,
            "invited_by": i.invited_by, "mail_job_id": i.mail_job_id, "created_at": i.created_at,
            "updated_at": i.updated_at, "responded_at": i.responded_at, "version": i.version}


def invitation_answer(a: Answer, answered: bool) -> dict:
    """An invitation link's answer to an API client (`Accept: application/json`); `answered`:
    the ids only when the answer took effect."""
    return {"status": a.state, "invitation_id": a.invitation_id if answered else None,
            "account_id": a.context.account_id if answered and a.context else None}


def preferences(p: PreferencePage, shown: bool) -> dict:
    """A preferences link's answer to an API client; `shown`: the choices only for a genuine link."""
    if not shown:
        return {"status": p.state}
    return {"status": p.state, "language": p.language, "notice_type": p.notice_type, "accounts": [
        {"account_id": a.account_id, "account_name": a.account_name, "notifications": a.notifications,
         "designated": a.designated, "always": sorted(a.forced)} for a in p.accounts]}


def page(p: Page, render) -> dict:
    return {"items": [render(item) for item in p.items], "next_cursor": p.next_cursor}


def mail_job(view, next_cursor: str | None) -> dict:
    return {"job_id": view.job_id, "kind": view.kind, "account_id": view.account_id, "created_at": view.created_at,
            "status": view.status,
            "recipients": {"items": [{"recipient": r.key.removeprefix("R#"), "email": r.email, "person_id": r.person_id,
                                      "language": r.language or None, "status": r.status, "detail": r.detail,
                                      "updated_at": r.updated_at} for r in view.recipients],
                           "next_cursor": next_cursor}}


def audit_entry(e) -> dict:
    return {"action": e.action, "actor": {"type": e.actor_type, "id": e.actor_id}, "at": e.at, "target": e.target,
            "changed": e.changed}


def me(m) -> dict:
    """GET /me: the person and every membership, for the account picker (G6)."""
    return {"person": person(m.person), "memberships": [
        {"account_id": row.membership.account_id, "company_name": row.account.name if row.account else None,
         "account_status": row.account.status if row.account else None, "kind": row.membership.kind,
         "status": row.membership.status, "roles": row.membership.roles, "permissions": row.membership.permissions,
         "notifications": row.membership.notifications, "can_manage": row.can_manage,
         "version": row.membership.version}
        for row in m.memberships]}


def notice(n, figures: dict | None = None, events=None) -> dict:
    body = {"notice_id": n.notice_id, "type": n.type, "severity": n.severity, "status": n.status, "title": n.title,
            "body": n.body, "affected": n.affected, "starts_at": n.starts_at, "ends_at": n.ends_at,
            "reminders": n.reminders, "created_at": n.created_at, "updated_at": n.updated_at,
            "published_at": n.published_at, "created_by": n.created_by, "coverage": n.coverage,
            "version": n.version}
    if n.type == "maintenance" and n.steps:
        body["schedule"] = sorted(({"step": key, "at": step["at"], "state": step["state"]}
                                   for key, step in n.steps.items()), key=lambda s: (s["at"], s["step"]))
    if figures is not None:
        body["deliveries"] = figures
    if events is not None:
        body["events"] = [notice_event(e) for e in events]
    return body


def notice_event(e) -> dict:
    return {"event_key": e.event_key, "kind": e.kind, "notice_status": e.notice_status, "created_at": e.created_at,
            "body": e.body if e.kind in ("update", "resolved", "cancelled") else None,
            "detail": {k: v for k, v in e.detail.items() if k != "by"} or None, "by": e.detail.get("by"),
            "fanout": e.fanout, "recipients": e.recipients, "batches": e.batches,
            "deliveries": {"queued": e.queued, "sent": e.sent, "failed": e.failed, "suppressed": e.suppressed,
                           "bounced": e.bounced, "complained": e.complained}}


def notice_view(view) -> dict:
    return notice(view.notice, view.figures, view.events)


def coverage(report) -> dict:
    return {**report.coverage.as_dict(),
            "unreached": {"items": report.unreached, "next_cursor": report.next_cursor}}
