"""Notification preferences behind a notice mail's link (issue 4 §3): GET/HEAD read only (mail
scanners), POST saves, one-click unsubscribe (the page's form and RFC 8058), one indistinguishable
404 for tampered, expired, foreign-tenant and stale-key links, the person's language, the
designated-contact note, only active memberships, the audit trail, retry on a concurrent change."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.functional.conftest import (
    add_contact, dynamodb_hook, dynamodb_operations, hide_from_by_person, new_tenant, random_id, table_items,
)
from tests.functional.invitation_helpers import invite, page
from tests.functional.test_invitation_pages import assert_page
from tests.functional.test_invitations import Later


def tenant_id_of(api) -> str:
    return api.get("/tenant").json["tenant_id"]


def link(api, person_id: str, notice_type: str | None = None) -> str:
    from chalicelib import bootstrap

    return bootstrap.get_preference_service().link(tenant_id_of(api), person_id, notice_type)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def token_in(url: str) -> str:
    return path_of(url).split("/")[2].split("?")[0]


def post(chalice_client, path: str, body: str = "", **kw):
    return page(chalice_client, "POST", path, body=body.encode(), **kw)


def notifications(api, account_id: str, person_id: str) -> list[str]:
    return api.get(f"/accounts/{account_id}/contacts/{person_id}").json["notifications"]


@pytest.fixture
def anna(api, account):
    return add_contact(api, account["account_id"], "anna@example.com", first_name="Anna",
                       notifications=["outage", "maintenance"])["person_id"]


# --- the link ----------------------------------------------------------------------------------

def test_the_link_is_a_signed_token_under_the_public_base_url(api, anna, chalice_client):
    from chalicelib.settings import get_settings

    url = link(api, anna)
    assert url.startswith(get_settings().public_base_url + "/preferences/")
    payload, mac = token_in(url).split(".")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", payload) and re.fullmatch(r"[A-Za-z0-9_-]{22}", mac)  # 128 bits
    assert link(api, anna) == url  # the same person on the same day: the same link, nothing stored
    assert link(api, anna, "outage") == url + "?type=outage"
    with pytest.raises(ValueError):
        link(api, anna, "spam")


def test_making_links_reads_the_platform_key_from_its_cache_and_writes_nothing(api, anna, chalice_client):
    from chalicelib import bootstrap
    from chalicelib.services.preferences import PreferenceService

    class CountingKey:
        calls = 0

        def current(self):
            CountingKey.calls += 1
            return "platform-test-key-0123456789abcdefghijklmnop"

    tid, before = tenant_id_of(api), table_items()
    service = PreferenceService(None, bootstrap.get_clock(), CountingKey(), None, "https://roster.example")
    links = {service.link(tid, anna, "maintenance") for _ in range(500)}
    assert len(links) == 1 and CountingKey.calls == 500  # the source's own cache answers; no DynamoDB
    assert table_items() == before
    [made] = links
    assert made.startswith("https://roster.example/preferences/") and made.endswith("?type=maintenance")
    assert token_in(made) == token_in(link(api, anna))  # the app's own service makes the same token


# --- scanners and the page ----------------------------------------------------------------------

def test_scanners_that_get_and_head_the_link_change_nothing(api, account, anna, chalice_client):
    path = path_of(link(api, anna, "outage"))
    before = table_items()
    for _ in range(3):
        assert_page(page(chalice_client, "GET", path), 200)
        head = page(chalice_client, "HEAD", path)
        assert_page(head, 200)
        assert head.body == ""
    assert table_items() == before
    assert notifications(api, account["account_id"], anna) == ["maintenance", "outage"]


def test_the_page_reads_the_person_with_their_memberships_then_the_accounts_with_the_tenant(api, account, anna,
                                                                                          chalice_client):
    path = path_of(link(api, anna, "outage"))
    with dynamodb_operations() as operations:
        assert_page(page(chalice_client, "GET", path), 200)
    assert operations == ["Query", "BatchGetItem"]  # the person sorts first in the by_person Query


def test_a_person_the_index_does_not_show_yet_is_read_from_the_table(api, account, anna, chalice_client):
    hide_from_by_person(tenant_id_of(api), anna)
    path = path_of(link(api, anna, "outage"))
    with dynamodb_operations() as operations:
        shown = page(chalice_client, "GET", path)
    assert_page(shown, 200, "de")
    assert "Guten Tag Anna" in shown.body and f"Muster AG ({account['account_id']})" in shown.body
    assert operations == ["Query", "GetItem", "BatchGetItem"]
    nobody = path_of(link(api, random_id("person")))
    with dynamodb_operations() as operations:
        missing = page(chalice_client, "GET", nobody)
    assert_page(missing, 404)  # a genuine link of nobody: the index and then the table say so
    assert operations == ["Query", "GetItem"]


def test_the_page_shows_each_accounts_choices_and_the_forms(api, account, anna, chalice_client):
    aid, token = account["account_id"], token_in(link(api, anna))
    p = page(chalice_client, "GET", f"/preferences/{token}")
    assert_page(p, 200, "de")
    assert f"Muster AG ({aid})" in p.body and "Guten Tag Anna" in p.body
    checked = re.findall(r'name="notify" value="([^"]+)" checked', p.body)
    assert checked == [f"{aid}:outage", f"{aid}:maintenance"]
    assert len(re.findall(r'name="notify"', p.body)) == 5
    assert f'<input type="hidden" name="account" value="{aid}">' in p.body
    forms = re.findall(r'<form method="post" action="([^"]+)">', p.body)
    assert forms == [token] + [f"{token}/unsubscribe"] * 5
    assert re.findall(r'name="type" value="([a-z]+)"', p.body) == ["outage", "maintenance", "security", "billing",
                                                                    "general"]
    with_type = page(chalice_client, "GET", f"/preferences/{token}?type=security")
    assert re.findall(r'name="type" value="([a-z]+)"', with_type.body)[0] == "security"  # the link's type first
    assert "Sicherheitshinweise" in with_type.body


def test_json_answers_for_api_clients(api, account, anna, chalice_client):
    aid, token = account["account_id"], token_in(link(api, anna))
    reply = page(chalice_client, "GET", f"/preferences/{token}", headers={"accept": "application/json"})
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    assert reply.json["accounts"] == [{"account_id": aid, "account_name": "Muster AG", "designated": [],
                                       "notifications": ["maintenance", "outage"], "always": []}]
    saved = page(chalice_client, "POST", f"/preferences/{token}", headers={
        "accept": "application/json", "content-type": "application/json"},
        body=b'{"choices": {"%s": ["billing", "general"]}}' % aid.encode())
    assert saved.status == 200 and saved.json["status"] == "saved"
    assert saved.json["accounts"][0]["notifications"] == ["billing", "general"]
    missing = page(chalice_client, "GET", f"/preferences/{token}x", headers={"accept": "application/json"})
    assert missing.status == 404 and missing.json == {"status": "not_found"}


# --- changes ----------------------------------------------------------------------------------

def test_post_saves_the_choices_and_audits_them_as_the_persons_own_change(api, account, anna, chalice_client):
    aid, token = account["account_id"], token_in(link(api, anna))
    other = api.post("/accounts", {"name": "Zweite AG"}).json["account_id"]
    add_contact(api, other, "anna@example.com", notifications=["billing"])
    body = f"account={aid}&notify={quote(aid)}%3Asecurity&notify={aid}%3Ageneral&notify={aid}%3Aspam"
    saved = post(chalice_client, f"/preferences/{token}", body)
    assert_page(saved, 200, "de")
    assert "Einstellungen gespeichert" in saved.body and f'href="{token}"' in saved.body
    assert notifications(api, aid, anna) == ["general", "security"]
    assert notifications(api, other, anna) == ["billing"]  # not on the form: unchanged
    [entry] = [e for e in api.get(f"/accounts/{aid}/audit").json["items"] if e["action"] == "contact.updated"]
    assert entry["actor"] == {"type": "person", "id": anna} and entry["changed"] == ["notifications"]
    assert entry["target"] == anna
    assert not [e for e in api.get(f"/accounts/{other}/audit").json["items"] if e["action"] == "contact.updated"]
    everything_off = post(chalice_client, f"/preferences/{token}", f"account={aid}")
    assert everything_off.status == 200 and notifications(api, aid, anna) == []


def test_a_post_without_choices_is_refused_and_changes_nothing(api, account, anna, chalice_client):
    token = token_in(link(api, anna))
    before = table_items()
    assert_page(post(chalice_client, f"/preferences/{token}", "x=1"), 400, "de")
    assert_page(post(chalice_client, f"/preferences/{token}/unsubscribe", "type=spam"), 400, "de")
    assert_page(post(chalice_client, f"/preferences/{token}/unsubscribe"), 400, "de")
    assert table_items() == before


def test_one_click_unsubscribe_from_the_page_removes_the_type_from_every_active_membership(
        api, account, anna, chalice_client):
    aid, token = account["account_id"], token_in(link(api, anna))
    other = api.post("/accounts", {"name": "Zweite AG"}).json["account_id"]
    add_contact(api, other, "anna@example.com", notifications=["outage", "billing"])
    done = post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage")
    assert_page(done, 200, "de")
    assert "Sie erhalten keine Mitteilungen der Art «Störungen» mehr." in done.body
    assert f'href="../{token}"' in done.body
    assert notifications(api, aid, anna) == ["maintenance"]
    assert notifications(api, other, anna) == ["billing"]
    before = table_items()
    assert post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage").status == 200
    assert table_items() == before  # nothing left to remove: nothing written, no audit entry


@pytest.mark.parametrize("content_type, body", [
    ("application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"),
    ("multipart/form-data; boundary=XyZ",
     '--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'),
])
def test_rfc_8058_one_click_unsubscribe(api, account, anna, chalice_client, content_type, body):
    from chalicelib import bootstrap

    url = bootstrap.get_preference_service().unsubscribe_link(tenant_id_of(api), anna, "maintenance")
    assert url.endswith("/unsubscribe?type=maintenance")
    done = post(chalice_client, path_of(url), body, headers={"content-type": content_type})
    assert done.status == 200, done.body
    assert notifications(api, account["account_id"], anna) == ["outage"]


def test_a_change_in_several_accounts_is_one_transaction_with_an_audit_entry_each(api, account, anna,
                                                                                    chalice_client):
    aid, token = account["account_id"], token_in(link(api, anna))
    other = api.post("/accounts", {"name": "Zweite AG"}).json["account_id"]
    add_contact(api, other, "anna@example.com", notifications=["outage", "billing"])
    body = f"account={aid}&notify={aid}%3Asecurity&account={other}&notify={other}%3Ageneral"
    with dynamodb_operations() as operations:
        assert post(chalice_client, f"/preferences/{token}", body).status == 200
    assert operations == ["Query", "BatchGetItem", "TransactWriteItems"]
    assert notifications(api, aid, anna) == ["security"] and notifications(api, other, anna) == ["general"]
    with dynamodb_operations() as operations:
        done = post(chalice_client, f"/preferences/{token}/unsubscribe", "type=security")
    assert done.status == 200 and operations == ["Query", "BatchGetItem", "TransactWriteItems"]
    assert notifications(api, aid, anna) == [] and notifications(api, other, anna) == ["general"]
    for account_id, writes in ((aid, 2), (other, 1)):
        entries = [e for e in api.get(f"/accounts/{account_id}/audit").json["items"] if e["action"] == "contact.updated"]
        assert len(entries) == writes and {e["actor"]["id"] for e in entries} == {anna}


def test_more_changes_than_one_transaction_holds_go_in_several(api, account, anna, chalice_client, monkeypatch):
    import chalicelib.services.contacts as contacts_service

    monkeypatch.setattr(contacts_service, "MAX_TRANSACTION_ITEMS", 4)  # two changes with their audit entries
    accounts = [account["account_id"]]
    for name in ("Zweite AG", "Dritte AG"):
        accounts.append(api.post("/accounts", {"name": name}).json["account_id"])
        add_contact(api, accounts[-1], "anna@example.com", notifications=["outage"])
    token = token_in(link(api, anna))
    with dynamodb_operations() as operations:
        done = post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage")
    assert_page(done, 200, "de")
    assert operations == ["Query", "BatchGetItem", "TransactWriteItems", "TransactWriteItems"]
    assert [notifications(api, aid, anna) for aid in accounts] == [["maintenance"], [], []]


def test_a_membership_that_changed_meanwhile_is_read_again_and_the_change_applied_to_it(
        api, account, anna, chalice_client):
    from chalicelib import bootstrap
    from chalicelib.models import keys
    from chalicelib.settings import get_settings

    aid, tid, token = account["account_id"], tenant_id_of(api), token_in(link(api, anna))
    other = api.post("/accounts", {"name": "Zweite AG"}).json["account_id"]
    add_contact(api, other, "anna@example.com", notifications=["outage", "billing"])
    client, raced = bootstrap.get_repositories().connection.client, []

    def racing(model=None, **_):
        if model.name == "TransactWriteItems" and not raced:  # someone adds security between our read and write
            raced.append(model.name)
            client.update_item(TableName=get_settings().table_name,
                               Key={"pk": {"S": keys.account(tid, aid)}, "sk": {"S": keys.member(anna)}},
                               UpdateExpression="ADD version :one, notifications :security",
                               ExpressionAttributeValues={":one": {"N": "1"}, ":security": {"SS": ["security"]}})

    with dynamodb_operations() as operations, dynamodb_hook("before-call", racing):
        done = post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage")
    assert_page(done, 200, "de")
    assert raced and operations == ["Query", "BatchGetItem", "TransactWriteItems", "UpdateItem", "BatchGetItem",
                                    "TransactWriteItems"]  # the UpdateItem is the race's
    assert notifications(api, aid, anna) == ["maintenance", "security"]
    assert notifications(api, other, anna) == ["billing"]
    for account_id in (aid, other):  # the failed transaction wrote nothing: one entry each
        entries = [e for e in api.get(f"/accounts/{account_id}/audit").json["items"] if e["action"] == "contact.updated"]
        assert len(entries) == 1


# --- only active memberships, designated contacts -----------------------------------------------

def test_memberships_that_are_not_active_are_neither_listed_nor_changed(api, account, anna, chalice_client):
    aid = account["account_id"]
    inactive = api.post("/accounts", {"name": "Ruhend AG"}).json["account_id"]
    add_contact(api, inactive, "anna@example.com", notifications=["outage"])
    assert api.patch(f"/accounts/{inactive}/contacts/{anna}", {"status": "inactive"}).status == 200
    pending = api.post("/accounts", {"name": "Eingeladen AG"}).json["account_id"]
    invite(api, pending, "anna@example.com", notifications=["outage"])
    token = token_in(link(api, anna))
    p = page(chalice_client, "GET", f"/preferences/{token}")
    assert aid in p.body and inactive not in p.body and pending not in p.body
    assert post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage").status == 200
    assert notifications(api, inactive, anna) == ["outage"]
    assert api.get(f"/accounts/{pending}/contacts/{anna}").json["notifications"] == ["outage"]
    assert notifications(api, aid, anna) == ["maintenance"]
    # a form naming an account where the person is not active changes nothing there
    assert post(chalice_client, f"/preferences/{token}", f"account={inactive}").status == 200
    assert notifications(api, inactive, anna) == ["outage"]


def test_designated_contacts_are_told_which_types_reach_them_whatever_they_choose(api, account, anna,
                                                                                  chalice_client):
    aid = account["account_id"]
    ben = add_contact(api, aid, "ben@example.com", language="en")["person_id"]
    reply = api.put(f"/accounts/{aid}/designated-contacts", {"technical": ben, "administrative": anna})
    assert reply.status == 200, reply.json
    technical = page(chalice_client, "GET", path_of(link(api, ben)))
    assert_page(technical, 200, "en")
    note = "always sent to you as the designated technical contact"
    noted = re.findall(r'value="[^"]+:([a-z]+)"[^>]*> [^<]+</label> <small>\(([^)]+)\)</small>', technical.body)
    assert noted == [("outage", note), ("maintenance", note), ("security", note)]
    administrative = page(chalice_client, "GET", path_of(link(api, anna)))
    noted = re.findall(r'value="[^"]+:([a-z]+)"[^>]*> [^<]+</label> <small>', administrative.body)
    assert noted == ["maintenance", "general"]
    assert "erhalten Sie als administrative Kontaktperson immer" in administrative.body
    done = post(chalice_client, f"{path_of(link(api, ben))}/unsubscribe", "type=security")
    assert "As the designated technical contact of Muster AG" in done.body and "you still receive" in done.body
    as_json = page(chalice_client, "GET", path_of(link(api, anna)), headers={"accept": "application/json"})
    assert as_json.json["accounts"][0]["designated"] == ["administrative"]
    assert as_json.json["accounts"][0]["always"] == ["general", "maintenance"]


# --- language ------------------------------------------------------------------------------------

@pytest.mark.parametrize("language, title, saved", [
    ("de", "Benachrichtigungen", "Einstellungen gespeichert"),
    ("fr", "Notifications", "Préférences enregistrées"),
    ("it", "Notifiche", "Preferenze salvate"),
    ("en", "Notification preferences", "Preferences saved"),
])
def test_pages_in_the_persons_language(api, account, chalice_client, language, title, saved):
    aid = account["account_id"]
    pid = add_contact(api, aid, "zoe@example.com", language=language)["person_id"]
    token = token_in(link(api, pid))
    p = page(chalice_client, "GET", f"/preferences/{token}", headers={"accept-language": "en"})
    assert_page(p, 200, language)
    assert f"<h1>{title}</h1>" in p.body
    done = post(chalice_client, f"/preferences/{token}", f"account={aid}")
    assert_page(done, 200, language)
    assert saved in done.body


def test_the_language_falls_back_to_the_account_then_the_tenant(platform, chalice_client):
    api = new_tenant(platform, "Gamma", "fr")
    italian = api.post("/accounts", {"name": "Rossi SA", "language": "it"}).json["account_id"]
    pid = add_contact(api, italian, "a@example.com")["person_id"]
    assert 'lang="it"' in page(chalice_client, "GET", path_of(link(api, pid))).body
    bare = api.post("/accounts", {"name": "Sans langue"}).json["account_id"]
    pid = add_contact(api, bare, "b@example.com")["person_id"]
    assert 'lang="fr"' in page(chalice_client, "GET", path_of(link(api, pid))).body


# --- links that are not genuine -----------------------------------------------------------------

def test_tampered_foreign_tenant_stale_key_and_expired_links_get_one_indistinguishable_404(
        api, other_api, account, anna, chalice_client):
    from chalicelib import bootstrap

    token = token_in(link(api, anna))
    payload, mac = token.split(".")
    flipped_mac = f"{payload}.{mac[:5]}{'A' if mac[5] != 'A' else 'B'}{mac[6:]}"
    import base64

    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    other_tid = tenant_id_of(other_api)
    forged = base64.urlsafe_b64encode(raw.replace(tenant_id_of(api), other_tid).encode()).decode().rstrip("=")
    foreign_tenant = f"{forged}.{mac}"  # anna's MAC on a payload naming another tenant
    wrong_tenant = token_in(link(other_api, anna))  # genuine MAC: anna is no person of the other tenant
    longer_ago = base64.urlsafe_b64encode((raw[:-8] + "20000101").encode()).decode().rstrip("=") + "." + mac
    bad = [flipped_mac, foreign_tenant, wrong_tenant, longer_ago, "x" * 43, "a.b", token + "x", "." * 3]
    before = table_items()
    answers = []
    for t in bad:
        answers.append(page(chalice_client, "GET", f"/preferences/{t}"))
        answers.append(post(chalice_client, f"/preferences/{t}", f"account={account['account_id']}"))
        answers.append(post(chalice_client, f"/preferences/{t}/unsubscribe", "type=outage"))
    bootstrap.override(clock=Later(366))
    answers += [page(chalice_client, "GET", f"/preferences/{token}"),
                post(chalice_client, f"/preferences/{token}/unsubscribe", "type=outage")]
    bootstrap.reset()

    class RotatedKey:
        def current(self):
            return "a-new-platform-key-after-rotation-0123456789"

    bootstrap.override(platform_key_source=RotatedKey())
    answers.append(page(chalice_client, "GET", f"/preferences/{token}"))
    bootstrap.reset()
    for answer in answers:
        assert_page(answer, 404, "en")
    assert len({a.body for a in answers}) == 1
    assert table_items() == before
    bootstrap.override(clock=Later(364))
    assert page(chalice_client, "GET", f"/preferences/{token}").status == 200  # still within 365 days
    bootstrap.reset()
    assert page(chalice_client, "GET", f"/preferences/{token}").status == 200


def test_the_404_page_speaks_the_browsers_language_only(chalice_client):
    p = page(chalice_client, "GET", "/preferences/nothing.here", headers={"accept-language": "it-CH,it;q=0.9"})
    assert_page(p, 404, "it")
    assert "Link non valido" in p.body


def test_an_erased_person_s_link_is_404(api, account, anna, chalice_client):
    token = token_in(link(api, anna))
    assert api.delete(f"/people/{anna}").status == 204
    assert_page(page(chalice_client, "GET", f"/preferences/{token}"), 404)


def test_page_values_are_escaped(api, chalice_client):
    aid = api.post("/accounts", {"name": "<script>alert(1)</script> & Co"}).json["account_id"]
    pid = add_contact(api, aid, "z@example.com", first_name="<b>Zoe</b>")["person_id"]
    p = page(chalice_client, "GET", path_of(link(api, pid)))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in p.body and "<script>" not in p.body
    assert "&lt;b&gt;Zoe&lt;/b&gt;" in p.body
