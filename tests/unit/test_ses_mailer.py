"""SesMailer: the configuration set (AWS: bounce/complaint events → SNS) goes with every send
when it is set, and is left out when it is not (the local stack uses identity notifications).
The client `ses_client` builds sends botocore's own body, form-encoded once instead of twice."""
import json

import pytest

from chalicelib.adapters.ses import SesMailer


class RecordingSes:
    def __init__(self):
        self.calls = []

    def send_templated_email(self, **kwargs):
        self.calls.append(("single", kwargs))
        return {"MessageId": "m-1"}

    def send_bulk_templated_email(self, **kwargs):
        self.calls.append(("bulk", kwargs))
        return {"Status": [{"Status": "Success", "MessageId": f"m-{n}"} for n, _ in enumerate(kwargs["Destinations"])]}


@pytest.mark.parametrize("recipients", [1, 3])
def test_sends_with_the_configuration_set_when_one_is_set(recipients):
    ses = RecordingSes()
    outcomes = SesMailer(ses, "roster-mail-events").send(
        ("Roster", "no-reply@mail.roster.test"), [], "roster-welcome-en", {"brand_name": "Roster"},
        [(f"p{n}@example.com", {"first_name": f"P{n}"}) for n in range(recipients)])

    [(kind, call)] = ses.calls
    assert kind == ("single" if recipients == 1 else "bulk")
    assert call["ConfigurationSetName"] == "roster-mail-events"
    assert all(o.ok for o in outcomes) and len(outcomes) == recipients


@pytest.mark.parametrize("configuration_set", [None, ""])
def test_sends_without_a_configuration_set_when_none_is_set(configuration_set):
    ses = RecordingSes()
    SesMailer(ses, configuration_set).send(("Roster", "no-reply@mail.roster.test"), [], "roster-welcome-en",
                                           {"brand_name": "Roster"}, [("a@example.com", {"first_name": "A"})])

    [(_, call)] = ses.calls
    assert "ConfigurationSetName" not in call
    assert json.loads(call["TemplateData"]) == {"brand_name": "Roster", "first_name": "A"}


def test_the_setting_is_read_from_the_environment(monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.setenv("ROSTER_SES_CONFIGURATION_SET", "roster-mail-events")
    get_settings.cache_clear()
    try:
        assert get_settings().ses_configuration_set == "roster-mail-events"
        monkeypatch.delenv("ROSTER_SES_CONFIGURATION_SET")
        get_settings.cache_clear()
        assert get_settings().ses_configuration_set == ""
    finally:
        get_settings.cache_clear()


# --- headers: no value can add one -------------------------------------------------------------------
INJECTIONS = ["A\r\nBcc: x@evil.example", "Zürich AG\r\nBcc: x@evil.example", "A\nB\rC", "Müller\x00 \x85AG\u2028x",
              "\u202eKG lleM", "Rösti \"Gold\", AG <ceo@evil.example>", "ü" * 200, "日本語の会社名" * 20, ""]


def _parsed(source: str) -> tuple[str, str]:
    """(display name, address) as a mail client reads the From header."""
    from email import message_from_string, policy
    from email.header import decode_header, make_header
    from email.utils import parseaddr

    assert "\r" not in source and "\n" not in source
    message = message_from_string(f"From: {source}\r\nSubject: hi\r\n\r\nbody", policy=policy.SMTP)
    assert message.keys() == ["From", "Subject"]  # nothing was added
    [mailbox] = message["From"].addresses  # email.headerregistry: exactly one mailbox
    assert not message["From"].defects
    name, address = parseaddr(source)
    assert address == mailbox.addr_spec
    # RFC 2047: the space between adjacent encoded words is no part of the text (headerregistry
    # in Python 3.11 keeps it, so the name is decoded with email.header)
    return str(make_header(decode_header(name))), address


@pytest.mark.parametrize("name", INJECTIONS)
def test_a_sender_name_becomes_one_well_formed_source_header(name):
    from chalicelib.domain.text import one_line

    ses = RecordingSes()
    SesMailer(ses).send((name, "no-reply@mail.roster.test"), ["help@example.com"], "roster-welcome-en", {},
                        [("a@example.com", {})])

    [(_, call)] = ses.calls
    assert _parsed(call["Source"]) == (one_line(name), "no-reply@mail.roster.test")
    assert all(len(word) <= 75 for word in call["Source"].split() if word.startswith("=?"))


def test_a_plain_name_stays_readable():
    from chalicelib.adapters.ses import mailbox

    assert mailbox("Alpine Telecom", "no-reply@mail.roster.test") == "Alpine Telecom <no-reply@mail.roster.test>"
    assert mailbox("Muster AG, Bern", "a@example.com") == '"Muster AG, Bern" <a@example.com>'
    assert mailbox("Zürich AG", "a@example.com") == "=?utf-8?q?Z=C3=BCrich_AG?= <a@example.com>"
    assert mailbox(None, "a@example.com") == "a@example.com"


def test_addresses_are_sent_with_an_ascii_domain():
    ses = RecordingSes()
    SesMailer(ses).send(("Müller", "info@Müller.example"), ["hilfe@bücher.example"], "roster-welcome-en", {},
                        [("anna@bücher.example", {}), ("ben@example.com", {})])

    [(_, call)] = ses.calls
    assert _parsed(call["Source"]) == ("Müller", "info@xn--mller-kva.example")
    assert call["ReplyToAddresses"] == ["hilfe@xn--bcher-kva.example"]
    assert [d["Destination"]["ToAddresses"] for d in call["Destinations"]] == [
        ["anna@xn--bcher-kva.example"], ["ben@example.com"]]


@pytest.mark.parametrize("address", ["a@b.example\r\nBcc: x@evil.example", "a@b.example, c@d.example", "not an address"])
def test_a_sender_address_that_is_not_one_fails_the_send_permanently(address):
    from chalicelib.adapters.ses import PermanentMailError

    ses = RecordingSes()
    with pytest.raises(PermanentMailError):
        SesMailer(ses).send(("Roster", address), [], "roster-welcome-en", {}, [("a@example.com", {})])
    assert ses.calls == []


def test_values_a_subject_shows_are_made_one_line_and_bodies_keep_their_lines():
    ses = RecordingSes()
    SesMailer(ses).send(("Roster", "no-reply@mail.roster.test"), [], "roster-notice-en",
                        {"title": "Phones\r\nBcc: x@evil.example", "body": "Line 1\nLine 2", "brand_name": "A\u202e\nB"},
                        [("a@example.com", {"invitee_name": "Anna\r\nMuster", "name": "Anna\nM"}),
                         ("b@example.com", {"account_name": "Muster\x00AG"})])

    [(_, call)] = ses.calls
    assert json.loads(call["DefaultTemplateData"]) == {"title": "Phones Bcc: x@evil.example", "body": "Line 1\nLine 2",
                                                       "brand_name": "A B"}
    assert [json.loads(d["ReplacementTemplateData"]) for d in call["Destinations"]] == [
        {"invitee_name": "Anna Muster", "name": "Anna\nM"}, {"account_name": "Muster AG"}]


def test_the_subject_fields_are_read_from_the_templates():
    from chalicelib.mail.catalog import subject_fields

    assert subject_fields() == {"account_name", "brand_name", "headline", "invitee_name", "severity_label", "title"}
