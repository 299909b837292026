"""Text fields (docs/api.md, "Text fields"): single-line texts refuse control characters, line
breaks and bidirectional controls; multi-line texts keep line feeds; e-mail addresses are ones SES
can send to, an IDN domain stored as punycode. And a name stored before these rules still makes
one well-formed From header."""
import json
from email import message_from_string, policy
from email.header import decode_header, make_header
from email.utils import parseaddr
from urllib.parse import quote

import pytest

from tests.functional.conftest import add_contact, assert_error
from tests.functional.mail_helpers import drain, sent_mails

INJECTION = "A\r\nBcc: x@evil.example"
BAD = {"NUL": "Muster\x00 AG", "U+202E": "Muster \u202eGA", "U+0085": "Muster\x85AG", "LF": "Muster\nAG",
       "TAB": "Muster\tAG", "U+2028": "Muster\u2028AG", "U+2066": "Muster \u2066AG\u2069", "DEL": "Muster\x7fAG"}
NOTICE = {"type": "outage", "title": {"de": "Telefonie gestört"}, "body": {"de": "Anrufe schlagen fehl."},
          "affected": {"all": True}}


def _problem(reply, field: str) -> str:
    assert_error(reply, 400, "invalid_request", fields={field})
    [detail] = reply.error["details"]
    return detail["problem"]


def test_a_tenant_name_with_a_header_injection_is_refused(api, platform):
    reply = api.patch("/tenant", {"name": INJECTION})
    assert _problem(reply, "name") == "must not contain control characters"
    assert api.get("/tenant").json["name"] == "Acme Telecom"
    assert _problem(platform.post("/tenants", {"name": INJECTION}), "name") == "must not contain control characters"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_single_line_fields_refuse_control_and_bidi_characters(api, account, kind):
    text = BAD[kind]
    account_id = account["account_id"]
    assert _problem(api.post("/accounts", {"name": text}), "name").startswith("must not contain")
    assert _problem(api.patch(f"/accounts/{account_id}", {"address": {"city": text}}), "address.city")
    assert _problem(api.post("/notices", {**NOTICE, "title": {"de": text}}), "title.de")
    assert _problem(api.post(f"/accounts/{account_id}/contacts", {"email": "anna@example.com", "first_name": text}),
                    "first_name")
    assert _problem(api.post("/api-keys", {"name": text}), "name")
    assert _problem(api.patch("/tenant", {"branding": {"brand_name": text}}), "branding.brand_name")
    assert _problem(api.patch("/tenant", {"branding": {"logo_url": "https://x.example/" + text}}), "branding.logo_url")


def test_the_problem_names_what_is_wrong_and_bidi_marks_are_kept(api):
    assert _problem(api.post("/accounts", {"name": BAD["U+202E"]}), "name") == \
        "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)"
    assert _problem(api.post("/accounts", {"name": BAD["U+2028"]}), "name") == \
        "must not contain line or paragraph separators"
    assert _problem(api.post("/accounts", {"name": BAD["U+0085"]}), "name") == "must not contain control characters"

    name = "\u05e9\u05dc\u05d5\u05dd\u200f AG\u200e"  # the marks U+200E/U+200F are harmless
    reply = api.post("/accounts", {"name": name})
    assert reply.status == 201, reply.json
    assert reply.json["name"] == name


def test_multi_line_texts_keep_line_feeds_and_tabs(api):
    body = "Calls fail.\r\n\r\nWe are on it:\n\t- trunk A\r- trunk B\u2028Next update at 14:00."
    reply = api.post("/notices", {**NOTICE, "body": {"de": body}})
    assert reply.status == 201, reply.json
    assert reply.json["body"]["de"] == "Calls fail.\n\nWe are on it:\n\t- trunk A\n- trunk B\nNext update at 14:00."

    reply = api.patch("/tenant", {"description": "Cloud telephony\r\nfor SMEs",
                                  "branding": {"footer": "Acme AG\nBahnhofstrasse 1\n8001 Zürich"}})
    assert reply.status == 200, reply.json
    assert reply.json["description"] == "Cloud telephony\nfor SMEs"


@pytest.mark.parametrize("kind", ["NUL", "U+202E", "U+0085", "DEL", "U+2066"])
def test_multi_line_texts_refuse_other_control_and_bidi_characters(api, kind):
    assert _problem(api.post("/notices", {**NOTICE, "body": {"de": BAD[kind]}}), "body.de").startswith("must not")
    assert _problem(api.patch("/tenant", {"description": BAD[kind]}), "description").startswith("must not")


# --- e-mail addresses ------------------------------------------------------------------------------

def _local(length: int) -> str:
    return ("anna.muster" * 10)[:length]


def _address(length: int) -> str:
    """An address of exactly `length` characters, with labels of at most 63."""
    domain_length = length - 1 - 64
    labels, left = [], domain_length - len(".example")
    while left > 0:
        size = min(63, left - 1) if left > 64 else left
        labels.append("d" * size)
        left -= size + 1
    domain = ".".join(labels + ["example"])
    address = f"{_local(64)}@{domain}"
    assert len(address) == length, len(address)
    return address


BAD_ADDRESSES = {
    "anna\x00@example.com": "must not contain control characters",
    "anna@example.com\r\nBcc: x@evil.example": "must not contain control characters",
    "anna\u202e@example.com": "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069)",
    "ännä@example.com": "must have an ASCII local part (before the @)",
    "anna muster@example.com": "is not an e-mail address",
    "anna..muster@example.com": "is not an e-mail address",
    "anna@exa mple.com": "is not an e-mail address",
    "anna@-example.com": "is not an e-mail address",
    "anna@" + "d" * 64 + ".example": "is not an e-mail address",
    '"anna muster"@example.com': "is not an e-mail address",
}


def test_bad_addresses_are_400_naming_the_problem(api, account):
    path = f"/accounts/{account['account_id']}/contacts"
    assert {email: _problem(api.post(path, {"email": email}), "email") for email in BAD_ADDRESSES} == BAD_ADDRESSES


def test_addresses_have_at_most_64_characters_before_the_at_and_254_in_all(api, account):
    path = f"/accounts/{account['account_id']}/contacts"
    assert _problem(api.post(path, {"email": _local(65) + "@example.com"}), "email") == \
        "must have at most 64 characters before the @"
    assert _problem(api.post(path, {"email": _address(255)}), "email") == "must have at most 254 characters"
    for email in (_local(64) + "@example.com", _address(254)):
        reply = api.post(path, {"email": email})
        assert reply.status == 201, reply.json
        assert reply.json["person"]["email"] == email


def test_an_idn_domain_is_accepted_and_stored_as_punycode(api, account):
    reply = api.post(f"/accounts/{account['account_id']}/contacts", {"email": "Anna@Müller.example"})
    assert reply.status == 201, reply.json
    assert reply.json["person"]["email"] == "anna@xn--mller-kva.example"
    person_id = reply.json["person_id"]

    # the Unicode and the ASCII spelling name the same person
    for spelling in ("anna@müller.example", "ANNA@XN--MLLER-KVA.EXAMPLE"):
        found = api.get("/people?email=" + quote(spelling)).json["items"]
        assert [p["person_id"] for p in found] == [person_id]
    again = api.post(f"/accounts/{account['account_id']}/contacts", {"email": "anna@xn--mller-kva.example"})
    assert again.status == 409, again.json

    reply = api.patch("/tenant", {"sender": {"address": "Info@Müller.example", "reply_to": "hilfe@bücher.example"},
                                  "staff_email": "staff@bücher.example"})
    assert reply.status == 200, reply.json
    assert reply.json["sender"]["address"] == "Info@xn--mller-kva.example"
    assert reply.json["sender"]["reply_to"] == "hilfe@xn--bcher-kva.example"


# --- mail headers from names stored before the rules -----------------------------------------------

def test_a_name_stored_before_the_rules_still_makes_one_from_header(api, account, chalice_client):
    from chalicelib import bootstrap
    from infra.local_stack import ses_feedback

    ses_feedback.install()
    reply = api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"}})
    assert reply.status == 200, reply.json
    stored = "Zürich\r\nBcc: x@evil.example\u202e"  # what the API let through before
    bootstrap.get_repositories().tenants.update(reply.json["tenant_id"], {"name": stored}, None, "2026-01-01T00:00:00Z")

    add_contact(api, account["account_id"], "anna@example.com", first_name="Anna")
    assert drain(chalice_client, "send_mail", "roster-mail") == 1
    [mail] = sent_mails()
    assert "\r" not in mail.source and "\n" not in mail.source
    name, address = parseaddr(mail.source)
    assert address == "no-reply@mail.roster.test"
    assert str(make_header(decode_header(name))) == "Zürich Bcc: x@evil.example"
    headers = message_from_string(f"From: {mail.source}\r\nTo: anna@example.com\r\n\r\nHi", policy=policy.SMTP)
    assert headers.keys() == ["From", "To"]
    assert [a.addr_spec for a in headers["From"].addresses] == ["no-reply@mail.roster.test"]
    assert json.loads(mail.template_data)["brand_name"] == "Zürich Bcc: x@evil.example"  # it is in the Subject


def test_a_person_token_finds_its_person_in_either_spelling_of_an_idn_domain(api, account, chalice_client):
    from tests.functional.portal_helpers import person_api, trusted_issuer

    reply = add_contact(api, account["account_id"], "Anna@Müller.example")
    tenant_id = api.get("/tenant").json["tenant_id"]
    with trusted_issuer() as issuer:
        for claim in ("anna@xn--mller-kva.example", "ANNA@MÜLLER.EXAMPLE"):
            me = person_api(api, issuer, tenant_id, claim).get("/me")
            assert me.status == 200, me.json
            assert me.json["person"]["person_id"] == reply["person_id"]
