"""What a customer's own admin can reach (issue 14 §1): people of other customers of the same
tenant join an account only by invitation, and no answer to a person token tells whether an
e-mail belongs to someone elsewhere in the tenant. API keys (the provider's staff) keep adding
people directly."""
from __future__ import annotations

import json

import pytest

from tests.functional.conftest import COMPLETE_ACCOUNT, add_contact, assert_error
from tests.functional.invitation_helpers import accept, token_of
from tests.functional.portal_helpers import person_api, trusted_issuer

OTHER_CUSTOMER = {"email": "vera@other.example", "first_name": "Vera", "last_name": "Geheim",
                  "phone": "+41441112233", "language": "it", "permissions": ["billing"]}


@pytest.fixture
def issuer(chalice_client):
    with trusted_issuer() as trusted:
        yield trusted


@pytest.fixture
def scene(api, issuer, account):
    """Account A with its admin (a person token); account B of another customer with Vera."""
    aid = account["account_id"]
    add_contact(api, aid, "boss@muster.example", roles=["admin"])
    other = api.post("/accounts", {**COMPLETE_ACCOUNT, "name": "Other AG"}).json["account_id"]
    vera = add_contact(api, other, **OTHER_CUSTOMER)["person_id"]
    tenant_id = api.get("/tenant").json["tenant_id"]
    return {"a": aid, "b": other, "vera": vera, "boss": person_api(api, issuer, tenant_id, "boss@muster.example")}


def _same_error(first, second) -> None:
    assert (first.status, first.json) == (second.status, second.json)


def test_an_admin_cannot_attach_a_person_of_another_customer_and_learns_nothing(api, scene):
    aid, boss = scene["a"], scene["boss"]
    known = boss.post(f"/accounts/{aid}/contacts", {"email": "Vera@other.example"})
    unknown = boss.post(f"/accounts/{aid}/contacts", {"email": "nobody@other.example"})
    assert_error(known, 422, "invitation_required", {"email"})
    _same_error(known, unknown)  # a new e-mail and another customer's person answer alike
    assert "Vera" not in json.dumps(known.json) and "+4144" not in json.dumps(known.json)
    assert_error(api.get(f"/accounts/{aid}/contacts/{scene['vera']}"), 404)  # not attached
    assert api.get("/people?email=nobody@other.example").json["items"] == []  # nobody was created


def test_an_admin_adds_directly_someone_who_already_shares_an_account_with_them(api, scene):
    aid, boss = scene["a"], scene["boss"]
    shared = api.post("/accounts", {**COMPLETE_ACCOUNT, "name": "Shared AG"}).json["account_id"]
    add_contact(api, shared, "boss@muster.example")
    add_contact(api, shared, "colleague@muster.example", first_name="Carla")
    added = boss.post(f"/accounts/{aid}/contacts", {"email": "colleague@muster.example"})
    assert added.status == 201, added.json
    assert added.json["status"] == "active" and added.json["person"]["first_name"] == "Carla"


def test_an_api_key_still_attaches_a_known_person_directly(api, scene):
    added = api.post(f"/accounts/{scene['a']}/contacts", {"email": "vera@other.example"})
    assert added.status == 201, added.json
    assert added.json["person_created"] is False and added.json["person"]["first_name"] == "Vera"


def test_an_invitee_of_another_customer_shows_the_admin_only_what_the_admin_typed(api, scene):
    aid, boss = scene["a"], scene["boss"]
    known = boss.post(f"/accounts/{aid}/invitations", {"email": "vera@other.example"})
    unknown = boss.post(f"/accounts/{aid}/invitations", {"email": "newbie@other.example"})
    assert known.status == unknown.status == 201, (known.json, unknown.json)
    assert known.json["language"] is None and unknown.json["language"] is None  # not Vera's own "it"
    assert known.json.keys() == unknown.json.keys()
    seen = boss.get(f"/accounts/{aid}/contacts/{known.json['person_id']}")
    assert seen.status == 200 and seen.json["status"] == "pending"
    assert seen.json["person"] == {"person_id": scene["vera"], "email": "vera@other.example"}
    # the provider's staff see the whole person
    assert api.get(f"/accounts/{aid}/contacts/{scene['vera']}").json["person"]["first_name"] == "Vera"


def test_a_guest_invitation_by_a_person_is_checked_when_the_guest_accepts(api, scene, chalice_client):
    aid, boss = scene["a"], scene["boss"]
    registered = boss.post(f"/accounts/{aid}/invitations", {"email": "vera@other.example", "kind": "guest"})
    stranger = boss.post(f"/accounts/{aid}/invitations", {"email": "stranger@else.example", "kind": "guest"})
    assert registered.status == stranger.status == 201, (registered.json, stranger.json)
    assert registered.json.keys() == stranger.json.keys()

    refused = accept(chalice_client, token_of(stranger.json), headers={"accept": "application/json"})
    assert refused.status == 409 and refused.json["status"] == "not_registered"
    member = api.get(f"/accounts/{aid}/contacts/{stranger.json['person_id']}").json
    assert member["status"] == "pending" and api.get(f"/accounts/{aid}").json["member_count"] == 1

    assert accept(chalice_client, token_of(registered.json)).status == 200
    assert api.get(f"/accounts/{aid}/contacts/{scene['vera']}").json["status"] == "active"


def test_the_not_registered_page_exists_in_every_language(api, scene, chalice_client):
    from chalicelib.pages.invitation_texts import TEXTS

    for language, texts in TEXTS.items():
        assert texts.keys() == TEXTS["en"].keys(), language
    stranger = scene["boss"].post(f"/accounts/{scene['a']}/invitations",
                                  {"email": "fremd@else.example", "kind": "guest", "language": "de"}).json
    page = accept(chalice_client, token_of(stranger))
    assert page.status == 409 and TEXTS["de"]["not_registered_title"] in page.body


def test_a_guest_who_left_their_other_account_meanwhile_cannot_accept(api, scene, chalice_client):
    invited = api.post(f"/accounts/{scene['a']}/invitations", {"email": "vera@other.example", "kind": "guest"})
    assert invited.status == 201, invited.json
    assert api.patch(f"/accounts/{scene['b']}/contacts/{scene['vera']}", {"status": "inactive"}).status == 200
    refused = accept(chalice_client, token_of(invited.json), headers={"accept": "application/json"})
    assert refused.status == 409 and refused.json["status"] == "not_registered"


def test_an_api_key_learns_at_once_that_a_guest_is_not_registered(api, scene):
    assert_error(api.post(f"/accounts/{scene['a']}/invitations", {"email": "stranger@else.example", "kind": "guest"}),
                 422, "not_registered", {"email"})


def test_an_invitation_shows_only_the_language_the_inviter_chose_and_mails_in_the_invitees(
        api, scene, chalice_client):
    from tests.functional.mail_helpers import drain, sent_mails

    invited = api.post(f"/accounts/{scene['a']}/invitations", {"email": "vera@other.example"})
    assert invited.status == 201 and invited.json["language"] is None
    [listed] = scene["boss"].get(f"/accounts/{scene['a']}/invitations").json["items"]
    assert listed["language"] is None  # Vera's own "it" stays hers
    drain(chalice_client, "send_mail", "roster-mail")
    assert [m.template for m in sent_mails()] == ["roster-invitation-it"]
