"""Limits against mail bombing (issue 14 §4): a resend cooldown per invitation, a daily cap of
invitation mails per address and tenant, one invitation per address in a batch, and a per-tenant
rate of requests on the routes that cause mail. Each answers 429 `rate_limited` with Retry-After."""
from __future__ import annotations

import os
from unittest import mock

import pytest

from tests.functional.conftest import assert_error, new_tenant, skip_ahead, table_items
from tests.functional.invitation_helpers import invite
from tests.functional.mail_helpers import drain, sent_mails


def _retry_after(reply, at_most: int) -> int:
    seconds = int(reply.headers["Retry-After"])
    assert 1 <= seconds <= at_most
    return seconds


def test_a_resend_waits_for_the_cooldown(api, account):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    refused = api.post(f"/accounts/{aid}/invitations/{inv['invitation_id']}/resend")
    assert_error(refused, 429, "rate_limited")
    _retry_after(refused, 60)
    skip_ahead(61)
    assert api.post(f"/accounts/{aid}/invitations/{inv['invitation_id']}/resend").status == 200


def test_an_address_gets_at_most_five_invitation_mails_a_day_from_a_tenant(api, other_api, account):
    aid = account["account_id"]
    for _ in range(5):  # each new invitation replaces the open one, and mails again
        invite(api, aid, "zoe@example.com")
    before = table_items()
    refused = api.post(f"/accounts/{aid}/invitations", {"email": "Zoe@Example.com"})
    assert_error(refused, 429, "rate_limited", {"email"})
    _retry_after(refused, 24 * 3600)
    assert table_items() == before  # the refused invitation wrote nothing
    last = api.get(f"/accounts/{aid}/invitations?status=pending").json["items"][-1]
    skip_ahead(61)
    assert_error(api.post(f"/accounts/{aid}/invitations/{last['invitation_id']}/resend"), 429, "rate_limited")
    invite(api, aid, "other@example.com")  # other addresses are not affected
    other_account = other_api.post("/accounts", {"name": "Other AG"}).json["account_id"]
    invite(other_api, other_account, "zoe@example.com")  # nor other tenants
    skip_ahead(24 * 3600)
    invite(api, aid, "zoe@example.com")  # the next day


def test_a_batch_invites_each_address_once(api, account, chalice_client):
    aid = account["account_id"]
    body = {"invitations": [{"email": "zoe@example.com"}, {"email": "ZOE@example.com"}, {"email": "max@example.com"},
                            {"email": "zoe@example.com", "kind": "contact"}]}
    reply = api.post(f"/accounts/{aid}/invitations/batch", body)
    assert reply.status == 200, reply.json
    assert [item["status"] for item in reply.json["items"]] == [201, 409, 201, 409]
    duplicate = reply.json["items"][1]["error"]
    assert duplicate["code"] == "duplicate_in_batch" and duplicate["details"][0]["field"] == "invitations[1].email"
    drain(chalice_client, "send_mail", "roster-mail")
    assert sorted(m.destinations["ToAddresses"][0] for m in sent_mails()) == ["max@example.com", "zoe@example.com"]


@pytest.fixture
def three_a_minute(chalice_client):
    from chalicelib import bootstrap

    with mock.patch.dict(os.environ, {"ROSTER_MAIL_REQUESTS_PER_MINUTE": "3"}):
        bootstrap.reset()
        yield
    bootstrap.reset()


def test_a_tenant_may_make_only_so_many_mail_requests_a_minute(platform, three_a_minute):
    api, other = new_tenant(platform), new_tenant(platform, "Other Provider", "fr")
    aid = api.post("/accounts", {"name": "Muster AG"}).json["account_id"]
    for n in range(3):
        invite(api, aid, f"p{n}@example.com")
    refused = api.post(f"/accounts/{aid}/contacts", {"email": "p9@example.com"})
    assert_error(refused, 429, "rate_limited")
    _retry_after(refused, 60)
    assert api.get(f"/accounts/{aid}/invitations").status == 200  # routes that send no mail are free
    tenant_id = api.get("/tenant").json["tenant_id"]
    [counter] = [i for i in table_items(request_counter=True) if i["pk"]["S"] == f"T#{tenant_id}#LIMIT#mail-requests"]
    assert counter["used"]["N"] == "3"  # one item for the minute; the refused request counted nothing
    other_aid = other.post("/accounts", {"name": "Other AG"}).json["account_id"]
    invite(other, other_aid, "p0@example.com")  # another tenant has its own budget
    skip_ahead(60)
    invite(api, aid, "p9@example.com")  # the next minute
