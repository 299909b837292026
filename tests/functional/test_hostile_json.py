"""Hostile JSON wherever JSON enters (issue 14 §2): request bodies, the preferences POST, cursors and
queue messages. Nesting deeper than 32 levels is refused before it is parsed; a body answers 400
`malformed_json` naming `body`, a cursor 400 `invalid_cursor`, and a queue message fails alone:
the rest of its batch is handled and no exception leaves the worker."""
from __future__ import annotations

import base64
import json
import logging

import pytest

from tests.functional.conftest import COMPLETE_ACCOUNT, add_contact, assert_error, table_items
from tests.functional.invitation_helpers import page
from tests.functional.mail_helpers import deliver, drain, receive, sent_mails

DEEP = b"[" * 3000  # RecursionError in json.loads
MAIL, FEEDBACK, FANOUT, BATCH = "roster-mail", "roster-mail-feedback", "roster-notice-fanout", "roster-notice-batch"


def nested(levels: int) -> str:
    """A valid JSON object whose `name` nests arrays so that the whole body is `levels` deep."""
    return '{"name": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def problem(reply) -> str:
    [detail] = reply.json["error"]["details"]
    return detail["problem"]


# --- request bodies ---------------------------------------------------------------------------

def test_a_deeply_nested_body_is_400_malformed_json_on_every_kind_of_route(api, platform, account):
    aid = account["account_id"]
    before = table_items()
    for caller, method, path in ((platform, "POST", "/tenants"), (api, "PATCH", "/tenant"),
                                 (api, "POST", "/accounts"), (api, "PATCH", f"/accounts/{aid}"),
                                 (api, "POST", f"/accounts/{aid}/contacts"),
                                 (api, "POST", f"/accounts/{aid}/invitations/batch")):
        for raw in (DEEP, DEEP + b"]" * 3000, b'{"invitations": ' + DEEP):
            reply = caller.call(method, path, raw=raw)
            assert_error(reply, 400, "malformed_json", fields={"body"})
            assert problem(reply) == "nests deeper than 32 levels", (path, reply.json)
    assert table_items() == before


def test_nesting_is_bounded_at_32_levels_even_far_below_the_recursion_limit(api):
    for levels in (33, 500):
        reply = api.call("POST", "/accounts", raw=nested(levels).encode())
        assert_error(reply, 400, "malformed_json", fields={"body"})
        assert problem(reply) == "nests deeper than 32 levels"
    at_the_bound = api.call("POST", "/accounts", raw=nested(32).encode())
    assert_error(at_the_bound, 400, "invalid_request", fields={"name"})  # parsed, then refused for its content
    name = "[{" * 40 + '\\"' + "]}" * 40  # brackets inside strings are no nesting
    reply = api.call("POST", "/accounts", raw=b'{"name": "%s"}' % name.encode())
    assert reply.status == 201, reply.json
    assert reply.json["name"] == name.replace('\\"', '"')


def test_malformed_json_names_the_problem(api):
    reply = api.call("POST", "/accounts", raw=b'{"name": }')
    assert_error(reply, 400, "malformed_json", fields={"body"})
    assert problem(reply) == "is not valid JSON: Expecting value: line 1 column 10 (char 9)"


# --- the public preferences POST ----------------------------------------------------------------

@pytest.fixture
def preferences_path(api, account) -> str:
    from chalicelib import bootstrap

    person_id = add_contact(api, account["account_id"], "anna@example.com", notifications=["outage"])["person_id"]
    url = bootstrap.get_preference_service().link(api.get("/tenant").json["tenant_id"], person_id)
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("suffix", ["", "/unsubscribe"])
def test_a_deep_json_body_on_the_preferences_links_is_400(api, account, chalice_client, preferences_path, suffix):
    path = preferences_path + suffix
    before = table_items()
    as_json = page(chalice_client, "POST", path, body=DEEP,
                   headers={"content-type": "application/json", "accept": "application/json"})
    assert as_json.status == 400, as_json.body[:200]
    assert as_json.json == {"status": "invalid", "error": {
        "code": "malformed_json", "message": "Body is not valid JSON.",
        "details": [{"field": "body", "problem": "nests deeper than 32 levels"}]}}
    as_page = page(chalice_client, "POST", path, body=DEEP, headers={"content-type": "application/json"})
    assert as_page.status == 400 and as_page.headers["content-type"].startswith("text/html")
    assert table_items() == before


def test_a_json_body_that_is_not_json_is_not_read_as_a_form(api, account, chalice_client, preferences_path):
    aid = account["account_id"]
    reply = page(chalice_client, "POST", preferences_path, body=f"account={aid}&notify={aid}:billing".encode(),
                 headers={"content-type": "application/json", "accept": "application/json"})
    assert reply.status == 400 and reply.json["error"]["code"] == "malformed_json"
    assert api.get(f"/accounts/{aid}/contacts").json["items"][0]["notifications"] == ["outage"]


# --- cursors ------------------------------------------------------------------------------------

def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_that_decodes_to_deep_json_is_400_invalid_cursor(api, account):
    aid = account["account_id"]
    for raw in (b"[" * 1500, b'{"pk": ' + b"[" * 40 + b"]" * 40 + b"}"):  # a query value has ≤ 2048 characters
        for path in ("/accounts", "/people", "/api-keys", f"/accounts/{aid}/contacts", "/notices",
                     f"/accounts/{aid}/invitations"):
            reply = api.get(f"{path}?cursor={_cursor(raw)}")
            assert_error(reply, 400, "invalid_cursor", fields={"cursor"})


# --- queue messages -----------------------------------------------------------------------------

HOSTILE_BODIES = [DEEP.decode(), "[" * 40 + "]" * 40, "{", "[]", '"text"', "{}", '{"tenant_id": ["x"], "job_id": 1}']


def hostile(body: str, index: int) -> dict:
    """A message as ReceiveMessage returns it (the handler is called directly: it is never queued)."""
    return {"MessageId": f"hostile-{index}", "ReceiptHandle": f"handle-{index}", "Body": body,
            "Attributes": {"ApproximateReceiveCount": "1"}}


@pytest.fixture
def worker_logs(caplog):
    caplog.set_level(logging.ERROR)
    return caplog


def assert_reported(result: dict, hostiles: list[dict], logs) -> None:
    assert result == {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in hostiles]}
    logged = {r.message_id: r.problem for r in logs.records if r.getMessage() == "malformed message"}
    assert set(logged) == {m["MessageId"] for m in hostiles}
    assert logged["hostile-0"] == "body nests deeper than 32 levels"


def test_a_malformed_mail_job_fails_alone_and_the_rest_of_the_batch_is_sent(api, account, chalice_client,
                                                                            worker_logs):
    api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"}})
    add_contact(api, account["account_id"], "anna@example.com")
    [valid] = receive(MAIL)
    notice_batch = '{"kind": "notice_batch", "tenant_id": ["x"], "notice_id": {}, "batch": "b"}'
    hostiles = [hostile(body, i) for i, body in enumerate(HOSTILE_BODIES + [notice_batch])]
    result = deliver(chalice_client, "send_mail", MAIL, [hostiles[0], valid, *hostiles[1:]], delete=False)
    assert_reported(result, hostiles, worker_logs)
    assert len(sent_mails()) == 1


def test_a_malformed_fanout_job_fails_alone_and_the_rest_of_the_batch_fans_out(api, account, chalice_client,
                                                                                worker_logs):
    aid = account["account_id"]
    add_contact(api, aid, "anna@example.com", roles=["caretaker", "on_site_admin"], notifications=["outage"])
    assert api.post(f"/accounts/{aid}/onboarding/complete").status == 200
    notice_id = api.post("/notices", {"type": "outage", "title": {"de": "Störung"}, "body": {"de": "Kurz."},
                                      "affected": {"account_ids": [aid]}}).json["notice_id"]
    assert api.post(f"/notices/{notice_id}/publish").status == 202
    [valid] = receive(FANOUT)
    hostiles = [hostile(body, i) for i, body in enumerate(HOSTILE_BODIES)]
    result = deliver(chalice_client, "notice_fanout", FANOUT, [hostiles[0], valid, *hostiles[1:]], delete=False)
    assert_reported(result, hostiles, worker_logs)
    [planned] = receive(BATCH)  # the valid job planned its batch
    notice_batch = '{"kind": "notice_batch", "tenant_id": ["x"], "notice_id": {}, "batch": "b"}'
    hostiles = [hostile(body, i) for i, body in enumerate(HOSTILE_BODIES + [notice_batch])]
    worker_logs.clear()
    result = deliver(chalice_client, "send_notice_batch", BATCH, [hostiles[0], planned, *hostiles[1:]], delete=False)
    assert_reported(result, hostiles, worker_logs)
    assert len(sent_mails()) == 1


def test_malformed_ses_feedback_fails_alone_and_the_rest_of_the_batch_is_recorded(api, account, chalice_client,
                                                                                   worker_logs):
    from infra.local_stack import ses_feedback

    ses_feedback.install()
    api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"}})
    contact = add_contact(api, account["account_id"], "bounce@simulator.amazonses.com")
    drain(chalice_client, "send_mail", MAIL)
    [valid] = receive(FEEDBACK)  # raw delivery; without it SNS wraps the notification in an envelope
    envelope = {"Type": "Notification", "MessageId": "d3a8f6d4", "TopicArn": "arn:aws:sns:eu-central-1:1:feedback"}
    in_envelopes = [json.dumps({**envelope, "Message": message})
                    for message in (DEEP.decode(), "{", "[]", ["not", "text"])]
    hostiles = [hostile(body, i) for i, body in enumerate(HOSTILE_BODIES[:5] + in_envelopes)]
    result = deliver(chalice_client, "mail_feedback", FEEDBACK, [hostiles[0], valid, *hostiles[1:]], delete=False)
    assert_reported(result, hostiles, worker_logs)
    assert api.get(f"/people/{contact['person_id']}").json["undeliverable"] == "bounced"
