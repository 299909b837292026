"""The running local stack: API, console, embedded AWS and how they fit together (real HTTP)."""
from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest
import requests

from chalicelib.mail.catalog import ses_templates
from chalicelib.resources import PLATFORM_KEY, RESOURCES

from infra.local_stack.fake_aws import aws_client
from infra.local_stack.provisioning import create_resources
from infra.local_stack.resource_names import physical_name

from tests.e2e.conftest import child_pids

pytestmark = pytest.mark.e2e
TIMEOUT = 10


def test_api_health_answers_without_credentials(local_stack):
    response = requests.get(f"{local_stack.api_url}/health", timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_api_serves_requests_concurrently(local_stack):
    host, port = local_stack.api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as stalled:
        stalled.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # headers never finish: occupies one handler
        response = requests.get(f"{local_stack.api_url}/health", timeout=TIMEOUT)

    assert response.status_code == 200


def test_api_answers_head_without_a_body_and_an_unknown_path_with_the_apis_404(local_stack):
    """The real app behind the stack's gateway, over one keep-alive connection: a HEAD answer
    carries no body (the next answer is read intact), an unknown path answers the deployed 404
    and repeats nothing of the request (chalice local echoed the Authorization header)."""
    import http.client

    host, port = local_stack.api_url.removeprefix("http://").split(":")
    key = f"Bearer {local_stack.platform_key}"
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    try:
        for method, path in (("HEAD", "/tenants"), ("HEAD", "/health"), ("HEAD", "/no/such/route")):
            connection.request(method, path, headers={"Authorization": key})
            answer = connection.getresponse()
            assert (answer.read(), answer.getheader("Content-Length")) == (b"", "0"), path
            assert answer.status == (404 if path.startswith("/no/") else 405), path
            connection.request("GET", "/health")
            after = connection.getresponse()
            assert (after.status, json.loads(after.read())) == (200, {"status": "ok"})
        connection.request("GET", "/no/such/route", headers={"Authorization": key})
        unknown = connection.getresponse()
        raw = unknown.read()
    finally:
        connection.close()
    assert unknown.status == 404 and json.loads(raw) == {
        "error": {"code": "not_found", "message": "No such resource.", "details": []}}
    assert local_stack.platform_key not in raw.decode() + str(unknown.getheaders())


def test_api_answers_every_connection_of_a_burst(local_stack):
    """40 clients at once: each connects at once (the kernel holds them until the server accepts;
    with socketserver's backlog of 5 it dropped the rest, who came back after a second or were
    reset) and is answered."""
    from concurrent.futures import ThreadPoolExecutor

    def health(_):
        with requests.Session() as session:
            session.trust_env = False
            return session.get(f"{local_stack.api_url}/health", timeout=(0.5, TIMEOUT)).status_code

    with ThreadPoolExecutor(40) as pool:
        assert list(pool.map(health, range(40))) == [200] * 40


def test_console_health(local_stack):
    response = requests.get(f"{local_stack.console_url}/health", timeout=TIMEOUT)

    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_platform_key_secret_holds_the_platform_key(local_stack):
    secrets = aws_client("secretsmanager", local_stack.aws_url)
    name = physical_name(PLATFORM_KEY, local_stack.environ)

    assert local_stack.platform_key == "e2e-platform-key-0123456789abcdefghijklmnopqrstuv"
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == local_stack.platform_key


def test_creating_the_resources_again_changes_nothing(local_stack):
    values = {PLATFORM_KEY.logical_id: local_stack.platform_key}

    first = create_resources(RESOURCES, local_stack.aws_url, values, environ=local_stack.environ,
                             dynamodb_url=local_stack.dynamodb_url)
    second = create_resources(RESOURCES, local_stack.aws_url, values, environ=local_stack.environ,
                              dynamodb_url=local_stack.dynamodb_url)

    for report in (first, second):
        assert report.created == [] and report.updated == []
        subscriptions = sum(len(topic.subscribers) for topic in RESOURCES.topics)
        assert len(report.unchanged) == (len(RESOURCES.tables) + 2 * len(RESOURCES.queues) + len(RESOURCES.secrets)
                                         + len(RESOURCES.email_identities) + subscriptions + len(ses_templates()) * RESOURCES.mail_templates)


def test_pynamodb_reaches_dynamodbs_own_process_through_its_endpoint_variable(local_stack, monkeypatch):
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.models import Model

    for name, value in {"AWS_ENDPOINT_URL": local_stack.aws_url, "AWS_ENDPOINT_URL_DYNAMODB": local_stack.dynamodb_url,
                        "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    table_name = physical_name(RESOURCES.tables[0], local_stack.environ)

    class Probe(Model):
        class Meta:
            table_name = physical_name(RESOURCES.tables[0], local_stack.environ)
            region = "eu-central-1"

        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)

    key = f"e2e-probe-{uuid.uuid4().hex}"
    Probe(pk=key, sk="probe").save()

    item = aws_client("dynamodb", local_stack.dynamodb_url).get_item(
        TableName=table_name, Key={"pk": {"S": key}, "sk": {"S": "probe"}})
    assert item["Item"]["pk"] == {"S": key}
    assert Probe._get_connection().connection.client.meta.endpoint_url == local_stack.dynamodb_url
    # the other moto serves every other service and holds no table
    assert aws_client("dynamodb", local_stack.aws_url).list_tables()["TableNames"] == []


def test_outbox_shows_mails_sent_with_send_email_and_send_templated_email(local_stack):
    ses = aws_client("ses", local_stack.aws_url)
    unique = uuid.uuid4().hex[:8]
    sender = f"e2e-{unique}@example.com"
    ses.verify_email_identity(EmailAddress=sender)
    ses.send_email(Source=sender, Destination={"ToAddresses": ["ada@example.com"]}, Message={
        "Subject": {"Data": f"Plain {unique}"},
        "Body": {"Text": {"Data": "Visit https://roster.test/plain"},
                 "Html": {"Data": '<a href="https://roster.test/plain-html">Visit</a>'}}})
    ses.create_template(Template={
        "TemplateName": f"e2e-{unique}", "SubjectPart": "Welcome {{name}}",
        "TextPart": "Hello {{name}}, join at {{link}}", "HtmlPart": '<p>Hello {{name}}</p><a href="{{link}}">Join</a>'})
    ses.send_templated_email(Source=sender, Destination={"ToAddresses": ["bo@example.com"]}, Template=f"e2e-{unique}",
                             TemplateData=json.dumps({"name": "Bo", "link": "https://roster.test/join/1"}))

    response = requests.get(f"{local_stack.console_url}/outbox", timeout=TIMEOUT)
    mails = [mail for mail in response.json() if mail["from"] == sender]

    assert response.status_code == 200
    plain, templated = mails
    assert (plain["kind"], plain["to"], plain["subject"]) == ("SendEmail", ["ada@example.com"], f"Plain {unique}")
    assert plain["text"] == "Visit https://roster.test/plain"
    assert plain["html"] == '<a href="https://roster.test/plain-html">Visit</a>'
    assert plain["links"] == ["https://roster.test/plain-html", "https://roster.test/plain"]
    assert (templated["kind"], templated["to"], templated["subject"]) == ("SendTemplatedEmail", ["bo@example.com"], "Welcome Bo")
    assert templated["text"] == "Hello Bo, join at https://roster.test/join/1"
    assert templated["html"] == '<p>Hello Bo</p><a href="https://roster.test/join/1">Join</a>'
    assert templated["links"] == ["https://roster.test/join/1"]


def test_dlq_endpoint_lists_dead_letters(local_stack):
    sqs = aws_client("sqs", local_stack.aws_url)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    dead_letter_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 1})})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for _ in range(2):
        sqs.receive_message(QueueUrl=url)

    dead = [entry for entry in requests.get(f"{local_stack.console_url}/dlq", timeout=TIMEOUT).json()
            if entry["queue"] == f"{name}-dlq"]

    assert [(entry["body"], entry["source_queues"]) for entry in dead] == [("poison", [name])]


def test_the_console_lists_the_apps_schedules(local_stack):
    from app import app

    from infra.local_stack.scheduler import discover_schedules

    listed = requests.get(f"{local_stack.console_url}/schedules", timeout=TIMEOUT).json()
    unknown = requests.post(f"{local_stack.console_url}/schedules/no-such-handler/fire", timeout=TIMEOUT)

    assert {job["function"]: job["expression"] for job in listed} == discover_schedules(app)
    assert unknown.status_code == 404


def test_lambda_handlers_run_in_worker_processes_a_lane_per_function_one_for_the_schedules(local_stack):
    from app import app

    from infra.local_stack.function_processes import API_LANE, SCHEDULES_LANE, Lanes, worker_count
    from infra.local_stack.queue_runner import discover_subscriptions
    from infra.local_stack.scheduler import discover_schedules

    workers = [pid for pid in child_pids(local_stack.pid)
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    subscriptions = discover_subscriptions(app, environ=local_stack.environ)
    ready = next(line for line in local_stack.log_path.read_text(errors="replace").splitlines()
                 if "function processes ready" in line)

    assert any(subscription.concurrency > 1 for subscription in subscriptions)  # roster-mail's max_concurrency
    assert len(workers) == worker_count([s.concurrency for s in subscriptions], len(discover_schedules(app)), api=True)
    assert f"{len(workers)} function processes ready" in ready
    # a lane per function, sized to its concurrency; the API's and the schedules' lanes
    lanes = Lanes.of(subscriptions, discover_schedules(app), api=True).sizes()
    assert {API_LANE, SCHEDULES_LANE} <= set(lanes) and sum(lanes.values()) == len(workers)
    listed = ready.split("function processes ready (", 1)[1].rstrip(")").split(", ")
    assert sorted(listed) == sorted(f"{lane} {size}" for lane, size in lanes.items())
