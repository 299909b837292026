"""The dev console's endpoints, served in-process against the session's moto server."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
from chalice import Chalice

from infra.local_stack.dev_console import create_console_server
from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.scheduler import Scheduler
from infra.local_stack.server_thread import ServerThread


class FixedClock:
    def now(self):
        return datetime(2024, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def fired():
    return []


@pytest.fixture
def console(aws_url, fired):
    app = Chalice(app_name="consoletest", configure_logs=False)

    @app.schedule("rate(1 day)")
    def cleanup(event):
        fired.append(event.to_dict())
        return {"removed": 2}

    @app.schedule("cron(0 4 * * ? *)")
    def explode(event):
        raise ValueError("kaputt")

    thread = ServerThread(create_console_server("127.0.0.1", 0, Scheduler(LambdaInvoker(app), FixedClock())), "console")
    thread.start()
    yield f"http://127.0.0.1:{thread.port}"
    assert thread.stop(timeout=5)


def test_health(console):
    response = requests.get(f"{console}/health", timeout=5)

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_schedules_are_listed_and_fired_on_demand(console, fired):
    listed = requests.get(f"{console}/schedules", timeout=5).json()
    response = requests.post(f"{console}/schedules/cleanup/fire", timeout=5)

    assert [(job["function"], job["expression"]) for job in listed] == [("cleanup", "rate(1 day)"), ("explode", "cron(0 4 * * ? *)")]
    assert response.status_code == 200
    assert response.json()["result"] == {"removed": 2} and response.json()["error"] is None
    assert [event["detail-type"] for event in fired] == ["Scheduled Event"]


def test_firing_a_failing_or_unknown_schedule_says_so(console):
    failing = requests.post(f"{console}/schedules/explode/fire", timeout=5)
    unknown = requests.post(f"{console}/schedules/nope/fire", timeout=5)

    assert failing.status_code == 500 and "kaputt" in failing.json()["error"]
    assert unknown.status_code == 404


def test_outbox_lists_accepted_mail_and_can_be_cleared(console, ses, unique):
    sender = f"console-{unique}@example.com"
    ses.verify_email_identity(EmailAddress=sender)
    ses.send_email(Source=sender, Destination={"ToAddresses": ["x@example.com"]},
                   Message={"Subject": {"Data": "Console"}, "Body": {"Text": {"Data": "https://roster.test/c"}}})

    listed = [mail for mail in requests.get(f"{console}/outbox", timeout=5).json() if mail["from"] == sender]
    cleared = requests.delete(f"{console}/outbox", timeout=5)

    assert [(mail["subject"], mail["links"]) for mail in listed] == [("Console", ["https://roster.test/c"])]
    assert cleared.status_code == 200 and requests.get(f"{console}/outbox", timeout=5).json() == []


def test_dlq_lists_dead_letters_without_consuming_them(console, sqs, unique):
    dead_letter_url = sqs.create_queue(QueueName=f"c-{unique}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=f"c-{unique}", Attributes={
        "VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="dead", MessageAttributes={"job": {"DataType": "String", "StringValue": "j1"}})
    for _ in range(2):  # first receive counts 1, the second moves the message to the DLQ
        sqs.receive_message(QueueUrl=url)

    def dead_letters():
        return [entry for entry in requests.get(f"{console}/dlq", timeout=5).json() if entry["queue"] == f"c-{unique}-dlq"]

    first, second = dead_letters(), dead_letters()

    assert [(e["body"], e["source_queues"], e["message_attributes"]) for e in first] == [("dead", [f"c-{unique}"], {"job": "j1"})]
    assert second == first


def test_unknown_paths_are_404(console):
    assert requests.get(f"{console}/nope", timeout=5).status_code == 404
    assert requests.post(f"{console}/outbox", timeout=5).status_code == 404


# --- POST /token -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def issuer():
    from infra.local_stack.token_issuer import TokenIssuer

    return TokenIssuer()


@pytest.fixture
def token_console(issuer):
    thread = ServerThread(create_console_server("127.0.0.1", 0, None, issuer), "console")
    thread.start()
    yield thread.port
    assert thread.stop(timeout=5)


def claims_of(token: str) -> dict:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def test_token_claims_add_to_and_override_the_token_claims_email_included(token_console):
    body = {"tenant_id": "ten_aaaaaaaaaaaaaaaa", "email": "anna@x.example",
            "claims": {"email": "ben@x.example", "email_verified": False, "tenant_id": "a claim like any",
                       "lifetime": 5, "locale": "de"}}
    answer = requests.post(f"http://127.0.0.1:{token_console}/token", json=body, timeout=5)

    assert answer.status_code == 200, answer.text
    claims = claims_of(answer.json()["token"])
    assert (claims["email"], claims["email_verified"], claims["custom:tenant_id"]) == (
        "ben@x.example", False, "ten_aaaaaaaaaaaaaaaa")
    assert (claims["tenant_id"], claims["lifetime"], claims["locale"]) == ("a claim like any", 5, "de")
    assert claims["exp"] - claims["iat"] == 3600


@pytest.mark.parametrize("raw, headers, status, field", [
    (b'{"tenant_id": "ten_a", "email": "a@x", "claims": {"iss": 5}}', {}, 400, "claims"),
    (b'{"tenant_id": "ten_a", "email": "a@x", "claims": ["email"]}', {}, 400, "claims"),
    (b'{"tenant_id": "ten_a", "email": 7}', {}, 400, "email"),
    (b'{"email": "a@x"}', {}, 400, "tenant_id"),
    (b'["tenant_id"]', {}, 400, "body"),
    (b'{"tenant_id": ', {}, 400, "body"),
    (b"{}", {"Content-Length": "two"}, 400, "Content-Length"),
    (b"x" * 70000, {}, 413, "body"),
])
def test_bad_token_requests_answer_4xx_json_naming_the_field(token_console, raw, headers, status, field):
    """Over one keep-alive connection: each bad request gets its answer; the connection stays
    usable unless the body could not be read to its end."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", token_console, timeout=5)
    try:
        connection.putrequest("POST", "/token")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", headers.get("Content-Length", str(len(raw))))
        connection.endheaders(raw)
        answer = connection.getresponse()
        payload = json.loads(answer.read())
        assert (answer.status, payload["field"]) == (status, field), payload
        assert field in payload["error"]
        assert answer.will_close == (field == "Content-Length")  # where that body ends is unknown
        if answer.will_close:
            return
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_a_burst_of_connections_waits_for_the_console(issuer):
    import socket

    server = create_console_server("127.0.0.1", 0, None, issuer)
    clients = [socket.create_connection(server.server_address, timeout=2) for _ in range(32)]
    thread = ServerThread(server, "console")
    thread.start()
    try:
        for client in clients:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answers = [client.makefile("rb").readline() for client in clients]
    finally:
        for client in clients:
            client.close()
        assert thread.stop(timeout=5)
    assert answers == [b"HTTP/1.1 200 OK\r\n"] * 32
