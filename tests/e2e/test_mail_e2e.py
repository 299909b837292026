"""The mail pipeline end to end over real HTTP against the running local stack: the API writes the
job and dispatches it, the queue runner hands it to send_mail, SES (moto) accepts it and the dev
console shows it rendered; a mailbox-simulator bounce comes back through SNS → SQS → mail_feedback.

Nothing here waits for the scheduler (mail_sweeper fires every minute but only re-queues jobs
older than two minutes): every step is driven by the API's dispatch and the queue runner, polled
with a bounded timeout. Addresses are unique per run: the stack (and its suppression list) is
shared by the whole session.
"""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e
TIMEOUT = 10
PORTAL = "https://portal.alpine.example/login"
LOGO = "https://cdn.alpine.example/logo.png"


class Api:
    def __init__(self, base: str, key: str):
        self.base, self.session = base, requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        self.session.trust_env = False  # 127.0.0.1, never through a proxy

    def call(self, method: str, path: str, body: dict | None = None, expect: int | None = 200) -> dict:
        response = self.session.request(method, self.base + path, json=body, timeout=TIMEOUT)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


def outbox(local_stack, address: str) -> list[dict]:
    response = requests.get(f"{local_stack.console_url}/outbox", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return [mail for mail in response.json() if address in mail["to"]]


@pytest.fixture(scope="module")
def tenant(local_stack) -> Api:
    """A tenant of its own with the welcome mail on and its branding set."""
    operator = Api(local_stack.api_url, local_stack.platform_key)
    created = operator.call("POST", "/tenants", {"name": f"Alpine Telecom {uuid.uuid4().hex[:6]}",
                                                  "default_language": "de"}, expect=201)
    api = Api(local_stack.api_url, created["api_key"])
    api.call("PATCH", "/tenant", {
        "version": created["tenant"]["version"],
        "welcome_mail": {"enabled": True, "portal_url": PORTAL},
        "branding": {"brand_name": "Alpine Telecom", "brand_color": "#aa0000", "logo_url": LOGO,
                     "letterhead": "Alpine Telecom AG · Bern", "footer": "Alpine Telecom AG, Bundesplatz 1, Bern"}})
    return api


def new_account(api: Api, name: str) -> str:
    return api.call("POST", "/accounts", {"name": name, "language": "de"}, expect=201)["account_id"]


def add_contact(api: Api, account_id: str, email: str, **fields) -> dict:
    contact = api.call("POST", f"/accounts/{account_id}/contacts", {"email": email, **fields}, expect=201)
    assert contact["welcome_mail_job_id"], contact
    return contact


def recipients(api: Api, job_id: str) -> list[dict]:
    return api.call("GET", f"/mail-jobs/{job_id}")["recipients"]["items"]


def test_a_new_contact_gets_the_branded_welcome_mail_in_their_language(local_stack, tenant):
    address = f"anna.{uuid.uuid4().hex[:8]}@example.com"
    contact = add_contact(tenant, new_account(tenant, "Muster AG"), address, first_name="Anna", language="fr")

    [mail] = eventually(lambda: outbox(local_stack, address), f"mail to {address} in the outbox")

    assert mail["rendering_failure"] is None, mail["rendering_failure"]
    assert mail["template"] == "roster-welcome-fr"
    assert mail["from"] == "Alpine Telecom <no-reply@mail.roster.test>"
    assert mail["subject"] == "Bienvenue chez Alpine Telecom"
    assert mail["text"].startswith("Bonjour Anna\n") and "Muster AG" in mail["text"] and PORTAL in mail["text"]
    html = mail["html"]
    assert "<p>Bonjour Anna</p>" in html and "<strong>Muster AG</strong>" in html
    assert "background:#aa0000" in html and f'<img src="{LOGO}"' in html  # the layout, branded
    assert "Alpine Telecom AG · Bern" in html and "Alpine Telecom AG, Bundesplatz 1, Bern" in html
    assert mail["links"] == [PORTAL]  # the button (HTML) and the URL in the text part
    job = eventually(lambda: (j := tenant.call("GET", f"/mail-jobs/{contact['welcome_mail_job_id']}"))
                     ["status"] == "sent" and j, "sent job")
    assert [(r["status"], r["email"]) for r in job["recipients"]["items"]] == [("sent", address)]


def test_a_bounce_marks_the_person_and_suppresses_the_next_mail(local_stack, tenant):
    address = f"bounce+{uuid.uuid4().hex[:8]}@simulator.amazonses.com"
    contact = add_contact(tenant, new_account(tenant, "Bounce AG"), address, first_name="Bo")

    person = eventually(lambda: (p := tenant.call("GET", f"/people/{contact['person_id']}"))
                        ["undeliverable"] and p, f"feedback for {address}")
    assert person["undeliverable"] == "bounced"
    assert [r["status"] for r in recipients(tenant, contact["welcome_mail_job_id"])] == ["bounced"]
    assert len(outbox(local_stack, address)) == 1  # SES accepted it; the feedback came afterwards

    again = add_contact(tenant, new_account(tenant, "Second AG"), address, first_name="Bo")
    rows = eventually(lambda: [r for r in recipients(tenant, again["welcome_mail_job_id"]) if r["status"] != "queued"],
                      "a settled recipient of the second mail")
    assert [r["status"] for r in rows] == ["suppressed"]
    assert len(outbox(local_stack, address)) == 1  # the second one never reached SES
