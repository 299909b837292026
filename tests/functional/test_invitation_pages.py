"""The pages behind an invitation link: GET/HEAD read only (mail scanners), the forms, every
language, the security headers, one indistinguishable 404, tampering, JSON answers."""
from __future__ import annotations

import re

import pytest

from tests.functional.conftest import dynamodb_operations, table_items
from tests.functional.invitation_helpers import accept, decline, invite, membership, page, token_of

HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


def assert_page(p, status: int, language: str | None = None) -> None:
    assert p.status == status, (p.status, p.body[:300])
    assert p.headers["content-type"].startswith("text/html")
    for name, value in HEADERS.items():
        assert p.headers[name] == value, name
    if p.body:
        assert p.body.startswith("<!DOCTYPE html>")
        assert "<script" not in p.body.lower() and "http" not in p.body.split("<body>")[1].split("</body>")[0]
        if language:
            assert f'<html lang="{language}">' in p.body


def test_scanners_that_get_and_head_the_link_change_nothing(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", permissions=["billing"])
    token = token_of(inv)
    before = table_items()
    for _ in range(3):
        assert_page(page(chalice_client, "GET", f"/invitations/{token}"), 200)
        head = page(chalice_client, "HEAD", f"/invitations/{token}")
        assert_page(head, 200)
        assert head.body == ""
    assert table_items() == before
    assert accept(chalice_client, token).status == 200
    assert membership(api, aid, inv["person_id"]).json["status"] == "active"


def test_the_page_reads_the_token_with_the_invitation_and_its_parties_in_one_request(api, account, chalice_client):
    """The link names the invitation, its account, invitee and inviter: the token item and they
    are read together, for the page and for an answer."""
    token = token_of(invite(api, account["account_id"], "zoe@example.com"))
    with dynamodb_operations() as operations:
        assert_page(page(chalice_client, "GET", f"/invitations/{token}"), 200)
    assert operations == ["BatchGetItem"]
    with dynamodb_operations() as operations:
        assert accept(chalice_client, token).status == 200
    assert operations == ["BatchGetItem", "TransactWriteItems"]


def test_the_offer_shows_who_invites_to_which_account_and_two_post_forms(api, account, chalice_client):
    inv = invite(api, account["account_id"], "zoe@example.com", permissions=["billing", "security"], language="en")
    token = token_of(inv)
    p = page(chalice_client, "GET", f"/invitations/{token}")
    assert_page(p, 200, "en")
    assert "Acme Telecom invites you to join Muster AG." in p.body
    assert account["account_id"] in p.body and "<li>Billing</li><li>Security</li>" in p.body
    forms = re.findall(r'<form method="post" action="([^"]+)">', p.body)
    assert forms == [f"{token}/accept", f"{token}/decline"]


@pytest.mark.parametrize("language, invites, accepted", [
    ("de", "lädt Sie ein", "Einladung angenommen"),
    ("fr", "vous invite à rejoindre", "Invitation acceptée"),
    ("it", "la invita a unirsi", "Invito accettato"),
    ("en", "invites you to join", "Invitation accepted"),
])
def test_pages_in_each_language(api, account, chalice_client, language, invites, accepted):
    token = token_of(invite(api, account["account_id"], "zoe@example.com", language=language))
    offer = page(chalice_client, "GET", f"/invitations/{token}")
    assert_page(offer, 200, language)
    assert invites in offer.body
    done = accept(chalice_client, token)
    assert_page(done, 200, language)
    assert accepted in done.body


def test_the_language_falls_back_to_the_account_then_the_tenant(api, chalice_client):
    aid = api.post("/accounts", {"name": "Rossi SA", "language": "it"}).json["account_id"]
    assert 'lang="it"' in page(chalice_client, "GET", f"/invitations/{token_of(invite(api, aid, 'a@example.com'))}").body
    bare = api.post("/accounts", {"name": "Ohne Sprache"}).json["account_id"]
    assert 'lang="de"' in page(chalice_client, "GET", f"/invitations/{token_of(invite(api, bare, 'b@example.com'))}").body


def test_unknown_tampered_revoked_and_used_links_get_one_indistinguishable_404(api, account, chalice_client):
    aid = account["account_id"]
    token = token_of(invite(api, aid, "zoe@example.com"))
    tampered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    revoked_inv = invite(api, aid, "rev@example.com")
    revoked = token_of(revoked_inv)
    assert api.delete(f"/accounts/{aid}/invitations/{revoked_inv['invitation_id']}").status == 204
    used = token_of(invite(api, aid, "used@example.com"))
    assert accept(chalice_client, used).status == 200
    answers = [page(chalice_client, "GET", f"/invitations/{t}") for t in (tampered, revoked, "x" * 43, "short")]
    answers += [decline(chalice_client, t) for t in (tampered, revoked, used)]
    for answer in answers:
        assert_page(answer, 404, "en")
    assert len({a.body for a in answers}) == 1
    assert page(chalice_client, "GET", f"/invitations/{token}").status == 200  # the real one still works


def test_a_link_with_another_id_in_it_opens_nothing(api, account, chalice_client):
    """The token's hash covers the ids it names: swapping in another invitation's, person's or
    account's id (each a real one of the tenant), or dropping one, finds no token item."""
    aid = account["account_id"]
    first, second = invite(api, aid, "zoe@example.com"), invite(api, aid, "max@example.com")
    other_account = api.post("/accounts", {"name": "Other"}).json["account_id"]
    tenant, account_body, invitation, person, secret = token_of(first).split(".")
    body = lambda some_id: some_id.split("_")[1]  # noqa: E731
    forged = [".".join(parts) for parts in (
        (tenant, account_body, body(second["invitation_id"]), person, secret),
        (tenant, account_body, invitation, body(second["person_id"]), secret),
        (tenant, body(other_account), invitation, person, secret),
        (tenant, account_body, invitation, secret),
        (tenant, account_body, invitation, person, person, secret),
    )]
    for link in forged:
        assert_page(page(chalice_client, "GET", f"/invitations/{link}"), 404, "en")
        assert_page(accept(chalice_client, link), 404, "en")
    assert membership(api, aid, first["person_id"]).json["status"] == "pending"
    assert membership(api, aid, second["person_id"]).json["status"] == "pending"
    assert page(chalice_client, "GET", f"/invitations/{token_of(first)}").status == 200


def test_the_404_page_speaks_the_browsers_language_only(api, account, chalice_client):
    p = page(chalice_client, "GET", f"/invitations/{'x' * 43}", headers={"accept-language": "fr-CH,fr;q=0.9"})
    assert_page(p, 404, "fr")
    assert "Invitation introuvable" in p.body


def test_json_answers_for_api_clients(api, account, chalice_client):
    token = token_of(invite(api, account["account_id"], "zoe@example.com"))
    reply = decline(chalice_client, token, headers={"accept": "application/json", "content-type": "application/json"})
    assert reply.status == 200 and reply.json["status"] == "declined"
    missing = accept(chalice_client, token, headers={"accept": "application/json"})
    assert missing.status == 404 and missing.json == {"status": "not_found", "invitation_id": None, "account_id": None}


def test_the_expired_page_offers_to_ask_the_inviter(api, account, chalice_client):
    from chalicelib import bootstrap
    from tests.functional.test_invitations import Later

    token = token_of(invite(api, account["account_id"], "zoe@example.com", language="en", expires_in_days=1))
    bootstrap.override(clock=Later(2))
    for p in (page(chalice_client, "GET", f"/invitations/{token}"), accept(chalice_client, token),
              decline(chalice_client, token)):
        assert_page(p, 410, "en")
        assert "Ask Acme Telecom for a new one." in p.body


def test_page_values_are_escaped(api, chalice_client):
    aid = api.post("/accounts", {"name": "<script>alert(1)</script> & Co"}).json["account_id"]
    p = page(chalice_client, "GET", f"/invitations/{token_of(invite(api, aid, 'z@example.com'))}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in p.body and "<script>" not in p.body
