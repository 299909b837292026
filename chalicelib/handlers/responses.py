"""The shapes of the API's answers, in the types the requests are validated with (handlers/schema.py).

`route(..., responses={201: ACCOUNT})` names them; the OpenAPI document (GET /openapi.json)
describes each answer with them, and the tests check every answer against that document. They
mirror the renderers (handlers/render.py and the views).
"""
from __future__ import annotations

from chalicelib.domain.vocabulary import (
    ACCOUNT_STATUSES, BUSINESS_TYPES, EVENT_KINDS, INVITATION_STATUSES, LANGUAGES, MEMBERSHIP_KINDS, MEMBERSHIP_STATUSES,
    NOTICE_STATUSES, NOTICE_TYPES, NOTIFICATIONS, PERMISSIONS, ROLES, SEVERITIES, WARNINGS,
)
from chalicelib.handlers.schema import AnyValue, Boolean, Enum, Integer, ListOf, MapOf, Object, String, Type, nullable


def record(fields: dict[str, Type], optional: tuple[str, ...] = ()) -> Object:
    """An object that always carries its fields (but the `optional` ones), and no others."""
    return Object(fields, required=tuple(name for name in fields if name not in optional))


def page_of(item: Type) -> Object:
    """A list page (docs/api.md, Conventions)."""
    return record({"items": ListOf(item, max_items=None), "next_cursor": nullable(TEXT)})


def many(item: Type) -> ListOf:
    return ListOf(item, max_items=None)


TEXT = String(min_length=0, max_length=None, strip=False)
TIME = String(min_length=0, max_length=None, strip=False, format="date-time")
COUNT = Integer(minimum=0)
VERSION = Integer(minimum=1)
LANGUAGE = Enum(LANGUAGES)

ERROR = record({"error": record({
    "code": TEXT, "message": TEXT,
    "details": many(record({"field": TEXT, "problem": TEXT})),
})})

TENANT = record({
    "tenant_id": TEXT, "name": TEXT, "description": nullable(TEXT), "default_language": LANGUAGE,
    "created_at": TIME, "updated_at": TIME, "version": VERSION,
    "branding": Object({"brand_name": TEXT, "logo_url": TEXT, "brand_color": TEXT, "letterhead": TEXT,
                        "footer": TEXT}),
    "sender": Object({"address": TEXT, "reply_to": TEXT, "verified": Boolean()}),
    "welcome_mail": Object({"enabled": Boolean(), "portal_url": TEXT}),
    "staff_email": nullable(TEXT),
})
NEW_TENANT = record({"tenant": TENANT, "api_key": TEXT})
SENDER_STATUS = record({"address": nullable(TEXT), "reply_to": nullable(TEXT), "verified": Boolean(),
                        "verification_status": TEXT, "identity": nullable(TEXT),
                        "dkim_records": many(record({"name": TEXT, "type": Enum(("CNAME",)), "value": TEXT}))},
                       optional=("reply_to", "verified"))

API_KEY = record({"key_id": TEXT, "name": nullable(TEXT), "hint": TEXT, "created_at": TIME, "created_by": TEXT})
NEW_API_KEY = record({"api_key": API_KEY, "secret": TEXT})

DESIGNATED = record({"technical": nullable(TEXT), "administrative": nullable(TEXT)})
ACCOUNT = record({
    "account_id": TEXT, "name": nullable(TEXT),
    "address": record({"street": nullable(TEXT), "postal_code": nullable(TEXT), "city": nullable(TEXT),
                       "country": nullable(TEXT)}),
    "business_type": nullable(Enum(BUSINESS_TYPES)), "language": nullable(LANGUAGE), "email_domains": many(TEXT),
    "status": Enum(ACCOUNT_STATUSES), "designated_contacts": DESIGNATED, "customer_person_id": nullable(TEXT),
    "member_count": COUNT, "warnings": many(Enum(WARNINGS)), "created_at": TIME, "updated_at": TIME,
    "version": VERSION,
})

PERSON = record({
    "person_id": TEXT, "email": TEXT, "first_name": nullable(TEXT), "last_name": nullable(TEXT),
    "phone": nullable(TEXT), "language": nullable(LANGUAGE), "undeliverable": nullable(TEXT),
    "created_at": TIME, "updated_at": TIME, "version": VERSION,
})
GRANTS = {"roles": many(Enum(ROLES)), "permissions": many(Enum(PERMISSIONS))}
MEMBERSHIP_FIELDS = {
    "account_id": TEXT, "person_id": TEXT, "kind": Enum(MEMBERSHIP_KINDS), "status": Enum(MEMBERSHIP_STATUSES),
    **GRANTS, "notifications": many(Enum(NOTIFICATIONS)), "undeliverable": nullable(TEXT),
    "created_at": TIME, "updated_at": TIME, "version": VERSION,
}
MEMBERSHIP = record(MEMBERSHIP_FIELDS)
# a person token sees an invitee who has not joined yet only as {person_id, email} (permissions.md)
SEEN_PERSON = record(PERSON.fields, optional=tuple(name for name in PERSON.fields if name not in ("person_id", "email")))
CONTACT = record({**MEMBERSHIP_FIELDS, "person": SEEN_PERSON})
NEW_CONTACT = record({**MEMBERSHIP_FIELDS, "person": PERSON, "person_created": Boolean(),
                      "welcome_mail_job_id": nullable(TEXT)})
ACCESS = record({"account_id": TEXT, "account_name": nullable(TEXT), "account_status": nullable(Enum(ACCOUNT_STATUSES)),
                 "kind": Enum(MEMBERSHIP_KINDS), "status": Enum(MEMBERSHIP_STATUSES), **GRANTS})
ME = record({"person": PERSON, "memberships": many(record({
    "account_id": TEXT, "company_name": nullable(TEXT), "account_status": nullable(Enum(ACCOUNT_STATUSES)),
    "kind": Enum(MEMBERSHIP_KINDS), "status": Enum(MEMBERSHIP_STATUSES), **GRANTS,
    "notifications": many(Enum(NOTIFICATIONS)), "can_manage": Boolean(), "version": VERSION,
}))})

AUDIT_ENTRY = record({"action": TEXT, "actor": record({"type": Enum(("api_key", "person")), "id": TEXT}),
                      "at": TIME, "target": TEXT, "changed": many(TEXT)})

MAIL_JOB = record({
    "job_id": TEXT, "kind": TEXT, "account_id": nullable(TEXT), "created_at": TIME,
    "status": Enum(("in_progress", "sent", "settled")),
    "recipients": page_of(record({"recipient": TEXT, "email": TEXT, "person_id": nullable(TEXT),
                                  "language": nullable(LANGUAGE), "status": TEXT, "detail": nullable(TEXT),
                                  "updated_at": TIME})),
})

INVITATION = record({
    "invitation_id": TEXT, "account_id": TEXT, "person_id": TEXT, "email": TEXT,
    "kind": Enum(("contact", "guest")), **GRANTS, "notifications": many(Enum(NOTIFICATIONS)),
    "language": nullable(LANGUAGE), "status": Enum(INVITATION_STATUSES),
    "membership_status": nullable(Enum(("pending", "invited", "active", "declined"))), "expires_at": TIME,
    "invited_by": TEXT, "mail_job_id": nullable(TEXT), "created_at": TIME, "updated_at": TIME,
    "responded_at": nullable(TIME), "version": VERSION,
})
INVITATION_RESULTS = record({"items": many(Object(
    {"status": Integer(), "invitation": INVITATION, "error": ERROR.fields["error"]}, required=("status",)))})

TEXTS = MapOf(TEXT, keys=LANGUAGES)  # one text per language
COVERAGE_FIGURES = {"affected_accounts": COUNT, "recipients": COUNT, "unreached_accounts": COUNT,
                    "by_language": MapOf(COUNT)}
DELIVERY_FIGURES = {name: COUNT for name in ("queued", "sent", "failed", "suppressed", "bounced", "complained")}
NOTICE_EVENT = record({
    "event_key": TEXT, "kind": Enum(EVENT_KINDS), "notice_status": Enum(NOTICE_STATUSES), "created_at": TIME,
    "body": nullable(TEXTS), "detail": nullable(MapOf(AnyValue())), "by": nullable(TEXT),
    "fanout": TEXT, "recipients": COUNT, "batches": COUNT, "deliveries": record(DELIVERY_FIGURES),
})
NOTICE = record({
    "notice_id": TEXT, "type": Enum(NOTICE_TYPES), "severity": Enum(SEVERITIES), "status": Enum(NOTICE_STATUSES),
    "title": TEXTS, "body": TEXTS,
    "affected": Object({"all": Boolean(), "account_ids": many(TEXT)}),
    "starts_at": nullable(TIME), "ends_at": nullable(TIME), "reminders": many(Integer()),
    "created_at": TIME, "updated_at": TIME, "published_at": nullable(TIME), "created_by": nullable(TEXT),
    "coverage": nullable(record({**COVERAGE_FIGURES, "computed_at": TIME})), "version": VERSION,
    # a maintenance's steps; the figures and events of a single notice (not in lists)
    "schedule": many(record({"step": TEXT, "at": TIME, "state": Enum(("planned", "done", "skipped"))})),
    "deliveries": record({"recipients": COUNT, **DELIVERY_FIGURES}),
    "events": many(NOTICE_EVENT),
}, optional=("schedule", "deliveries", "events"))
COVERAGE = record({**COVERAGE_FIGURES, "unreached": page_of(TEXT)})
PUBLICATION = record({"dry_run": Boolean(), "notice": NOTICE, "coverage": nullable(COVERAGE),
                      "coverage_status": Enum(("pending", "computed"))})
DELIVERY = record({
    "event_key": TEXT, "person_id": TEXT, "account_ids": many(TEXT), "language": nullable(LANGUAGE),
    "status": Enum(("queued", "sent", "suppressed", "bounced", "complained", "failed")), "detail": nullable(TEXT),
    "ses_message_id": nullable(TEXT), "queued_at": nullable(TIME), "updated_at": nullable(TIME),
})
MY_NOTICE = record({
    "notice_id": TEXT, "type": Enum(NOTICE_TYPES), "severity": Enum(SEVERITIES), "status": Enum(NOTICE_STATUSES),
    "title": TEXTS, "body": TEXTS, "starts_at": nullable(TIME), "ends_at": nullable(TIME),
    "published_at": nullable(TIME), "updated_at": TIME, "account_ids": many(TEXT),
})

HEALTH = record({"status": Enum(("ok",))})

# The public pages' JSON answers (with Accept: application/json)
INVITATION_ANSWER = record({"status": Enum(("open", "accepted", "declined", "expired", "not_found", "conflict",
                                             "not_registered")),
                            "invitation_id": nullable(TEXT), "account_id": nullable(TEXT)})
PREFERENCES_ANSWER = record({
    "status": Enum(("open", "saved", "unsubscribed", "invalid", "not_found")),
    "language": LANGUAGE, "notice_type": nullable(Enum(NOTIFICATIONS)),
    "accounts": many(record({"account_id": TEXT, "account_name": nullable(TEXT),
                             "notifications": many(Enum(NOTIFICATIONS)), "designated": many(TEXT),
                             "always": many(Enum(NOTIFICATIONS))})),
    "error": ERROR.fields["error"],  # a malformed body on a genuine link
}, optional=("language", "notice_type", "accounts", "error"))
