"""Customer accounts (C1, C4, C5, N4): drafts, onboarding, changes, lists, warnings, deletion."""
from urllib.parse import quote

import pytest

from tests.functional.conftest import (
    COMPLETE_ACCOUNT, add_contact, assert_error, items_mentioning, random_id, table_items, walk,
)

ALL_WARNINGS = {"no_technical_contact", "no_administrative_contact", "no_caretaker", "no_on_site_admin"}


def create(api, body=None) -> dict:
    reply = api.post("/accounts", body if body is not None else COMPLETE_ACCOUNT)
    assert reply.status == 201, reply.json
    return reply.json


def onboarded(api, name="Onboarded AG") -> dict:
    """An active account with a caretaker and an on-site admin (no designated contacts)."""
    account = create(api, {**COMPLETE_ACCOUNT, "name": name})
    aid = account["account_id"]
    slug = name.split()[0].lower()
    add_contact(api, aid, f"care@{slug}.example", roles=["caretaker"])
    add_contact(api, aid, f"site@{slug}.example", roles=["on_site_admin"])
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert reply.status == 200, reply.json
    return reply.json


def ids(items) -> set[str]:
    return {item["account_id"] for item in items}


# --- create and read ----------------------------------------------------------------------

def test_an_empty_draft_may_be_saved(api):
    account = create(api, {})
    assert account["status"] == "draft"
    assert account["name"] is None
    assert account["address"] == {"street": None, "postal_code": None, "city": None, "country": None}
    assert account["business_type"] is None and account["language"] is None
    assert account["email_domains"] == []
    assert account["designated_contacts"] == {"technical": None, "administrative": None}
    assert account["customer_person_id"] is None
    assert account["member_count"] == 0
    assert set(account["warnings"]) == ALL_WARNINGS
    assert account["version"] == 1
    assert account["account_id"].startswith("acc_")
    assert api.get(f"/accounts/{account['account_id']}").json == account


def test_a_complete_draft_keeps_every_field(api):
    account = create(api, {**COMPLETE_ACCOUNT, "email_domains": ["Muster.CH", "muster.ch", "muster-ag.example"]})
    assert account["name"] == COMPLETE_ACCOUNT["name"]
    assert account["address"] == COMPLETE_ACCOUNT["address"]
    assert account["business_type"] == "it_services"
    assert account["language"] == "de"
    assert account["email_domains"] == ["muster.ch", "muster-ag.example"]  # lower-cased, no duplicates
    assert account["status"] == "draft"


def test_a_partial_address_is_kept_in_a_draft(api):
    account = create(api, {"name": "Half", "address": {"city": "Bern"}})
    assert account["address"] == {"street": None, "postal_code": None, "city": "Bern", "country": None}


def test_unknown_account_is_404(api):
    assert_error(api.get(f"/accounts/{random_id('account')}"), 404, "not_found")
    assert_error(api.get("/accounts/whatever"), 404, "not_found")


# --- onboarding (C4, C5) ----------------------------------------------------------------------

def test_onboarding_an_empty_draft_lists_exactly_what_is_missing(api):
    aid = create(api, {})["account_id"]
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert_error(reply, 422)
    fields = [detail["field"] for detail in reply.error["details"]]
    assert sorted(fields) == sorted(["name", "address.street", "address.postal_code", "address.city",
                                     "address.country", "business_type", "contacts", "contacts"])
    contact_problems = " ".join(d["problem"] for d in reply.error["details"] if d["field"] == "contacts")
    assert "caretaker" in contact_problems and "on-site admin" in contact_problems
    assert api.get(f"/accounts/{aid}").json["status"] == "draft"


def test_onboarding_names_only_the_gaps_that_remain(api):
    aid = create(api, {"name": "Partly", "address": {"street": "Weg 1", "postal_code": "3000", "country": "CH"}})["account_id"]
    add_contact(api, aid, "care@partly.example", roles=["caretaker"])
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert_error(reply, 422)
    assert [(d["field"], "on-site admin" in d["problem"]) for d in sorted(reply.error["details"], key=lambda d: d["field"])] == [
        ("address.city", False), ("business_type", False), ("contacts", True)]


def test_onboarding_needs_both_support_roles_among_active_members(api):
    aid = create(api)["account_id"]
    care = add_contact(api, aid, "care@x.example", roles=["caretaker"])
    add_contact(api, aid, "site@x.example", roles=["on_site_admin"])
    assert api.patch(f"/accounts/{aid}/contacts/{care['person_id']}", {"status": "inactive"}).status == 200
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert_error(reply, 422, fields={"contacts"})
    assert len(reply.error["details"]) == 1 and "caretaker" in reply.error["details"][0]["problem"]
    before = api.get(f"/accounts/{aid}").json
    assert before["status"] == "draft"
    assert api.patch(f"/accounts/{aid}/contacts/{care['person_id']}", {"status": "active"}).status == 200
    done = api.post(f"/accounts/{aid}/onboarding/complete")
    assert done.status == 200, done.json
    assert done.json["status"] == "active"
    assert done.json["version"] == before["version"] + 1


def test_one_member_with_both_roles_is_enough(api):
    aid = create(api)["account_id"]
    add_contact(api, aid, "both@x.example", roles=["caretaker", "on_site_admin"])
    assert api.post(f"/accounts/{aid}/onboarding/complete").status == 200


def test_onboarding_an_active_account_again_is_409(api):
    account = onboarded(api)
    assert_error(api.post(f"/accounts/{account['account_id']}/onboarding/complete"), 409)
    assert api.get(f"/accounts/{account['account_id']}").json["version"] == account["version"]


def test_onboarding_a_missing_account_is_404(api):
    assert_error(api.post(f"/accounts/{random_id('account')}/onboarding/complete"), 404, "not_found")


# --- changes ------------------------------------------------------------------------------------

def test_patch_changes_fields_and_bumps_the_version(api):
    account = create(api, {})
    aid = account["account_id"]
    reply = api.patch(f"/accounts/{aid}", {"name": "Renamed", "language": "fr", "business_type": "retail",
                                           "email_domains": ["A.example", "b.example"],
                                           "address": COMPLETE_ACCOUNT["address"]})
    assert reply.status == 200, reply.json
    assert reply.json["name"] == "Renamed" and reply.json["language"] == "fr"
    assert reply.json["business_type"] == "retail"
    assert reply.json["email_domains"] == ["a.example", "b.example"]
    assert reply.json["address"] == COMPLETE_ACCOUNT["address"]
    assert reply.json["version"] == 2
    assert api.get(f"/accounts/{aid}").json == reply.json


def test_patch_status_on_a_draft_is_422(api):
    aid = create(api)["account_id"]
    for status in ("active", "inactive"):
        reply = api.patch(f"/accounts/{aid}", {"status": status})
        assert_error(reply, 422, fields={"status"})
    assert api.get(f"/accounts/{aid}").json["status"] == "draft"
    assert_error(api.patch(f"/accounts/{aid}", {"status": "draft"}), 400, fields={"status"})


def test_active_and_inactive_switch_both_ways(api):
    account = onboarded(api)
    aid = account["account_id"]
    off = api.patch(f"/accounts/{aid}", {"status": "inactive"})
    assert off.status == 200 and off.json["status"] == "inactive"
    on = api.patch(f"/accounts/{aid}", {"status": "active"})
    assert on.status == 200 and on.json["status"] == "active"
    assert on.json["version"] == account["version"] + 2
    # a status list follows
    assert aid in ids(api.get("/accounts?status=active").json["items"])
    assert aid not in ids(api.get("/accounts?status=inactive").json["items"])


def test_an_onboarded_account_must_stay_complete(api):
    aid = onboarded(api)["account_id"]
    assert_error(api.patch(f"/accounts/{aid}", {"name": None}), 422, fields={"name"})
    assert_error(api.patch(f"/accounts/{aid}", {"business_type": None}), 422, fields={"business_type"})
    assert_error(api.patch(f"/accounts/{aid}", {"address": None}), 422, fields={"address"})
    assert_error(api.patch(f"/accounts/{aid}", {"address": {"street": "Only street"}}), 422, fields={"address"})
    assert api.get(f"/accounts/{aid}").json["name"] == "Onboarded AG"
    # a draft may lose them again
    draft = create(api)["account_id"]
    reply = api.patch(f"/accounts/{draft}", {"name": None, "address": None})
    assert reply.status == 200, reply.json
    assert reply.json["name"] is None and reply.json["address"]["city"] is None


@pytest.mark.parametrize("how", ["if-match", "if-match-quoted", "body"])
def test_stale_version_is_409_and_changes_nothing(api, how):
    account = create(api)
    aid = account["account_id"]
    assert api.patch(f"/accounts/{aid}", {"name": "First change"}).status == 200
    stale = account["version"]
    if how == "body":
        reply = api.patch(f"/accounts/{aid}", {"name": "Lost update", "version": stale})
    else:
        tag = f'"{stale}"' if how == "if-match-quoted" else str(stale)
        reply = api.patch(f"/accounts/{aid}", {"name": "Lost update"}, headers={"if-match": tag})
    assert_error(reply, 409, "version_conflict")
    current = api.get(f"/accounts/{aid}").json
    assert current["name"] == "First change" and current["version"] == stale + 1
    fresh = api.patch(f"/accounts/{aid}", {"name": "Second change", "version": current["version"]})
    assert fresh.status == 200 and fresh.json["version"] == stale + 2


def test_patch_of_a_missing_account_is_404(api):
    assert_error(api.patch(f"/accounts/{random_id('account')}", {"name": "x"}), 404, "not_found")
    assert_error(api.patch(f"/accounts/{random_id('account')}", {"name": "x", "version": 1}), 404, "not_found")


# --- lists -------------------------------------------------------------------------------------

def test_list_walks_every_account_exactly_once_with_limit_1(api):
    made = [create(api, {"name": f"Account {i}"})["account_id"] for i in range(4)]
    seen = [item["account_id"] for item in walk(api, "/accounts", limit=1)]
    assert seen == made  # oldest first, each once
    page = api.get("/accounts?limit=100").json
    assert [item["account_id"] for item in page["items"]] == made and page["next_cursor"] is None


def test_a_tampered_cursor_is_400(api):
    for i in range(3):
        create(api, {"name": f"A{i}"})
    cursor = api.get("/accounts?limit=1").json["next_cursor"]
    assert cursor
    for bad in (cursor[:-2], cursor + "x", "x" + cursor, cursor[::-1], "%%%", "e30"):
        assert_error(api.get(f"/accounts?limit=1&cursor={quote(bad)}"), 400, fields={"cursor"})
    # a cursor from another list (the status list) is refused too
    status_cursor = api.get("/accounts?status=draft&limit=1").json["next_cursor"]
    assert_error(api.get(f"/accounts?limit=1&cursor={status_cursor}&status=active"), 400, fields={"cursor"})


def test_status_filter_lists_exactly_the_accounts_with_that_status(api):
    drafts = {create(api, {"name": f"Draft {i}"})["account_id"] for i in range(2)}
    active = onboarded(api, "Active AG")["account_id"]
    inactive = onboarded(api, "Inactive AG")["account_id"]
    assert api.patch(f"/accounts/{inactive}", {"status": "inactive"}).status == 200
    assert ids(walk(api, "/accounts", status="draft")) == drafts
    assert ids(walk(api, "/accounts", status="active")) == {active}
    assert ids(walk(api, "/accounts", status="inactive")) == {inactive}
    assert ids(walk(api, "/accounts", limit=50)) == drafts | {active, inactive}


def test_warning_filter_lists_exactly_the_right_accounts_and_follows_changes(api):
    complete = create(api, {"name": "Complete"})["account_id"]
    care = add_contact(api, complete, "care@complete.example", roles=["caretaker", "technical"])
    add_contact(api, complete, "site@complete.example", roles=["on_site_admin", "administrative"])
    only_care = create(api, {"name": "Only caretaker"})["account_id"]
    add_contact(api, only_care, "care@only.example", roles=["caretaker"])
    empty = create(api, {"name": "Empty"})["account_id"]

    def listed(warning):
        return ids(walk(api, "/accounts", limit=2, warning=warning))

    assert api.get(f"/accounts/{complete}").json["warnings"] == []
    assert listed("no_caretaker") == {empty}
    assert listed("no_on_site_admin") == {only_care, empty}
    assert listed("no_technical_contact") == {only_care, empty}
    assert listed("no_administrative_contact") == {only_care, empty}

    # the caretaker is deactivated: no_caretaker appears (and technical is freed with it)
    assert api.patch(f"/accounts/{complete}/contacts/{care['person_id']}", {"status": "inactive"}).status == 200
    warnings = set(api.get(f"/accounts/{complete}").json["warnings"])
    assert warnings == {"no_caretaker", "no_technical_contact"}
    assert listed("no_caretaker") == {complete, empty}
    assert listed("no_technical_contact") == {complete, only_care, empty}
    assert listed("no_administrative_contact") == {only_care, empty}

    # back to active as caretaker only: no_caretaker goes away, the technical slot stays free
    assert api.patch(f"/accounts/{complete}/contacts/{care['person_id']}", {"status": "active"}).status == 200
    assert listed("no_caretaker") == {empty}
    assert complete in listed("no_technical_contact")

    # removing the only caretaker of an account lists it again
    only_care_member = api.get(f"/accounts/{only_care}/contacts").json["items"][0]["person_id"]
    assert api.delete(f"/accounts/{only_care}/contacts/{only_care_member}").status == 204
    assert listed("no_caretaker") == {only_care, empty}


def test_warning_and_status_filters_combine(api):
    active = onboarded(api, "Active AG")["account_id"]
    draft = create(api, {"name": "Draft"})["account_id"]
    assert ids(walk(api, "/accounts", warning="no_technical_contact")) == {active, draft}
    assert ids(walk(api, "/accounts", warning="no_technical_contact", status="active")) == {active}
    assert ids(walk(api, "/accounts", warning="no_technical_contact", status="draft")) == {draft}
    assert ids(walk(api, "/accounts", warning="no_caretaker", status="active")) == set()


# --- deletion (C5: discard a draft) ------------------------------------------------------------

def test_deleting_a_draft_discards_it_and_its_memberships(api):
    aid = create(api)["account_id"]
    anna = add_contact(api, aid, "anna@x.example", roles=["caretaker", "technical"])
    bob = add_contact(api, aid, "bob@x.example", kind="customer")
    other = create(api, {"name": "Other"})["account_id"]
    add_contact(api, other, "anna@x.example")
    tenant_id = api.get("/tenant").json["tenant_id"]
    assert len([i for i in table_items() if i["pk"]["S"] == f"T#{tenant_id}#A#{aid}"]) == 3

    assert api.delete(f"/accounts/{aid}").status == 204
    assert_error(api.get(f"/accounts/{aid}"), 404)
    assert_error(api.get(f"/accounts/{aid}/contacts"), 404)
    assert not [i for i in table_items() if i["pk"]["S"] == f"T#{tenant_id}#A#{aid}"]
    assert not items_mentioning(aid), "an item still names the deleted account"
    # only its audit trail stays (who deleted it is part of it): see docs/design.md
    assert api.get(f"/accounts/{aid}/audit?limit=1").json["items"][0]["action"] == "account.deleted"
    assert aid not in ids(walk(api, "/accounts", limit=10))
    # the people stay; their access lists no longer show the account
    for person in (anna, bob):
        assert api.get(f"/people/{person['person_id']}").status == 200
    assert [row["account_id"] for row in api.get(f"/people/{anna['person_id']}/access").json["items"]] == [other]
    assert api.get(f"/people/{bob['person_id']}/access").json["items"] == []
    assert_error(api.delete(f"/accounts/{aid}"), 404)


def test_deleting_an_active_account_is_409_until_it_is_deactivated(api):
    aid = onboarded(api)["account_id"]
    assert_error(api.delete(f"/accounts/{aid}"), 409)
    assert api.get(f"/accounts/{aid}").json["member_count"] == 2
    assert api.patch(f"/accounts/{aid}", {"status": "inactive"}).status == 200
    assert api.delete(f"/accounts/{aid}").status == 204
    assert not items_mentioning(aid)


def test_deleting_a_missing_account_is_404(api):
    assert_error(api.delete(f"/accounts/{random_id('account')}"), 404, "not_found")


def test_deleting_a_draft_with_more_members_than_one_transaction_holds(api, monkeypatch):
    """Memberships leave in several transactions; the account goes with the last one."""
    import chalicelib.services.accounts as account_service

    monkeypatch.setattr(account_service, "MEMBERS_A_STEP", 2)  # two memberships a transaction
    aid = create(api)["account_id"]
    people = [add_contact(api, aid, f"p{i}@x.example", roles=["caretaker"])["person_id"] for i in range(5)]
    assert api.delete(f"/accounts/{aid}").status == 204
    assert not items_mentioning(aid)
    assert_error(api.get(f"/accounts/{aid}"), 404)
    for pid in people:
        assert api.get(f"/people/{pid}/access").json["items"] == []
