"""An invitation end to end over real HTTP against the running local stack (issue 3 §5): the API
writes it with its mail, the queue runner sends it, the console's outbox shows the mail with its
link; the invitee opens the link (GET, HEAD change nothing), accepts through the page's form, and
then signs in with a console token and sees the account on GET /me.

Every wait is polled with a bounded timeout; nothing waits for the scheduler."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urljoin

import pytest
import requests

from tests.e2e.conftest import eventually

pytestmark = pytest.mark.e2e
TIMEOUT = 10


def _session(key: str | None = None) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1, never through a proxy
    if key:
        session.headers.update({"Authorization": f"Bearer {key}"})
    return session


def _call(session: requests.Session, method: str, url: str, body: dict | None = None, expect: int = 200) -> dict:
    response = session.request(method, url, json=body, timeout=TIMEOUT)
    assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.text}"
    return response.json() if response.content else {}


def test_invite_mail_link_accept_then_sign_in_and_see_the_account(local_stack):
    api_url, console = local_stack.api_url, local_stack.console_url
    operator = _session(local_stack.platform_key)
    created = _call(operator, "POST", f"{api_url}/tenants",
                    {"name": f"Invite Telecom {uuid.uuid4().hex[:6]}", "default_language": "de"}, expect=201)
    tenant_id = created["tenant"]["tenant_id"]
    api = _session(created["api_key"])
    account = _call(api, "POST", f"{api_url}/accounts", {"name": "Einlade AG", "language": "de"}, expect=201)
    account_id = account["account_id"]
    address = f"ivo.{uuid.uuid4().hex[:8]}@example.com"

    invitation = _call(api, "POST", f"{api_url}/accounts/{account_id}/invitations",
                       {"email": address, "language": "it", "permissions": ["billing"]}, expect=201)
    assert invitation["status"] == "pending" and invitation["membership_status"] == "pending"
    invitation_url = f"{api_url}/accounts/{account_id}/invitations/{invitation['invitation_id']}"

    # the runner sends it: the mail is in the outbox, in the invitee's language, with the link
    def mails():
        reply = requests.get(f"{console}/outbox", timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text
        return [m for m in reply.json() if address in m["to"]]

    [mail] = eventually(mails, f"invitation mail to {address} in the outbox")
    assert mail["rendering_failure"] is None, mail["rendering_failure"]
    assert mail["template"] == "roster-invitation-it"
    links = [link for link in mail["links"] if "/invitations/" in link]
    assert links and set(links) == {links[0]}, mail["links"]  # the button and the text part: one link
    link = links[0]
    assert link.startswith(f"{api_url}/invitations/"), (link, api_url)

    job = eventually(lambda: (j := _call(api, "GET", f"{api_url}/mail-jobs/{invitation['mail_job_id']}"))
                     ["status"] == "sent" and j, "sent mail job")
    assert [(r["status"], r["email"]) for r in job["recipients"]["items"]] == [("sent", address)]
    invited = eventually(lambda: (i := _call(api, "GET", invitation_url))["status"] == "invited" and i,
                         "invitation moved to invited")
    assert invited["membership_status"] == "invited"
    member_url = f"{api_url}/accounts/{account_id}/contacts/{invitation['person_id']}"
    assert _call(api, "GET", member_url)["status"] == "invited"

    # the invitee opens the link: an HTML page in Italian; GET and HEAD change nothing
    browser = _session()
    page = browser.get(link, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="it">' in page.text and "Invito" in page.text and "Accetta" in page.text
    assert "Einlade AG" in page.text and account_id in page.text and "Fatturazione" in page.text
    head = browser.head(link, timeout=TIMEOUT)
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/html") and not head.content
    assert _call(api, "GET", invitation_url)["status"] == "invited"

    # the page's Accept form: a form post to its action, relative to the page
    [action] = re.findall(r'<form method="post" action="([^"]+/accept)"', page.text)
    accepted = browser.post(urljoin(link, action), data={}, timeout=TIMEOUT)
    assert accepted.status_code == 200, accepted.text
    assert accepted.headers["content-type"].startswith("text/html")
    assert "Invito accettato" in accepted.text and "Einlade AG" in accepted.text

    member = _call(api, "GET", member_url)
    assert member["status"] == "active"
    contacts = _call(api, "GET", f"{api_url}/accounts/{account_id}/contacts")["items"]
    assert [(c["person_id"], c["status"]) for c in contacts if c["person_id"] == invitation["person_id"]] == [
        (invitation["person_id"], "active")]
    assert _call(api, "GET", invitation_url)["status"] == "accepted"

    # the new member signs in (a console ID token) and sees the account
    issued = requests.post(f"{console}/token", json={"tenant_id": tenant_id, "email": address}, timeout=TIMEOUT)
    assert issued.status_code == 200, issued.text
    me = _call(_session(issued.json()["token"]), "GET", f"{api_url}/me")
    assert [(m["account_id"], m["company_name"], m["status"], m["account_status"])
            for m in me["memberships"]] == [(account_id, "Einlade AG", "active", account["status"])]
