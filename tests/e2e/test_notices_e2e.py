"""Notices end to end over real HTTP against the running local stack (issue 4 §5): the API writes
a notice event and hands it to roster-notice-fanout, the queue runner runs notice_fanout, which
plans batches of ≤ 50 recipients per language onto roster-notice-batch, send_notice_batch sends each with one SES
SendBulkTemplatedEmail, and the dev console's outbox shows every mail rendered.

The maintenance moves by the `notice_schedule` schedule. The stack fires it every minute on its
own; to stay fast, the test fires it through the console (`POST /schedules/notice_schedule/fire`)
once each moment has passed (real time: the subprocess has the system clock). A reminder is a
whole number of minutes before the start, so the maintenance is published with its start a
minute ahead, gets its reminder at once, and is then moved (PATCH, a `rescheduled` mail) to start
a few seconds later; the reminder of the new start lies in the past and is skipped, so the
catch-up rule is exercised too. A background firing of the regular schedule may do any step
first: each mail is still sent once, and that is what is asserted.

The audience: one person in two accounts (one mail naming both), a designated technical contact
who chose no notifications (reached for maintenance and outage), a member who chose only
outages, one in a draft account (never reached). Addresses are unique per run: the stack is
shared by the whole session.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.e2e.conftest import eventually
from tests.e2e.test_mail_e2e import TIMEOUT, Api

pytestmark = pytest.mark.e2e

COMPLETE = {"business_type": "it_services", "language": "de",
            "address": {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich", "country": "CH"}}
SUBJECTS = {  # (language, event kind) → how the subject starts: "[<severity>] <headline>: "
    ("fr", "published"): "[Info] Maintenance planifiée: ",
    ("fr", "reminder"): "[Info] Rappel : maintenance à venir: ",
    ("fr", "rescheduled"): "[Info] Maintenance: reportée: ",
    ("fr", "started"): "[Info] Maintenance: commencée: ",
    ("fr", "completed"): "[Info] Maintenance: terminée: ",
    ("it", "published"): "[Info] Manutenzione pianificata: ",
    ("it", "reminder"): "[Info] Promemoria: manutenzione in arrivo: ",
    ("it", "rescheduled"): "[Info] Manutenzione: rinviata: ",
    ("it", "started"): "[Info] Manutenzione: iniziata: ",
    ("it", "completed"): "[Info] Manutenzione: completata: ",
    ("de", "published"): "[Info] Wartung geplant: ",
    ("de", "reminder"): "[Info] Erinnerung: Wartung steht bevor: ",
    ("de", "rescheduled"): "[Info] Wartung: verschoben: ",
    ("de", "started"): "[Info] Wartung: begonnen: ",
    ("de", "completed"): "[Info] Wartung: abgeschlossen: ",
}
OUTAGE_SUBJECTS = {
    ("fr", "published"): "[Majeure] Panne signalée: ",
    ("fr", "update"): "[Majeure] Panne: mise à jour: ",
    ("fr", "resolved"): "[Majeure] Panne: résolue: ",
    ("en", "published"): "[Major] Outage reported: ",
    ("en", "update"): "[Major] Outage: update: ",
    ("en", "resolved"): "[Major] Outage: resolved: ",
}
MAINTENANCE_KINDS = ["published", "reminder", "rescheduled", "started", "completed"]
REMINDER_NOTE = {"fr": "Début dans 1 min", "it": "Inizio tra 1 min", "de": "Beginn in 1 Min."}


def moment(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def now() -> datetime:
    return datetime.now(timezone.utc)


def wait_until(at: datetime) -> None:
    delay = (at - now()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


class Console:
    def __init__(self, local_stack):
        self.base = local_stack.console_url
        self.session = requests.Session()
        self.session.trust_env = False

    def mails(self, domain: str) -> list[dict]:
        response = self.session.get(f"{self.base}/outbox", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return [mail for mail in response.json() if any(to.endswith("@" + domain) for to in mail["to"])]

    def fire(self, function: str = "notice_schedule") -> dict:
        response = self.session.post(f"{self.base}/schedules/{function}/fire", timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def received(self, domain: str, titles: dict[str, str], subjects: dict) -> dict[str, list[tuple[str, dict]]]:
        """Per person (the address's local part, for those in `titles`): (event kind, mail) of each
        of their mails whose subject ends with the title they get, in the order SES accepted them."""
        found: dict[str, list[tuple[str, dict]]] = {}
        for mail in self.mails(domain):
            [address] = mail["to"]
            who = address.split("@")[0]
            if who not in titles or not mail["subject"].endswith(titles[who]):
                continue
            kind = next((k for (language, k), start in subjects.items() if mail["subject"].startswith(start)), "?")
            found.setdefault(who, []).append((kind, mail))
        return found


def every(received: dict, people, kind: str) -> dict | None:
    """The `kind` mail of each of `people`, once each has one."""
    mails = {who: [m for k, m in received.get(who, []) if k == kind] for who in people}
    return {who: found[0] for who, found in mails.items()} if all(mails.values()) else None


@pytest.fixture(scope="module")
def world(local_stack):
    """A tenant (default language de), two active accounts and a draft, and their contacts."""
    operator = Api(local_stack.api_url, local_stack.platform_key)
    created = operator.call("POST", "/tenants", {"name": f"Alpine Telecom {uuid.uuid4().hex[:6]}",
                                                  "default_language": "de"}, expect=201)
    api = Api(local_stack.api_url, created["api_key"])
    domain = f"n{uuid.uuid4().hex[:8]}.example"
    people: dict[str, str] = {}

    def contact(account_id: str, who: str, **fields) -> None:
        reply = api.call("POST", f"/accounts/{account_id}/contacts",
                         {"email": f"{who}@{domain}", "first_name": who.capitalize(), **fields}, expect=201)
        people[who] = reply["person_id"]

    def account(name: str, *, onboard: bool = True) -> str:
        account_id = api.call("POST", "/accounts", {"name": name, **COMPLETE}, expect=201)["account_id"]
        # an account needs a caretaker and an on-site admin to be onboarded (active); this one
        # chose no notifications
        contact(account_id, f"admin{len(people)}", language="de", roles=["caretaker", "on_site_admin"],
                notifications=[])
        if onboard:
            assert api.call("POST", f"/accounts/{account_id}/onboarding/complete")["status"] == "active"
        return account_id

    muster, berg, draft = account("Muster AG"), account("Berg GmbH"), account("Entwurf AG", onboard=False)
    contact(muster, "anna", language="fr", notifications=["maintenance", "outage"])
    contact(berg, "anna", language="fr", notifications=["maintenance"])              # the same person
    contact(muster, "bruno", language="it", notifications=["maintenance"])
    contact(berg, "dora", notifications=[])                                          # the account's language (de)
    api.call("PUT", f"/accounts/{berg}/designated-contacts", {"technical": people["dora"]})
    contact(muster, "eve", language="en", notifications=["outage"])                  # outages only
    contact(draft, "fritz", language="de", notifications=["maintenance", "outage"])  # a draft account
    return {"api": api, "domain": domain, "people": people, "accounts": {"muster": muster, "berg": berg}}


def assert_notice_mail(mail: dict, local_stack, language: str, accounts: list[str]) -> None:
    """Rendered in the person's language, naming their affected accounts, with their preferences link."""
    assert mail["rendering_failure"] is None, mail["rendering_failure"]
    assert mail["template"] == f"roster-notice-{language}"
    for name in accounts:
        assert name in mail["text"] and name in mail["html"], (name, mail["text"])
    [link] = {link for link in mail["links"] if "/preferences/" in link}
    assert link.startswith(f"{local_stack.api_url}/preferences/"), link
    assert link in mail["text"]


def settled(api: Api, notice_id: str, events: int) -> dict | None:
    """The notice once it has `events` events, each fanned out and with no recipient queued."""
    notice = api.call("GET", f"/notices/{notice_id}")
    done = [e for e in notice["events"] if e["fanout"] == "planned" and e["deliveries"]["queued"] == 0]
    return notice if len(notice["events"]) == len(done) == events else None


def deliveries(api: Api, notice_id: str) -> list[dict]:
    rows, cursor = [], None
    while True:
        page = api.call("GET", f"/notices/{notice_id}/deliveries?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_a_maintenance_is_announced_reminded_started_and_completed_once_per_person(local_stack, world):
    api, domain, console = world["api"], world["domain"], Console(local_stack)
    tag = uuid.uuid4().hex[:6]
    title = {"de": f"Router-Wechsel {tag}", "fr": f"Remplacement des routeurs {tag}",
             "it": f"Sostituzione dei router {tag}"}
    languages = {"anna": "fr", "bruno": "it", "dora": "de"}
    accounts = {"anna": ["Muster AG", "Berg GmbH"], "bruno": ["Muster AG"], "dora": ["Berg GmbH"]}
    titles = {who: title[language] for who, language in languages.items()}
    start = now() + timedelta(seconds=72)  # its 1-minute reminder is due 12 s from now
    notice_id = api.call("POST", "/notices", {
        "type": "maintenance", "title": title,
        "body": {"de": "Wir ersetzen die Core-Router.", "fr": "Nous remplaçons les routeurs.",
                 "it": "Sostituiamo i router."},
        "affected": {"all": True}, "starts_at": moment(start), "ends_at": moment(start + timedelta(minutes=30)),
        "reminders": [1]}, expect=201)["notice_id"]
    published = api.call("POST", f"/notices/{notice_id}/publish", expect=202)
    assert [step["state"] for step in published["notice"]["schedule"] if step["step"].startswith("reminder")] \
        == ["planned"], "the publish came after the reminder's moment (a very slow machine?)"
    assert (published["coverage"], published["coverage_status"]) == (None, "pending")

    def counted() -> dict | None:
        return api.call("GET", f"/notices/{notice_id}")["coverage"]

    coverage = eventually(counted, "the coverage the fan-out counted")
    # the admins chose nothing, eve only outages, fritz is in a draft account; anna once for two accounts
    assert (coverage["affected_accounts"], coverage["recipients"], coverage["unreached_accounts"]) == (2, 3, 0)
    assert coverage["by_language"] == {"de": 1, "fr": 1, "it": 1}

    def mails(kind: str) -> dict | None:
        return every(console.received(domain, titles, SUBJECTS), languages, kind)

    for who, mail in eventually(lambda: mails("published"), "the announcement to anna, bruno and dora").items():
        assert_notice_mail(mail, local_stack, languages[who], accounts[who])

    wait_until(start - timedelta(minutes=1))  # the reminder's moment
    console.fire()
    for who, mail in eventually(lambda: mails("reminder"), "the reminder").items():
        assert REMINDER_NOTE[languages[who]] in mail["text"], mail["text"]

    # The start moves to a few seconds from now: a `rescheduled` mail. The new start's reminder
    # (a minute before it) is already past: it is skipped, never sent late.
    current = api.call("GET", f"/notices/{notice_id}")
    new_start = now() + timedelta(seconds=4)
    if new_start.replace(second=0, microsecond=0) == start.replace(second=0, microsecond=0):
        # A reminder's key names the minute of its start: in the old start's minute the new
        # start's reminder would be the one already sent. Start in the next minute (seconds on),
        # once that start's reminder, a minute before it, is past (else it is planned, not skipped).
        new_start = new_start.replace(second=1, microsecond=0) + timedelta(minutes=1)
        wait_until(new_start - timedelta(seconds=59))
    new_end = new_start + timedelta(seconds=6)
    moved = api.call("PATCH", f"/notices/{notice_id}", {"version": current["version"],
                                                         "starts_at": moment(new_start), "ends_at": moment(new_end)})
    states = {step["step"]: step["state"] for step in moved["schedule"]}
    assert states["started"] == states["completed"] == "planned"
    assert sorted(state for step, state in states.items() if step.startswith("reminder")) == ["done", "skipped"]
    eventually(lambda: mails("rescheduled"), "the rescheduled mail")

    wait_until(new_start)
    console.fire()
    eventually(lambda: mails("started"), "the start mail")
    assert api.call("GET", f"/notices/{notice_id}")["status"] == "in_progress"
    wait_until(new_end)
    console.fire()
    eventually(lambda: mails("completed"), "the completion mail")

    final = eventually(lambda: settled(api, notice_id, 5), "five events, every recipient settled")
    assert final["status"] == "completed"
    assert [e["kind"] for e in final["events"]] == MAINTENANCE_KINDS
    assert final["deliveries"] == {"recipients": 15, "queued": 0, "sent": 15, "failed": 0, "suppressed": 0,
                                   "bounced": 0, "complained": 0}
    console.fire()  # nothing is due any more: another firing mails nothing
    time.sleep(1.5)
    received = console.received(domain, titles, SUBJECTS)
    assert {who: sorted(kind for kind, _ in theirs) for who, theirs in received.items()} == {
        who: sorted(MAINTENANCE_KINDS) for who in languages}  # each once, to nobody else
    for who, theirs in received.items():
        for _, mail in theirs:
            assert_notice_mail(mail, local_stack, languages[who], accounts[who])


def test_an_outage_is_mailed_updated_and_resolved_with_sent_figures(local_stack, world):
    api, domain, console = world["api"], world["domain"], Console(local_stack)
    tag = uuid.uuid4().hex[:6]
    title = {"de": f"Telefonie gestört {tag}", "en": f"Telephony down {tag}"}
    titles = {"anna": title["de"], "eve": title["en"]}  # no French text: anna gets the tenant's default
    languages = {"anna": "fr", "eve": "en"}
    notice_id = api.call("POST", "/notices", {
        "type": "outage", "title": title, "body": {"de": "Anrufe schlagen fehl.", "en": "Calls fail."},
        "affected": {"account_ids": [world["accounts"]["muster"]]}}, expect=201)["notice_id"]
    dry = api.call("POST", f"/notices/{notice_id}/publish?dry_run=true", expect=200)
    assert dry["dry_run"] is True and dry["notice"]["status"] == "draft"
    assert (dry["coverage"]["affected_accounts"], dry["coverage"]["recipients"]) == (1, 2)  # anna, eve
    assert api.call("POST", f"/notices/{notice_id}/publish", expect=202)["notice"]["status"] == "open"

    def mails(kind: str) -> dict | None:
        return every(console.received(domain, titles, OUTAGE_SUBJECTS), languages, kind)

    for who, mail in eventually(lambda: mails("published"), "the outage mail to anna and eve").items():
        assert_notice_mail(mail, local_stack, languages[who], ["Muster AG"])
        assert "Berg GmbH" not in mail["text"], who  # only the affected account

    api.call("POST", f"/notices/{notice_id}/updates", {"body": {"de": "Ursache gefunden.", "en": "Cause found."}},
             expect=202)
    assert "Cause found." in eventually(lambda: mails("update"), "the update")["eve"]["text"]
    resolved = api.call("POST", f"/notices/{notice_id}/resolve", {"body": {"de": "Behoben.", "en": "Fixed."}},
                        expect=202)
    assert resolved["status"] == "resolved"
    assert "Behoben." in eventually(lambda: mails("resolved"), "the resolution")["anna"]["text"]

    notice = eventually(lambda: settled(api, notice_id, 3), "three events, every recipient settled")
    assert [e["kind"] for e in notice["events"]] == ["published", "update", "resolved"]
    assert [e["deliveries"]["sent"] for e in notice["events"]] == [2, 2, 2]
    assert notice["deliveries"] == {"recipients": 6, "queued": 0, "sent": 6, "failed": 0, "suppressed": 0,
                                    "bounced": 0, "complained": 0}
    rows = deliveries(api, notice_id)
    assert sorted((r["event_key"], r["person_id"], r["status"]) for r in rows) == sorted(
        (e["event_key"], world["people"][who], "sent") for e in notice["events"] for who in languages)
    received = console.received(domain, titles, OUTAGE_SUBJECTS)
    assert {who: sorted(kind for kind, _ in theirs) for who, theirs in received.items()} == {
        who: ["published", "resolved", "update"] for who in languages}  # each once
