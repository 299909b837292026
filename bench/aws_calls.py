"""AWS usage per route: every route of the app, one realistic request each, metered.

Runs the app in-process on moto (mock_aws + chalice.test.Client, like the functional tests;
stock moto but for the kept fixes of docs/local-stack.md) with bench/meter.py: each AWS call
by service and operation, split into the gate and the route's own calls; DynamoDB capacity
units; the product's CPU time. The gate: the authentication (the API-key GetItem, a person token's Query,
or the platform key's Secrets Manager read, which is cached), a person's membership in the
path's account, and on mail-causing routes the request limit's counter. Every route in
`app.app.routes` must have a scenario here: a new route without one makes this script fail.

Budget for the route's own DynamoDB requests: a read is 1 request; a write at most 1 read and
then 1 write (one transaction when several items change), no read after the write; a list page
1 Query; a dry run or coverage of a notice reads its audience in pages (issue 15 lets them stay
paginated reads) and writes nothing; a batch (of invitations) each item as a write, one
transaction each, plus one read for the batch; no Scan anywhere. Other services' calls are
shown, not budgeted.

    python bench/aws_calls.py [--strict]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PLATFORM_KEY, apply_fake_aws, markdown_table, save  # noqa: E402
from bench.meter import READS, WRITES, Call, Meter  # noqa: E402

BUDGETS = {"none": "no AWS call", "read": "1 read", "write": "≤ 1 read, then 1 write",
           "list": "1 Query", "audience": "paginated reads, no write",
           "batch": "per item ≤ 1 read, then 1 write; 1 read for the batch"}


def over_budget(budget: str, calls: list[Call]) -> str:
    """Why the route's own calls break the budget ("" when they keep it)."""
    dynamodb = [c.operation for c in calls if c.service == "DynamoDB"]
    reads = [op for op in dynamodb if op in READS]
    writes = [op for op in dynamodb if op in WRITES]
    if "Scan" in dynamodb:
        return "Scan"
    if budget == "none":
        return f"{len(calls)} calls" if calls else ""
    if budget == "read":
        return f"{len(reads)} reads" if len(reads) > 1 else f"writes: {', '.join(writes)}" if writes else ""
    if budget == "audience":  # a dry run or coverage reads the audience page by page: reads only
        return f"writes: {', '.join(writes)}" if writes else ""
    if budget == "list":
        return "" if dynamodb in ([], ["Query"]) else f"{' + '.join(dynamodb)}"
    if budget == "batch":  # each item a write's budget, plus one read for the batch (its account)
        reads_before, problems = [0], []
        for op in dynamodb:
            if op in WRITES:
                reads_before.append(0)
            elif op in READS:
                reads_before[-1] += 1
        if reads_before[0] > 2 or any(n > 1 for n in reads_before[1:-1]):
            problems.append("more than 1 read for an item")
        if reads_before[-1] and len(reads_before) > 1:
            problems.append("read after the last write")
        return ", ".join(problems)
    first_write = next((n for n, op in enumerate(dynamodb) if op in WRITES), len(dynamodb))
    problems = []
    if len(reads) > 1:
        problems.append(f"{len(reads)} reads")
    if len(writes) > 1:
        problems.append(f"{len(writes)} writes")
    if any(op in READS for op in dynamodb[first_write:]):
        problems.append("read after a write")
    return ", ".join(problems)


GATE = "gate"  # the meter's function name for the calls made before the route's own


@contextmanager
def gate_marked(meter: Meter) -> Iterator[None]:
    """Calls made to authenticate the credential, to authorise a person in the path's account
    (their membership) and to count the request limit are the gate, not the route's own
    (chalicelib stays untouched). The limit's counter is one UpdateItem of its own,
    not part of the route's transaction: every mail-causing request of a tenant in a minute
    updates the same item, and concurrent transactions on one item cancel each other
    (TransactionConflict) where plain UpdateItems queue."""
    from chalicelib.services.auth import Authenticator
    from chalicelib.services.limits import MailLimits
    from chalicelib.services.portal import PortalService

    originals = [(Authenticator, "authenticate", Authenticator.authenticate),
                 (PortalService, "active_membership", PortalService.active_membership),
                 (MailLimits, "take_request", MailLimits.take_request)]

    def marked(original):
        def call(self, *args, **kwargs):
            previous, meter.function = meter.function, GATE
            try:
                return original(self, *args, **kwargs)
            finally:
                meter.function = previous
        return call

    for owner, name, original in originals:
        setattr(owner, name, marked(original))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


# --- driving the app ---------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    json: Any


@dataclass
class Api:
    """A JSON client over chalice's test client, with a bearer key."""

    http: Any
    key: str | None

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> Reply:
        headers = {"content-type": "application/json"}
        token = self.key if key is None else key
        if token:
            headers["authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else b""
        response = self.http.request(method, path, headers=headers, body=payload)
        if not response.headers.get("Content-Type", "application/json").startswith("application/json"):
            return Reply(response.status_code, response.body)  # an HTML page (invitation links)
        return Reply(response.status_code, json.loads(response.body) if response.body else None)

    def must(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        reply = self.call(method, path, body)
        if reply.status != status:
            raise ScenarioError(f"setup {method} {path} answered {reply.status}, not {status}: {reply.json}")
        return reply.json


class ScenarioError(RuntimeError):
    pass


COMPLETE_ACCOUNT = {
    "name": "Muster AG", "business_type": "it_services", "language": "de",
    "address": {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich", "country": "CH"},
}


class World:
    """A fresh tenant per scenario, and the helpers that set its data up (not counted)."""

    def __init__(self, http: Any) -> None:
        self.platform = Api(http, PLATFORM_KEY)
        reply = self.platform.must("POST", "/tenants", {"name": "Acme Telecom", "default_language": "de"}, 201)
        self.api = Api(http, reply["api_key"])
        self.tenant_id = reply["tenant"]["tenant_id"]

    def person_token(self, email: str) -> str:
        """An ID token of the bench's local issuer for `email` in this tenant."""
        return _issuer().issue(self.tenant_id, email)

    def account(self, **fields: Any) -> str:
        return self.api.must("POST", "/accounts", {**COMPLETE_ACCOUNT, **fields}, 201)["account_id"]

    def contact(self, account_id: str, email: str, **fields: Any) -> str:
        return self.api.must("POST", f"/accounts/{account_id}/contacts", {"email": email, **fields}, 201)["person_id"]

    def ready_account(self) -> str:
        """A draft with everything onboarding needs."""
        aid = self.account()
        self.contact(aid, "care@example.com", roles=["caretaker"])
        self.contact(aid, "admin@example.com", roles=["on_site_admin"])
        return aid


@dataclass
class Request:
    path: str
    body: Any = None
    key: str | None = None  # None: the tenant's key; "": no Authorization header


@dataclass
class Scenario:
    method: str
    route: str  # the path as in the route table
    prepare: Callable[[World], Request]
    budget: str  # a key of BUDGETS
    status: int = 200
    variant: str = ""
    fresh_container: bool = False  # rebuild the composition root first: cold caches (platform key)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.route

    @property
    def label(self) -> str:
        return f"{self.method} {self.route}" + (f" ({self.variant})" if self.variant else "")


SCENARIOS: list[Scenario] = []


def scenario(method: str, route: str, budget: str, **options: Any) -> Callable:
    def register(prepare: Callable[[World], Request]) -> Callable[[World], Request]:
        SCENARIOS.append(Scenario(method, route, prepare, budget, **options))
        return prepare

    return register


# --- the scenarios: every route, plus variants whose calls differ --------------------------------
@scenario("GET", "/health", "none")
def _health(w: World) -> Request:
    return Request("/health", key="")


@scenario("GET", "/openapi.json", "none")
def _openapi(w: World) -> Request:
    return Request("/openapi.json", key="")


@scenario("POST", "/tenants", "write", status=201, variant="first platform call of a container",
          fresh_container=True)
def _create_tenant_cold(w: World) -> Request:
    return Request("/tenants", {"name": "Beta Networks", "default_language": "fr"}, key=PLATFORM_KEY)


@scenario("POST", "/tenants", "write", status=201)
def _create_tenant(w: World) -> Request:
    return Request("/tenants", {"name": "Gamma Hosting", "default_language": "en"}, key=PLATFORM_KEY)


@scenario("GET", "/tenant", "read")
def _get_tenant(w: World) -> Request:
    return Request("/tenant")


@scenario("PATCH", "/tenant", "write")
def _update_tenant(w: World) -> Request:
    return Request("/tenant", {"name": "Acme Telecom AG", "version": 1})


@scenario("POST", "/api-keys", "write", status=201)
def _create_api_key(w: World) -> Request:
    return Request("/api-keys", {"name": "ci"})


@scenario("GET", "/api-keys", "list")
def _list_api_keys(w: World) -> Request:
    w.api.must("POST", "/api-keys", {"name": "second"}, 201)
    return Request("/api-keys")


@scenario("DELETE", "/api-keys/{key_id}", "write", status=204)
def _revoke_api_key(w: World) -> Request:
    key = w.api.must("POST", "/api-keys", {"name": "old"}, 201)["api_key"]
    return Request(f"/api-keys/{key['key_id']}")


@scenario("POST", "/accounts", "write", status=201)
def _create_account(w: World) -> Request:
    return Request("/accounts", COMPLETE_ACCOUNT)


@scenario("GET", "/accounts", "list")
def _list_accounts(w: World) -> Request:
    w.account(), w.account(name="Beispiel GmbH")
    return Request("/accounts")


@scenario("GET", "/accounts", "list", variant="?status=draft")
def _list_accounts_by_status(w: World) -> Request:
    w.account()
    return Request("/accounts?status=draft")


@scenario("GET", "/accounts", "list", variant="?warning=no_caretaker")
def _list_accounts_by_warning(w: World) -> Request:
    w.account()
    return Request("/accounts?warning=no_caretaker")


@scenario("GET", "/accounts/{account_id}", "read")
def _get_account(w: World) -> Request:
    return Request(f"/accounts/{w.account()}")


@scenario("PATCH", "/accounts/{account_id}", "write")
def _update_account(w: World) -> Request:
    return Request(f"/accounts/{w.account()}", {"name": "Muster Holding AG", "version": 1})


@scenario("DELETE", "/accounts/{account_id}", "write", status=204, variant="draft with 2 members")
def _delete_account(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "a@example.com"), w.contact(aid, "b@example.com")
    return Request(f"/accounts/{aid}")


@scenario("POST", "/accounts/{account_id}/onboarding/complete", "write")
def _complete_onboarding(w: World) -> Request:
    return Request(f"/accounts/{w.ready_account()}/onboarding/complete")


@scenario("POST", "/accounts/{account_id}/contacts", "write", status=201, variant="new person")
def _add_contact_new_person(w: World) -> Request:
    return Request(f"/accounts/{w.account()}/contacts", {"email": "anna@example.com", "roles": ["caretaker"]})


@scenario("POST", "/accounts/{account_id}/contacts", "write", status=201, variant="person already in the tenant")
def _add_contact_existing_person(w: World) -> Request:
    w.contact(w.account(), "anna@example.com")
    return Request(f"/accounts/{w.account(name='Zweite AG')}/contacts", {"email": "anna@example.com"})


@scenario("GET", "/accounts/{account_id}/contacts", "list")
def _list_contacts(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "a@example.com"), w.contact(aid, "b@example.com")
    return Request(f"/accounts/{aid}/contacts")


@scenario("GET", "/accounts/{account_id}/contacts", "list", variant="second page")
def _list_contacts_page_two(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "a@example.com"), w.contact(aid, "b@example.com")
    cursor = w.api.must("GET", f"/accounts/{aid}/contacts?limit=1")["next_cursor"]
    if not cursor:
        raise ScenarioError("the first page of two contacts had no next_cursor")
    from urllib.parse import quote

    return Request(f"/accounts/{aid}/contacts?limit=1&cursor={quote(cursor)}")


@scenario("GET", "/accounts/{account_id}/contacts/{person_id}", "read")
def _get_contact(w: World) -> Request:
    aid = w.account()
    return Request(f"/accounts/{aid}/contacts/{w.contact(aid, 'a@example.com')}")


@scenario("PATCH", "/accounts/{account_id}/contacts/{person_id}", "write")
def _update_contact(w: World) -> Request:
    aid = w.account()
    return Request(f"/accounts/{aid}/contacts/{w.contact(aid, 'a@example.com')}",
                   {"roles": ["caretaker", "on_site_admin"], "version": 1})


@scenario("DELETE", "/accounts/{account_id}/contacts/{person_id}", "write", status=204)
def _remove_contact(w: World) -> Request:
    aid = w.account()
    return Request(f"/accounts/{aid}/contacts/{w.contact(aid, 'a@example.com', roles=['caretaker'])}")


@scenario("GET", "/accounts/{account_id}/designated-contacts", "read")
def _get_designated(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "tech@example.com", roles=["technical"])
    return Request(f"/accounts/{aid}/designated-contacts")


@scenario("PUT", "/accounts/{account_id}/designated-contacts", "write", variant="hand-over")
def _set_designated(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "old@example.com", roles=["technical"])
    new = w.contact(aid, "new@example.com")
    return Request(f"/accounts/{aid}/designated-contacts", {"technical": new})


@scenario("GET", "/accounts/{account_id}/audit", "list")
def _account_audit(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "a@example.com")
    return Request(f"/accounts/{aid}/audit?limit=10")


@scenario("GET", "/accounts/{account_id}", "read", variant="person token (member)")
def _get_account_as_person(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "anna@example.com")
    return Request(f"/accounts/{aid}", key=w.person_token("anna@example.com"))


@scenario("GET", "/me", "read", variant="2 memberships")
def _get_me(w: World) -> Request:
    first, second = w.account(), w.account(name="Beispiel GmbH")
    w.contact(first, "anna@example.com", kind="customer"), w.contact(second, "anna@example.com")
    return Request("/me", key=w.person_token("anna@example.com"))


@scenario("PATCH", "/me", "write")
def _update_me(w: World) -> Request:
    w.contact(w.account(), "anna@example.com")
    return Request("/me", {"first_name": "Anna", "language": "de"}, key=w.person_token("anna@example.com"))


@scenario("PATCH", "/me/memberships/{account_id}", "write")
def _update_my_membership(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "anna@example.com")
    return Request(f"/me/memberships/{aid}", {"notifications": ["outage", "maintenance"]},
                   key=w.person_token("anna@example.com"))


@scenario("GET", "/people", "list")
def _list_people(w: World) -> Request:
    aid = w.account()
    w.contact(aid, "a@example.com"), w.contact(aid, "b@example.com")
    return Request("/people")


@scenario("GET", "/people", "list", variant="?email=")
def _find_person(w: World) -> Request:
    w.contact(w.account(), "anna@example.com")
    return Request("/people?email=anna%40example.com")


@scenario("GET", "/people/{person_id}", "read")
def _get_person(w: World) -> Request:
    return Request(f"/people/{w.contact(w.account(), 'a@example.com')}")


@scenario("PATCH", "/people/{person_id}", "write", variant="name")
def _update_person(w: World) -> Request:
    return Request(f"/people/{w.contact(w.account(), 'a@example.com')}", {"first_name": "Anna", "version": 1})


@scenario("PATCH", "/people/{person_id}", "write", variant="e-mail change")
def _change_email(w: World) -> Request:
    return Request(f"/people/{w.contact(w.account(), 'a@example.com')}", {"email": "anna@example.org", "version": 1})


@scenario("DELETE", "/people/{person_id}", "write", status=204, variant="1 membership")
def _erase_person(w: World) -> Request:
    return Request(f"/people/{w.contact(w.account(), 'a@example.com', roles=['caretaker'])}")


@scenario("GET", "/people/{person_id}/access", "list", variant="2 memberships")
def _person_access(w: World) -> Request:
    pid = w.contact(w.account(), "anna@example.com")
    w.contact(w.account(name="Zweite AG"), "anna@example.com")
    return Request(f"/people/{pid}/access")


@scenario("GET", "/tenant/sender", "read", variant="no sender set")
def _get_sender(w: World) -> Request:
    return Request("/tenant/sender")


@scenario("GET", "/tenant/sender", "read", variant="address claimed and verified")
def _get_claimed_sender(w: World) -> Request:
    w.api.must("PATCH", "/tenant", {"sender": {"address": "noreply@alpine.example"}}, 200)
    w.api.must("POST", "/tenant/sender/verify", {}, 202)
    w.api.must("GET", "/tenant/sender")  # remembers `verified`: the measured read writes nothing
    return Request("/tenant/sender")


@scenario("POST", "/tenant/sender/verify", "write", status=202)
def _verify_sender(w: World) -> Request:
    # one address per scenario: the scenarios share one table, and a claimed address is taken
    w.api.must("PATCH", "/tenant", {"sender": {"address": "noreply@beta.example"}}, 200)
    return Request("/tenant/sender/verify")


@scenario("PATCH", "/tenant", "write", variant="sender address")
def _update_sender(w: World) -> Request:
    return Request("/tenant", {"sender": {"address": "noreply@gamma.example"}, "version": 1})


@scenario("GET", "/mail-jobs/{job_id}", "list")
def _get_mail_job(w: World) -> Request:
    w.api.must("PATCH", "/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"}}, 200)
    job_id = w.api.must("POST", f"/accounts/{w.account()}/contacts", {"email": "anna@example.com"},
                        201)["welcome_mail_job_id"]
    return Request(f"/mail-jobs/{job_id}")


# --- person tokens: a local issuer whose JWKS the app fetches from 127.0.0.1 (not an AWS call) ---
_ISSUERS: list = []


def _issuer():
    if not _ISSUERS:
        from infra.local_stack.token_issuer import TokenIssuer

        _ISSUERS.append(TokenIssuer(issuer="https://issuer.bench.test", audience="roster-bench"))
    return _ISSUERS[0]


def _trust_issuer(jwks_url: str) -> None:
    from chalicelib import bootstrap

    os.environ.update(_issuer().environment(jwks_url))
    bootstrap.reset()


def _invitation(w: World, aid: str, email: str = "zoe@example.com") -> dict:
    return w.api.must("POST", f"/accounts/{aid}/invitations", {"email": email}, 201)


def _invitation_token(w: World, invitation: dict) -> str:
    """The link's token, read from the invitation mail's outbox item (setup, not counted)."""
    from chalicelib.models import keys
    from chalicelib.models.mail import MailRecipientItem

    tenant_id = w.api.must("GET", "/tenant")["tenant_id"]
    [recipient] = MailRecipientItem.query(keys.mail_job(tenant_id, invitation["mail_job_id"]),
                                          MailRecipientItem.sk.startswith(keys.RECIPIENT_PREFIX))
    return recipient.data.as_dict()["link"].rsplit("/", 1)[1]


@scenario("POST", "/accounts/{account_id}/invitations", "write", status=201, variant="new person")
def _invite(w: World) -> Request:
    return Request(f"/accounts/{w.account()}/invitations", {"email": "zoe@example.com", "permissions": ["billing"]})


@scenario("POST", "/accounts/{account_id}/invitations", "write", status=201, variant="person already in the tenant")
def _invite_existing_person(w: World) -> Request:
    w.contact(w.account(), "zoe@example.com")
    return Request(f"/accounts/{w.account(name='Zweite AG')}/invitations", {"email": "zoe@example.com"})


@scenario("POST", "/accounts/{account_id}/invitations/batch", "batch", variant="2 invitations")
def _invite_batch(w: World) -> Request:
    return Request(f"/accounts/{w.account()}/invitations/batch",
                   {"invitations": [{"email": "a@example.com"}, {"email": "b@example.com"}]})


@scenario("GET", "/accounts/{account_id}/invitations", "list")
def _list_invitations(w: World) -> Request:
    aid = w.account()
    _invitation(w, aid)
    return Request(f"/accounts/{aid}/invitations?status=pending")


@scenario("GET", "/accounts/{account_id}/invitations/{invitation_id}", "read")
def _get_invitation(w: World) -> Request:
    aid = w.account()
    return Request(f"/accounts/{aid}/invitations/{_invitation(w, aid)['invitation_id']}")


@scenario("POST", "/accounts/{account_id}/invitations/{invitation_id}/resend", "write")
def _resend_invitation(w: World) -> Request:
    aid = w.account()
    invitation = _invitation(w, aid)
    _skip_ahead(61)  # past the resend cooldown (a resend within it answers 429)
    return Request(f"/accounts/{aid}/invitations/{invitation['invitation_id']}/resend", {})


def _skip_ahead(seconds: float) -> None:
    """Moves the app's clock on for the scenarios that follow (setup, not counted)."""
    from datetime import timedelta

    from chalicelib import bootstrap
    from chalicelib.adapters.clock import iso

    clock = bootstrap.get_clock()

    class Later:
        def now(self):
            return clock.now() + timedelta(seconds=seconds)

        def now_iso(self):
            return iso(self.now())

    bootstrap.override(clock=Later())


@scenario("DELETE", "/accounts/{account_id}/invitations/{invitation_id}", "write", status=204)
def _revoke_invitation(w: World) -> Request:
    aid = w.account()
    return Request(f"/accounts/{aid}/invitations/{_invitation(w, aid)['invitation_id']}")


@scenario("GET", "/invitations/{token}", "read", variant="the offer page")
def _invitation_page(w: World) -> Request:
    return Request(f"/invitations/{_invitation_token(w, _invitation(w, w.account()))}", key="")


@scenario("HEAD", "/invitations/{token}", "read", variant="a mail scanner")
def _invitation_page_head(w: World) -> Request:
    return Request(f"/invitations/{_invitation_token(w, _invitation(w, w.account()))}", key="")


@scenario("POST", "/invitations/{token}/accept", "write")
def _accept_invitation(w: World) -> Request:
    return Request(f"/invitations/{_invitation_token(w, _invitation(w, w.account()))}/accept", key="")


@scenario("POST", "/invitations/{token}/decline", "write")
def _decline_invitation(w: World) -> Request:
    return Request(f"/invitations/{_invitation_token(w, _invitation(w, w.account()))}/decline", key="")


def _preferences_token(w: World, **contact: Any) -> str:
    """A member of two accounts and their preferences link's token (setup, not counted)."""
    from chalicelib import bootstrap

    aid = w.account()
    pid = w.contact(aid, "anna@example.com", notifications=["outage", "maintenance"], **contact)
    w.contact(w.account(name="Zweite AG"), "anna@example.com", notifications=["outage"])
    return bootstrap.get_preference_service().token(w.tenant_id, pid)


@scenario("GET", "/preferences/{token}", "read", variant="member of 2 accounts")
def _preferences_page(w: World) -> Request:
    return Request(f"/preferences/{_preferences_token(w)}", key="")


@scenario("HEAD", "/preferences/{token}", "read", variant="a mail scanner")
def _preferences_page_head(w: World) -> Request:
    return Request(f"/preferences/{_preferences_token(w)}", key="")


@scenario("POST", "/preferences/{token}", "write", variant="one of 2 accounts changes")
def _save_preferences(w: World) -> Request:
    token = _preferences_token(w)
    account_id = w.api.must("GET", "/accounts")["items"][-1]["account_id"]
    return Request(f"/preferences/{token}", {"choices": {account_id: ["security"]}}, key="")


@scenario("POST", "/preferences/{token}/unsubscribe", "write", variant="a type chosen in 2 accounts")
def _unsubscribe(w: World) -> Request:
    return Request(f"/preferences/{_preferences_token(w)}/unsubscribe", {"type": "outage"}, key="")


# --- notices (issue 4) ---------------------------------------------------------------------------
OUTAGE = {"type": "outage", "title": {"de": "Störung Telefonie"}, "body": {"de": "Anrufe schlagen fehl."}}
MAINTENANCE = {"type": "maintenance", "title": {"de": "Wartung"}, "body": {"de": "Kurze Unterbrechungen."},
               "starts_at": "2099-01-01T22:00:00Z", "ends_at": "2099-01-02T00:00:00Z"}


def _notice(w: World, body: dict | None = None, publish: bool = False) -> str:
    """A draft (or published) notice to one active account with two recipients (setup, not counted)."""
    aid = w.ready_account()
    w.api.must("POST", f"/accounts/{aid}/onboarding/complete")
    w.contact(aid, "anna@example.com", notifications=["outage", "maintenance"])
    notice_id = w.api.must("POST", "/notices", {**(body or OUTAGE), "affected": {"account_ids": [aid]}}, 201)["notice_id"]
    if publish:
        w.api.must("POST", f"/notices/{notice_id}/publish", status=202)
    return notice_id


@scenario("POST", "/notices", "write", status=201, variant="to one named account")
def _create_notice(w: World) -> Request:
    aid = w.account()
    return Request("/notices", {**OUTAGE, "affected": {"account_ids": [aid]}})


@scenario("GET", "/notices", "list")
def _list_notices(w: World) -> Request:
    _notice(w)
    return Request("/notices")


@scenario("GET", "/notices/{notice_id}", "read", variant="published, 1 event")
def _get_notice(w: World) -> Request:
    return Request(f"/notices/{_notice(w, publish=True)}")


@scenario("PATCH", "/notices/{notice_id}", "write", variant="reschedule a scheduled maintenance")
def _reschedule_notice(w: World) -> Request:
    notice_id = _notice(w, MAINTENANCE, publish=True)
    return Request(f"/notices/{notice_id}", {"starts_at": "2099-01-08T22:00:00Z", "ends_at": "2099-01-09T00:00:00Z"})


@scenario("PATCH", "/notices/{notice_id}", "write", variant="the title of an open outage")
def _edit_notice_title(w: World) -> Request:
    return Request(f"/notices/{_notice(w, publish=True)}", {"title": {"de": "Störung Telefonie Zürich"}})


@scenario("DELETE", "/notices/{notice_id}", "write", status=204)
def _delete_notice(w: World) -> Request:
    return Request(f"/notices/{_notice(w)}")


@scenario("POST", "/notices/{notice_id}/publish", "write", status=202, variant="1 account, 2 recipients")
def _publish_notice(w: World) -> Request:
    return Request(f"/notices/{_notice(w)}/publish")


@scenario("POST", "/notices/{notice_id}/publish", "audience", variant="dry_run")
def _publish_notice_dry_run(w: World) -> Request:
    return Request(f"/notices/{_notice(w)}/publish?dry_run=true")


@scenario("POST", "/notices/{notice_id}/updates", "write", status=202)
def _notice_update(w: World) -> Request:
    return Request(f"/notices/{_notice(w, publish=True)}/updates", {"body": {"de": "Ursache gefunden."}})


@scenario("POST", "/notices/{notice_id}/resolve", "write", status=202)
def _resolve_notice(w: World) -> Request:
    return Request(f"/notices/{_notice(w, publish=True)}/resolve", {"body": {"de": "Behoben."}})


@scenario("POST", "/notices/{notice_id}/cancel", "write", status=202)
def _cancel_notice(w: World) -> Request:
    return Request(f"/notices/{_notice(w, MAINTENANCE, publish=True)}/cancel")


@scenario("GET", "/notices/{notice_id}/coverage", "audience", variant="1 account")
def _notice_coverage(w: World) -> Request:
    return Request(f"/notices/{_notice(w)}/coverage")


@scenario("GET", "/notices/{notice_id}/deliveries", "list", variant="before the fan-out ran: empty")
def _notice_deliveries(w: World) -> Request:
    return Request(f"/notices/{_notice(w, publish=True)}/deliveries")


@scenario("GET", "/notices/{notice_id}/deliveries", "list", variant="after the fan-out planned its batches")
def _notice_deliveries_planned(w: World) -> Request:
    from chalicelib import bootstrap

    notice_id = _notice(w, publish=True)
    bootstrap.get_notice_delivery().fan_out(w.tenant_id, notice_id, "published")  # setup, not counted
    return Request(f"/notices/{notice_id}/deliveries")


@scenario("GET", "/me/notices", "list", variant="member of 1 account")
def _my_notices(w: World) -> Request:
    _notice(w, publish=True)
    return Request("/me/notices", key=w.person_token("anna@example.com"))


# --- coverage and running ------------------------------------------------------------------------
def route_table(chalice_app: Any) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in chalice_app.routes.items() for method in methods}


def coverage(chalice_app: Any, scenarios: list[Scenario] = SCENARIOS) -> tuple[list, list]:
    """(routes without a scenario, scenarios for routes the app no longer has)."""
    routes, covered = route_table(chalice_app), {s.key for s in scenarios}
    return sorted(routes - covered), sorted(covered - routes)


@dataclass
class Result:
    scenario: Scenario
    status: int
    calls: list[Call]
    cpu_ms: float

    @property
    def gate(self) -> list[Call]:
        return [c for c in self.calls if c.function == GATE]

    @property
    def own(self) -> list[Call]:
        return [c for c in self.calls if c.function != GATE]

    @property
    def problem(self) -> str:
        return over_budget(self.scenario.budget, self.own)


@contextmanager
def app_on_moto(meter: Meter) -> Iterator[Any]:
    """The app on in-process moto, provisioned, with a person-token issuer; yields chalice's client."""
    from unittest import mock

    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import bootstrap
    from chalicelib.resources import RESOURCES
    from infra.local_stack.provisioning import create_resources
    from infra.local_stack.token_issuer import JwksServer

    from infra.local_stack import moto_transactions, ses_bulk_status

    # the kept moto fixes (docs/local-stack.md): a transaction copies the items it writes, not the
    # whole table (each transaction's cost grew with the table); a bulk send answers each
    # destination's Status, as SES does (without it every notice mail would count as refused)
    moto_transactions.install()
    ses_bulk_status.install()
    with mock.patch.dict(os.environ), mock_aws(), JwksServer(_issuer()) as jwks:
        create_resources(RESOURCES, endpoint_url=None, secret_values={"PlatformKey": PLATFORM_KEY})
        _trust_issuer(jwks.url)
        import app

        try:
            with gate_marked(meter), Client(app.app, stage_name="dev") as client:
                client.jwks_url = jwks.url
                yield client
        finally:
            bootstrap.reset()


def run(meter: Meter, scenarios: list[Scenario] = SCENARIOS) -> list[Result]:
    """Runs every scenario; raises ScenarioError when one does not answer as expected."""
    results = []
    with app_on_moto(meter) as client:
        for item in scenarios:
            world = World(client.http)
            request = item.prepare(world)
            if item.fresh_container:
                _trust_issuer(client.jwks_url)
            with meter.invocation("route") as invocation:
                reply = world.api.call(item.method, request.path, request.body, request.key)
            if reply.status != item.status:
                raise ScenarioError(f"{item.label}: answered {reply.status}, expected {item.status}: {reply.json}")
            results.append(Result(item, reply.status, invocation.calls, invocation.cpu_ms))
    return results


def format_calls(calls: list[Call]) -> str:
    return " → ".join(str(call) for call in calls) + f" ({len(calls)})" if calls else "—"


def render(results: list[Result]) -> str:
    rows = []
    for r in results:
        gate = format_calls(r.gate)
        if not r.gate and r.scenario.key == ("POST", "/tenants"):
            gate = "— (platform key cached)"
        rcu, wcu = sum(c.rcu for c in r.calls), sum(c.wcu for c in r.calls)
        rows.append([r.scenario.label, r.status, gate, format_calls(r.own), f"{rcu:g}", f"{wcu:g}",
                     f"{r.cpu_ms:.1f}", BUDGETS[r.scenario.budget], "yes" if not r.problem else f"NO: {r.problem}"])
    over = [r for r in results if r.problem]
    return "\n".join([
        "### AWS calls per request (moto in-process; gate = authentication, a person's membership in "
        "the path's account and the request limit's counter; RCU/WCU and CPU include the gate)", "",
        markdown_table(["route", "status", "gate", "route's own calls", "RCU", "WCU", "CPU ms", "budget",
                        "within budget"], rows),
        "", f"{len(results)} requests over {len({r.scenario.key for r in results})} routes; {len(over)} over budget."])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a route is over budget")
    args = parser.parse_args(argv)
    apply_fake_aws(os.environ)  # before anything creates a botocore client
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    meter = Meter()
    with meter.installed():
        import app

        missing, stale = coverage(app.app)
        for method, path in missing:
            print(f"no scenario for route {method} {path}: add one to bench/aws_calls.py", file=sys.stderr)
        for method, path in stale:
            print(f"scenario for a route the app does not have: {method} {path}", file=sys.stderr)
        if missing or stale:
            return 2
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the app's log lines and metrics: not what this reports
                results = run(meter)
        except ScenarioError as error:
            print(f"scenario failed: {error}", file=sys.stderr)
            return 2
    save("aws_calls", [{"route": r.scenario.label, "status": r.status, "gate": [str(c) for c in r.gate],
                        "own": [str(c) for c in r.own], "rcu": sum(c.rcu for c in r.calls),
                        "wcu": sum(c.wcu for c in r.calls), "cpu_ms": round(r.cpu_ms, 2),
                        "over_budget": r.problem} for r in results])
    print(render(results))
    return 1 if args.strict and any(r.problem for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
