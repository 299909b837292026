"""The outbox renders every kind of mail SES (moto) accepted: to, from, subject, text, html, links."""
from __future__ import annotations

import json
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from infra.local_stack.outbox import links_in, read_outbox


@pytest.fixture
def sender(ses, unique):
    address = f"noreply-{unique}@example.com"
    ses.verify_email_identity(EmailAddress=address)
    return address


def mails_from(sender):
    return [entry for entry in read_outbox() if entry["from"] == sender]


def test_send_email_keeps_subject_text_html_and_links(ses, sender):
    ses.send_email(Source=sender, Destination={"ToAddresses": ["ada@example.com"], "CcAddresses": ["cc@example.com"]},
                   Message={"Subject": {"Data": "Welcome"}, "Body": {
                       "Text": {"Data": "Open https://roster.test/accept?t=1. Thanks"},
                       "Html": {"Data": '<p><a href="https://roster.test/accept?t=1">Accept</a> <a href="https://roster.test/help">?</a></p>'}}})

    [mail] = mails_from(sender)

    assert mail["kind"] == "SendEmail"
    assert mail["to"] == ["ada@example.com"] and mail["cc"] == ["cc@example.com"]
    assert mail["subject"] == "Welcome"
    assert mail["text"] == "Open https://roster.test/accept?t=1. Thanks"
    assert "Accept</a>" in mail["html"]
    assert mail["links"] == ["https://roster.test/accept?t=1", "https://roster.test/help"]


def test_templated_email_is_rendered_with_its_data(ses, sender, unique):
    ses.create_template(Template={"TemplateName": f"invite-{unique}", "SubjectPart": "{{tenant}} invites you",
                                  "TextPart": "Hi {{name}}, accept: {{link}}",
                                  "HtmlPart": '<p>Hi {{name}}</p><a href="{{link}}">Accept</a>'})
    ses.send_templated_email(Source=sender, Destination={"ToAddresses": ["bo@example.com"]}, Template=f"invite-{unique}",
                             TemplateData=json.dumps({"tenant": "ACME", "name": "Bo & Co", "link": "https://roster.test/i/1"}))

    [mail] = mails_from(sender)

    assert mail["kind"] == "SendTemplatedEmail"
    assert mail["to"] == ["bo@example.com"]
    assert mail["subject"] == "ACME invites you"
    assert mail["text"] == "Hi Bo & Co, accept: https://roster.test/i/1"
    assert mail["html"] == '<p>Hi Bo &amp; Co</p><a href="https://roster.test/i/1">Accept</a>'
    assert mail["links"] == ["https://roster.test/i/1"]
    assert mail["rendering_failure"] is None


def test_bulk_templated_email_gives_one_mail_per_destination_with_merged_data(ses, sender, unique):
    ses.create_template(Template={"TemplateName": f"notice-{unique}", "SubjectPart": "{{kind}} notice",
                                  "TextPart": "Dear {{name}}"})
    ses.send_bulk_templated_email(
        Source=sender, Template=f"notice-{unique}", DefaultTemplateData=json.dumps({"kind": "Outage", "name": "customer"}),
        Destinations=[{"Destination": {"ToAddresses": ["a@example.com"]}, "ReplacementTemplateData": json.dumps({"name": "Ann"})},
                      {"Destination": {"ToAddresses": ["b@example.com"]}}])

    mails = mails_from(sender)

    assert [(m["kind"], m["to"], m["subject"], m["text"]) for m in mails] == [
        ("SendBulkTemplatedEmail", ["a@example.com"], "Outage notice", "Dear Ann"),
        ("SendBulkTemplatedEmail", ["b@example.com"], "Outage notice", "Dear customer"),
    ]
    assert mails[0]["id"] != mails[1]["id"] and mails[0]["html"] is None


def test_templated_email_missing_data_is_shown_as_a_rendering_failure(ses, sender, unique):
    ses.create_template(Template={"TemplateName": f"broken-{unique}", "SubjectPart": "Hi {{name}}", "TextPart": "x"})
    ses.send_templated_email(Source=sender, Destination={"ToAddresses": ["c@example.com"]}, Template=f"broken-{unique}",
                             TemplateData="{}")

    [mail] = mails_from(sender)

    assert "name" in mail["rendering_failure"] and mail["subject"] is None


def test_raw_email_is_parsed_from_mime(ses, sender):
    message = MIMEMultipart("mixed")
    message["Subject"], message["From"], message["To"] = "Report", sender, "Dee <dee@example.com>"
    body = MIMEMultipart("alternative")
    body.attach(MIMEText("See https://roster.test/r/9", "plain"))
    body.attach(MIMEText('<a href="https://roster.test/r/9">Report</a>', "html"))
    message.attach(body)
    attachment = MIMEApplication(b"a,b\n", Name="report.csv")
    attachment["Content-Disposition"] = 'attachment; filename="report.csv"'
    message.attach(attachment)
    ses.send_raw_email(Source=sender, Destinations=["hidden@example.com"], RawMessage={"Data": message.as_string()})

    [mail] = mails_from(sender)

    assert mail["kind"] == "SendRawEmail"
    assert mail["to"] == ["dee@example.com"] and mail["bcc"] == ["hidden@example.com"]
    assert mail["subject"] == "Report"
    assert mail["text"].strip() == "See https://roster.test/r/9"
    assert mail["html"].strip() == '<a href="https://roster.test/r/9">Report</a>'
    assert mail["links"] == ["https://roster.test/r/9"]
    assert mail["attachments"] == ["report.csv"]


def test_mails_are_listed_oldest_first(ses, sender):
    for subject in ("first", "second", "third"):
        ses.send_email(Source=sender, Destination={"ToAddresses": ["z@example.com"]},
                       Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": "x"}}})

    assert [mail["subject"] for mail in mails_from(sender)] == ["first", "second", "third"]


def test_links_are_found_in_html_hrefs_and_text_urls_without_duplicates():
    assert links_in("Go to https://a.test/x, or (https://b.test/y).", '<a href="https://a.test/x">x</a><area href="/rel">') == \
        ["https://a.test/x", "/rel", "https://b.test/y"]
