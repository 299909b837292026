"""The mail pipeline: outbox job with the change, queue worker, at most one mail per recipient,
sweeper, SES feedback (bounce/complaint via SNS → SQS), GET /mail-jobs."""
import json
from pathlib import Path

import pytest

from tests.functional.conftest import add_contact, dynamodb_operations
from tests.functional.mail_helpers import deliver, drain, receive, sent_mails

MAIL, FEEDBACK = "roster-mail", "roster-mail-feedback"
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture(autouse=True)
def realistic_ses_feedback():
    from infra.local_stack import ses_feedback

    ses_feedback.install()


@pytest.fixture
def welcoming(api):
    reply = api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.alpine.example"},
                                  "branding": {"brand_name": "Alpine Telecom", "brand_color": "#aa0000",
                                               "logo_url": "https://cdn.alpine.example/logo.png",
                                               "footer": "Alpine Telecom AG, Bern"}})
    assert reply.status == 200, reply.json
    return api


def test_a_new_contact_gets_one_welcome_mail_in_their_language(welcoming, account, chalice_client):
    api = welcoming
    contact = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna", language="fr")
    job_id = contact["welcome_mail_job_id"]
    assert job_id and sent_mails() == []  # nothing is sent from the request

    assert api.get(f"/mail-jobs/{job_id}").json["recipients"]["items"][0]["status"] == "queued"
    assert drain(chalice_client, "send_mail", MAIL) == 1
    [mail] = sent_mails()
    assert mail.template == "roster-welcome-fr"
    assert mail.source == "Alpine Telecom <no-reply@mail.roster.test>"
    data = json.loads(mail.template_data)
    assert data["first_name"] == "Anna" and data["account_name"] == "Muster AG"
    assert data["portal_url"] == "https://portal.alpine.example" and data["brand_color"] == "#aa0000"
    assert data["brand_logo_url"] == "https://cdn.alpine.example/logo.png"
    job = api.get(f"/mail-jobs/{job_id}").json
    assert job["status"] == "sent" and job["kind"] == "welcome"
    assert [r["status"] for r in job["recipients"]["items"]] == ["sent"]


def test_no_welcome_mail_unless_the_tenant_turns_it_on(api, account, chalice_client):
    contact = add_contact(api, account["account_id"], "anna@example.com")
    assert contact["welcome_mail_job_id"] is None
    assert receive(MAIL) == []


def test_redelivery_sends_nothing_twice(welcoming, account, chalice_client):
    add_contact(welcoming, account["account_id"], "anna@example.com")
    [message] = receive(MAIL, visibility=0)
    deliver(chalice_client, "send_mail", MAIL, [message], delete=False)
    deliver(chalice_client, "send_mail", MAIL, [message], delete=False)  # SQS delivers it again
    assert len(sent_mails()) == 1


def test_a_worker_killed_after_ses_accepted_does_not_cause_a_second_mail(welcoming, account, chalice_client,
                                                                        monkeypatch):
    from chalicelib.repositories.mail import MailRepository

    contact = add_contact(welcoming, account["account_id"], "anna@example.com")
    [message] = receive(MAIL, visibility=0)

    def killed(*args, **kwargs):
        raise SystemExit("Lambda runtime killed after SES accepted")

    monkeypatch.setattr(MailRepository, "settle", killed)
    with pytest.raises(SystemExit):
        deliver(chalice_client, "send_mail", MAIL, [message], delete=False)
    monkeypatch.undo()
    assert len(sent_mails()) == 1
    deliver(chalice_client, "send_mail", MAIL, [message])
    assert len(sent_mails()) == 1
    rows = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json["recipients"]["items"]
    assert [r["status"] for r in rows] == ["sending"]


def test_the_sweeper_requeues_a_job_whose_dispatch_was_lost(welcoming, account, chalice_client, monkeypatch):
    from chalicelib import bootstrap
    from chalicelib.adapters.job_queue import SqsJobQueue

    def lost(self, tenant_id, job_id):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(SqsJobQueue, "send", lost)
    contact = add_contact(welcoming, account["account_id"], "anna@example.com")
    assert contact["welcome_mail_job_id"]  # the add succeeded and the job is stored
    monkeypatch.undo()
    assert receive(MAIL) == []
    assert bootstrap.get_mail_service().sweep() == 0  # too young: its dispatch may still be under way

    class Later:
        def now(self):
            from datetime import datetime, timedelta, timezone
            return datetime.now(timezone.utc) + timedelta(minutes=3)

        def now_iso(self):
            from chalicelib.adapters.clock import iso
            return iso(self.now())

    bootstrap.override(clock=Later())
    sweep_event = json.loads((EVENTS / "scheduled_mail_sweep.json").read_text())
    result = chalice_client.lambda_.invoke("mail_sweeper", sweep_event).payload
    assert result == {"requeued": 1}
    assert drain(chalice_client, "send_mail", MAIL) == 1
    assert len(sent_mails()) == 1
    assert bootstrap.get_mail_service().sweep() == 0  # settled jobs are no longer pending


@pytest.mark.parametrize("address, status", [("bounce@simulator.amazonses.com", "bounced"),
                                             ("complaint@simulator.amazonses.com", "complained")])
def test_bounce_and_complaint_suppress_the_address(welcoming, account, chalice_client, address, status):
    api = welcoming
    contact = add_contact(api, account["account_id"], address)
    drain(chalice_client, "send_mail", MAIL)
    assert drain(chalice_client, "mail_feedback", FEEDBACK) == 1
    job = api.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json
    assert [r["status"] for r in job["recipients"]["items"]] == [status]
    assert api.get(f"/people/{contact['person_id']}").json["undeliverable"] == status
    rows = api.get(f"/accounts/{account['account_id']}/contacts").json["items"]
    assert [r["undeliverable"] for r in rows] == [status]

    # The next mail to that address is not sent.
    other = api.post("/accounts", {"name": "Second AG"}).json
    again = add_contact(api, other["account_id"], address)
    before = len(sent_mails())
    drain(chalice_client, "send_mail", MAIL)
    assert len(sent_mails()) == before
    job = api.get(f"/mail-jobs/{again['welcome_mail_job_id']}").json
    assert [r["status"] for r in job["recipients"]["items"]] == ["suppressed"]


def test_mail_jobs_of_another_tenant_are_not_found(welcoming, other_api, account):
    contact = add_contact(welcoming, account["account_id"], "anna@example.com")
    assert other_api.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").status == 404


def test_sample_events_drive_the_worker_and_the_feedback_handler(welcoming, account, chalice_client):
    """events/sqs_mail_job.json and events/sqs_ses_bounce_via_sns.json (an SNS envelope, as
    without raw delivery) through the real handlers."""
    from chalicelib import bootstrap
    from chalicelib.models import keys
    from chalicelib.models.mail import SesMessageItem

    contact = add_contact(welcoming, account["account_id"], "bounce@simulator.amazonses.com")
    tenant_id = welcoming.get("/tenant").json["tenant_id"]
    job_event = json.loads((EVENTS / "sqs_mail_job.json").read_text())
    job_event["Records"][0]["body"] = json.dumps({"tenant_id": tenant_id, "job_id": contact["welcome_mail_job_id"]})
    assert chalice_client.lambda_.invoke("send_mail", job_event).payload == {"batchItemFailures": []}
    assert len(sent_mails()) == 1

    # The sample bounce names a message id of its own: map it to the recipient like a real send.
    bootstrap.get_repositories()
    [row] = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json["recipients"]["items"]
    SesMessageItem(keys.ses_message("0102017f-sample-message-id"), keys.SES_SK, tenant_id=tenant_id,
                   job_id=contact["welcome_mail_job_id"], recipient=f"R#{row['recipient']}",
                   person_id=contact["person_id"], email="bounce@simulator.amazonses.com").save()
    bounce_event = json.loads((EVENTS / "sqs_ses_bounce_via_sns.json").read_text())
    assert chalice_client.lambda_.invoke("mail_feedback", bounce_event).payload == {"batchItemFailures": []}
    assert welcoming.get(f"/people/{contact['person_id']}").json["undeliverable"] == "bounced"


@pytest.fixture
def throttled_ses():
    """SES answering Throttling (moto cannot): botocore's Stubber injects it."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib import bootstrap

    client = boto3.client("ses", region_name="eu-central-1")
    stubber = Stubber(client)
    for _ in range(3):
        stubber.add_client_error("send_templated_email", service_error_code="Throttling",
                                 service_message="Maximum sending rate exceeded.", http_status_code=400)
    stubber.activate()
    bootstrap.override(ses_client=client)
    yield stubber
    bootstrap.reset()


def test_throttling_puts_the_recipient_back_and_the_retry_sends(welcoming, account, chalice_client, throttled_ses):
    from chalicelib import bootstrap

    contact = add_contact(welcoming, account["account_id"], "anna@example.com")
    [message] = receive(MAIL, visibility=0)
    result = deliver(chalice_client, "send_mail", MAIL, [message], delete=False)
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    rows = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json["recipients"]["items"]
    assert [r["status"] for r in rows] == ["queued"]

    bootstrap.reset()  # SES answers again
    deliver(chalice_client, "send_mail", MAIL, [message])
    assert len(sent_mails()) == 1
    rows = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json["recipients"]["items"]
    assert [r["status"] for r in rows] == ["sent"]


def test_on_the_last_attempt_a_poison_job_is_marked_failed_and_goes_to_the_dlq(welcoming, account, chalice_client,
                                                                             throttled_ses):
    contact = add_contact(welcoming, account["account_id"], "anna@example.com")
    [message] = receive(MAIL, visibility=0)
    message["Attributes"]["ApproximateReceiveCount"] = "5"  # the redrive policy's maxReceiveCount
    result = deliver(chalice_client, "send_mail", MAIL, [message], delete=False)
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    job = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json
    assert [(r["status"], r["detail"]) for r in job["recipients"]["items"]] == [
        ("failed", "gave up after the queue's last attempt")]
    assert sent_mails() == []


def test_a_permanent_ses_refusal_fails_the_recipient_without_retrying(welcoming, account, chalice_client):
    import boto3

    boto3.client("ses", region_name="eu-central-1").delete_template(TemplateName="roster-welcome-de")
    contact = add_contact(welcoming, account["account_id"], "anna@example.com", language="de")
    [message] = receive(MAIL, visibility=0)
    assert deliver(chalice_client, "send_mail", MAIL, [message]) == {"batchItemFailures": []}
    [row] = welcoming.get(f"/mail-jobs/{contact['welcome_mail_job_id']}").json["recipients"]["items"]
    assert row["status"] == "failed" and "TemplateDoesNotExist" in row["detail"]


def test_a_jobs_first_page_is_one_query_and_the_cursor_pages_through_its_recipients(api):
    """The job item sorts before its recipients in its partition: the first page reads both in
    one Query; later pages read the job and Query on from the cursor."""
    from chalicelib import bootstrap
    from chalicelib.domain.mail import Recipient

    tenant_id = api.get("/tenant").json["tenant_id"]
    repositories = bootstrap.get_repositories()
    tx = repositories.transaction()
    job = bootstrap.get_mail_service().add(tx, tenant_id, "welcome", [
        Recipient(f"r{n}@example.com", "de", data={"first_name": f"R{n}", "email": f"r{n}@example.com"})
        for n in range(5)])
    tx.commit()
    with dynamodb_operations() as operations:
        first = api.get(f"/mail-jobs/{job.job_id}?limit=2").json
    assert operations == ["GetItem", "Query"]  # the API key, then the job with its first recipients
    emails = [row["email"] for row in first["recipients"]["items"]]
    cursor = first["recipients"]["next_cursor"]
    while cursor:
        page = api.get(f"/mail-jobs/{job.job_id}?limit=2&cursor={cursor}").json
        assert page["job_id"] == job.job_id
        emails += [row["email"] for row in page["recipients"]["items"]]
        cursor = page["recipients"]["next_cursor"]
    assert emails == [f"r{n}@example.com" for n in range(5)]
    assert api.get(f"/mail-jobs/{job.job_id[:-1]}x?limit=2").status == 404
