"""moto 5.2.5's SES and the patches of infra/local_stack/ses_feedback.py, ses_capture.py and ses_bulk_status.py.

Each defect test runs on stock moto first (it shows what moto does wrong; when it fails there,
moto fixed it and the patch can go), then with the patch.
"""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from infra.local_stack import moto_version, ses_bulk_status, ses_capture, ses_feedback
from tests.local_stack.conftest import moto_with

SENDER = "noreply@mail.example"


@pytest.fixture
def aws():
    """SES with a verified domain whose bounce and complaint notifications go to an SNS topic,
    delivered raw to an SQS queue, as chalicelib/resources.py sets up `mail_feedback`."""
    with mock_aws():
        clients = {name: boto3.client(name, region_name="eu-central-1") for name in ("ses", "sns", "sqs")}
        ses, sns, sqs = clients["ses"], clients["sns"], clients["sqs"]
        ses.verify_domain_identity(Domain="mail.example")
        topic = sns.create_topic(Name="feedback")["TopicArn"]
        clients["queue"] = sqs.create_queue(QueueName="feedback")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=clients["queue"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        for kind in ("Bounce", "Complaint"):
            ses.set_identity_notification_topic(Identity="mail.example", NotificationType=kind, SnsTopic=topic)
        ses.create_template(Template={"TemplateName": "t", "SubjectPart": "Hi", "TextPart": "Hello {{name}}"})
        yield clients


def send_single_and_bulk(aws) -> dict[str, str]:
    """A templated mail to bounce@ and a bulk one to complaint+x@ and bounce+y@: address -> message id."""
    single = aws["ses"].send_templated_email(
        Source=SENDER, Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]}, Template="t",
        TemplateData=json.dumps({"name": "A"}))
    bulk = aws["ses"].send_bulk_templated_email(
        Source=SENDER, Template="t", DefaultTemplateData=json.dumps({"name": "B"}),
        Destinations=[{"Destination": {"ToAddresses": [address]}}
                      for address in ("complaint+x@simulator.amazonses.com", "bounce+y@simulator.amazonses.com")])
    ids = [status["MessageId"] for status in bulk["Status"]]
    return {"bounce@simulator.amazonses.com": single["MessageId"],
            "complaint+x@simulator.amazonses.com": ids[0], "bounce+y@simulator.amazonses.com": ids[1]}


@pytest.fixture
def stock_feedback():
    yield from moto_with(ses_feedback, installed=False)


@pytest.fixture
def patched_feedback():
    yield from moto_with(ses_feedback, installed=True)


def test_stock_moto_feedback_cannot_be_received_and_bulk_sends_get_none(stock_feedback, aws):
    aws["ses"].send_bulk_templated_email(
        Source=SENDER, Template="t", DefaultTemplateData="{}",
        Destinations=[{"Destination": {"ToAddresses": ["bounce@simulator.amazonses.com"]}}])
    assert aws["sqs"].receive_message(QueueUrl=aws["queue"]).get("Messages") is None  # bulk: no feedback
    aws["ses"].send_templated_email(Source=SENDER, Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
                                    Template="t", TemplateData="{}")
    with pytest.raises(AttributeError, match="'dict' object has no attribute 'encode'"):
        aws["sqs"].receive_message(QueueUrl=aws["queue"])  # moto published a dict, not a message


def test_patched_feedback_names_each_message_and_recipient(patched_feedback, aws):
    sent = send_single_and_bulk(aws)
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)["Messages"]
    notifications = [json.loads(message["Body"]) for message in messages]

    assert sorted((n["notificationType"], n["mail"]["destination"][0], n["mail"]["messageId"]) for n in notifications) \
        == sorted((("Complaint" if a.startswith("complaint") else "Bounce"), a, message_id)
                  for a, message_id in sent.items())
    assert all(n["mail"]["source"] == SENDER for n in notifications)


@pytest.fixture
def stock_capture():
    yield from moto_with(ses_capture, installed=False)


@pytest.fixture
def patched_capture():
    yield from moto_with(ses_capture, installed=True)


def send_both_bodies(aws):
    from moto.ses.models import ses_backends

    message_id = aws["ses"].send_email(Source=SENDER, Destination={"ToAddresses": ["ada@example.com"]}, Message={
        "Subject": {"Data": "S"}, "Body": {"Text": {"Data": "the text"}, "Html": {"Data": "<p>the html</p>"}}})["MessageId"]
    [message] = [m for m in ses_backends["123456789012"]["eu-central-1"].sent_messages if m.id == message_id]
    return message_id, message


def test_stock_moto_keeps_only_the_html_body_of_a_send_email(stock_capture, aws):
    message_id, message = send_both_bodies(aws)
    assert message.body == "<p>the html</p>"
    assert "the text" not in vars(message).values()
    assert ses_capture.bodies_of(message_id) is None


def test_patched_a_send_email_keeps_both_bodies(patched_capture, aws):
    message_id, _ = send_both_bodies(aws)
    assert ses_capture.bodies_of(message_id) == ses_capture.EmailBodies("the text", "<p>the html</p>")


@pytest.mark.parametrize("patch", [ses_feedback, ses_capture, ses_bulk_status])
def test_install_refuses_another_moto_version(patch, monkeypatch):
    monkeypatch.setattr(moto_version, "version", lambda name: "5.3.0")
    with pytest.raises(RuntimeError, match="patches moto 5.2.5, not 5.3.0"):
        patch.install()


@pytest.fixture
def stock_bulk_status():
    yield from moto_with(ses_bulk_status, installed=False)


@pytest.fixture
def patched_bulk_status():
    yield from moto_with(ses_bulk_status, installed=True)


def _bulk_statuses(aws) -> list[dict]:
    return aws["ses"].send_bulk_templated_email(
        Source=SENDER, Template="t", DefaultTemplateData=json.dumps({"name": "B"}),
        Destinations=[{"Destination": {"ToAddresses": [a]}} for a in ("a@example.com", "b@example.com")])["Status"]


def test_stock_moto_answers_bulk_destinations_without_their_status(stock_bulk_status, aws):
    statuses = _bulk_statuses(aws)
    assert [set(status) for status in statuses] == [{"MessageId"}, {"MessageId"}]


def test_patched_each_accepted_bulk_destination_answers_success(patched_bulk_status, aws):
    statuses = _bulk_statuses(aws)
    assert [status["Status"] for status in statuses] == ["Success", "Success"]
    assert all(status["MessageId"] for status in statuses)
