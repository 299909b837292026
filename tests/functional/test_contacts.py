"""People in an account (G1, G2, G4, G5, G8, C2, C3, N2): add, reuse, change, list, remove."""
from urllib.parse import quote

import pytest

from tests.functional.conftest import (
    add_contact, assert_error, dynamodb_operations, items_mentioning, random_id, run_together, table_items, walk,
)


def contacts_path(aid: str) -> str:
    return f"/accounts/{aid}/contacts"


def person_ids(items) -> list[str]:
    return [item["person_id"] for item in items]


# --- add --------------------------------------------------------------------------------------

def test_adding_a_contact_creates_the_person(api, account):
    aid = account["account_id"]
    reply = api.post(contacts_path(aid), {
        "email": "  Anna.Muster@Example.COM ", "first_name": "Anna", "last_name": "Muster", "phone": "+41441234567",
        "language": "de", "roles": ["caretaker", "admin", "caretaker"], "permissions": ["billing", "support"],
        "notifications": ["outage", "maintenance"]})
    assert reply.status == 201, reply.json
    contact = reply.json
    assert contact["person_created"] is True
    assert contact["account_id"] == aid
    assert contact["kind"] == "contact" and contact["status"] == "active"
    assert contact["roles"] == ["admin", "caretaker"]
    assert contact["permissions"] == ["billing", "support"]
    assert contact["notifications"] == ["maintenance", "outage"]  # sorted, as every read shows them
    assert contact["version"] == 1
    person = contact["person"]
    assert person["person_id"] == contact["person_id"] and person["person_id"].startswith("per_")
    assert person["email"] == "anna.muster@example.com"  # trimmed, lower-cased
    assert (person["first_name"], person["last_name"], person["phone"], person["language"]) == (
        "Anna", "Muster", "+41441234567", "de")
    fetched = api.get(f"{contacts_path(aid)}/{contact['person_id']}")
    assert fetched.status == 200
    assert fetched.json == {k: v for k, v in contact.items() if k not in ("person_created", "welcome_mail_job_id")}
    assert contact["welcome_mail_job_id"] is None  # the tenant has not turned welcome mail on
    account_now = api.get(f"/accounts/{aid}").json
    assert account_now["member_count"] == 1
    assert "no_caretaker" not in account_now["warnings"]


def test_the_same_email_in_another_account_reuses_the_person(api, account):
    first = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna")
    other = api.post("/accounts", {"name": "Other AG"}).json["account_id"]
    second = add_contact(api, other, " ANNA@example.COM ", roles=["technical"], kind="customer")
    assert second["person_created"] is False
    assert second["person_id"] == first["person_id"]
    assert second["person"]["first_name"] == "Anna"
    assert second["kind"] == "customer" and second["roles"] == ["technical"]
    # one person, two memberships, one e-mail claim
    assert len(api.get("/people").json["items"]) == 1
    access = api.get(f"/people/{first['person_id']}/access").json["items"]
    assert sorted(row["account_id"] for row in access) == sorted([account["account_id"], other])
    email_items = [i for i in table_items() if "anna@example.com" in i["pk"]["S"]]
    assert len(email_items) == 1


def test_adding_an_existing_member_again_is_409(api, account):
    aid = account["account_id"]
    add_contact(api, aid, "anna@example.com", roles=["caretaker"])
    before = table_items()
    for email in ("anna@example.com", "ANNA@EXAMPLE.COM", " anna@example.com"):
        reply = api.post(contacts_path(aid), {"email": email, "roles": ["on_site_admin"]})
        assert_error(reply, 409, "already_member", fields={"email"})
    assert table_items() == before
    assert api.get(f"/accounts/{aid}").json["member_count"] == 1


def test_an_account_has_at_most_one_customer(api, account):
    aid = account["account_id"]
    owner = add_contact(api, aid, "owner@example.com", kind="customer")
    assert api.get(f"/accounts/{aid}").json["customer_person_id"] == owner["person_id"]
    before = table_items()
    reply = api.post(contacts_path(aid), {"email": "second@example.com", "kind": "customer"})
    assert_error(reply, 409, "customer_exists", fields={"kind"})
    assert table_items() == before, "a refused customer left a person or claim behind"
    # a contact is fine, and once the customer leaves, a new one may come
    add_contact(api, aid, "second@example.com")
    assert api.delete(f"{contacts_path(aid)}/{owner['person_id']}").status == 204
    assert api.get(f"/accounts/{aid}").json["customer_person_id"] is None
    third = add_contact(api, aid, "third@example.com", kind="customer")
    assert api.get(f"/accounts/{aid}").json["customer_person_id"] == third["person_id"]


def test_adding_to_a_missing_account_is_404_and_leaves_nothing(api):
    before = table_items()
    reply = api.post(contacts_path(random_id("account")), {"email": "ghost@example.com", "kind": "customer"})
    assert_error(reply, 404, "not_found")
    assert table_items() == before
    assert not items_mentioning("ghost@example.com")


# --- read and list (G8) ---------------------------------------------------------------------------

@pytest.fixture
def crowd(api, account):
    """Five members: kinds, roles and statuses to filter on."""
    aid = account["account_id"]
    made = {
        "owner": add_contact(api, aid, "owner@example.com", kind="customer", roles=["admin"]),
        "care": add_contact(api, aid, "care@example.com", roles=["caretaker", "technical"]),
        "site": add_contact(api, aid, "site@example.com", roles=["on_site_admin", "caretaker"]),
        "gone": add_contact(api, aid, "gone@example.com", roles=["caretaker"]),
        "plain": add_contact(api, aid, "plain@example.com"),
    }
    assert api.patch(f"{contacts_path(aid)}/{made['gone']['person_id']}", {"status": "inactive"}).status == 200
    return aid, {name: contact["person_id"] for name, contact in made.items()}


def test_the_contacts_list_shows_every_member_with_kind_and_status(api, crowd):
    aid, people = crowd
    reply = api.get(contacts_path(aid))
    assert reply.status == 200
    items = reply.json["items"]
    assert sorted(person_ids(items)) == sorted(people.values())
    for item in items:
        assert set(item) >= {"account_id", "person_id", "kind", "status", "roles", "permissions", "notifications",
                             "created_at", "version"}
        assert item["account_id"] == aid
    by_id = {item["person_id"]: item for item in items}
    assert by_id[people["owner"]]["kind"] == "customer"
    assert by_id[people["gone"]]["status"] == "inactive"


@pytest.mark.parametrize("query,expected", [
    ("status=active", {"owner", "care", "site", "plain"}),
    ("status=inactive", {"gone"}),
    ("status=pending", set()),
    ("role=caretaker", {"care", "site", "gone"}),
    ("role=admin", {"owner"}),
    ("role=technical", {"care"}),
    ("role=other_support", set()),
    ("kind=customer", {"owner"}),
    ("kind=contact", {"care", "site", "gone", "plain"}),
    ("kind=guest", set()),
    ("role=caretaker&status=active", {"care", "site"}),
    ("kind=contact&role=on_site_admin&status=active", {"site"}),
])
def test_contacts_list_filters(api, crowd, query, expected):
    aid, people = crowd
    names = {pid: name for name, pid in people.items()}
    params = dict(part.split("=") for part in query.split("&"))
    for limit in (100, 1):  # one page, and a cursor walk through the filtered list
        got = [names[pid] for pid in person_ids(walk(api, contacts_path(aid), limit=limit, **params))]
        assert sorted(got) == sorted(expected), (query, limit)


def test_contacts_paginate_one_by_one_each_exactly_once(api, crowd):
    aid, people = crowd
    seen = person_ids(walk(api, contacts_path(aid), limit=1))
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == set(people.values())
    pages = api.get(f"{contacts_path(aid)}?limit=2").json
    assert len(pages["items"]) == 2 and pages["next_cursor"]


def test_a_tampered_or_other_account_cursor_is_400(api, crowd):
    aid, _ = crowd
    cursor = api.get(f"{contacts_path(aid)}?limit=1").json["next_cursor"]
    assert cursor
    for bad in (cursor[:-4], cursor + "AAAA", cursor.swapcase(), "garbage"):
        assert_error(api.get(f"{contacts_path(aid)}?limit=1&cursor={quote(bad)}"), 400, fields={"cursor"})
    other = api.post("/accounts", {"name": "Other"}).json["account_id"]
    add_contact(api, other, "x@example.com")
    add_contact(api, other, "y@example.com")
    assert_error(api.get(f"{contacts_path(other)}?limit=1&cursor={cursor}"), 400, fields={"cursor"})
    other_cursor = api.get(f"{contacts_path(other)}?limit=1").json["next_cursor"]
    assert_error(api.get(f"{contacts_path(aid)}?limit=1&cursor={other_cursor}"), 400, fields={"cursor"})
    # the accounts list's cursor is not a contacts cursor either
    api.post("/accounts", {"name": "Third"})
    accounts_cursor = api.get("/accounts?limit=1").json["next_cursor"]
    assert_error(api.get(f"{contacts_path(aid)}?limit=1&cursor={accounts_cursor}"), 400, fields={"cursor"})


def test_contacts_of_a_missing_account_are_404(api):
    assert_error(api.get(contacts_path(random_id("account"))), 404, "not_found")
    assert_error(api.get(contacts_path(random_id("account")) + "?role=caretaker"), 404, "not_found")


def test_an_account_without_members_lists_none(api, account):
    assert api.get(contacts_path(account["account_id"])).json == {"items": [], "next_cursor": None}


def test_reading_a_non_member_is_404(api, crowd):
    aid, _ = crowd
    stranger = add_contact(api, api.post("/accounts", {"name": "Else"}).json["account_id"], "else@example.com")
    assert_error(api.get(f"{contacts_path(aid)}/{stranger['person_id']}"), 404, "not_found")
    assert_error(api.get(f"{contacts_path(aid)}/{random_id('person')}"), 404, "not_found")


# --- change (G4, G5, N2) ------------------------------------------------------------------------------

def test_patch_changes_roles_permissions_and_notifications(api, crowd):
    aid, people = crowd
    path = f"{contacts_path(aid)}/{people['plain']}"
    reply = api.patch(path, {"roles": ["admin", "other_support"], "permissions": ["security"],
                             "notifications": ["outage", "security", "billing"]})
    assert reply.status == 200, reply.json
    assert reply.json["roles"] == ["admin", "other_support"]
    assert reply.json["permissions"] == ["security"]
    assert reply.json["notifications"] == ["billing", "outage", "security"]
    assert reply.json["version"] == 2
    fetched = api.get(path).json
    assert {k: fetched[k] for k in ("roles", "permissions", "version")} == {
        "roles": ["admin", "other_support"], "permissions": ["security"], "version": 2}
    cleared = api.patch(path, {"roles": [], "permissions": [], "notifications": []})
    assert cleared.status == 200
    assert (cleared.json["roles"], cleared.json["permissions"], cleared.json["notifications"]) == ([], [], [])


def test_an_inactive_member_keeps_the_record_and_can_come_back(api, crowd):
    aid, people = crowd
    path = f"{contacts_path(aid)}/{people['site']}"
    off = api.patch(path, {"status": "inactive"})
    assert off.status == 200 and off.json["status"] == "inactive"
    fetched = api.get(path).json
    assert fetched["status"] == "inactive" and fetched["person"]["email"] == "site@example.com"
    assert fetched["roles"] == ["caretaker", "on_site_admin"]
    account_now = api.get(f"/accounts/{aid}").json
    assert account_now["member_count"] == 5
    assert "no_on_site_admin" in account_now["warnings"]
    on = api.patch(path, {"status": "active"})
    assert on.status == 200 and on.json["status"] == "active"
    assert "no_on_site_admin" not in api.get(f"/accounts/{aid}").json["warnings"]


@pytest.mark.parametrize("how", ["body", "if-match"])
def test_a_stale_contact_change_is_409(api, crowd, how):
    aid, people = crowd
    path = f"{contacts_path(aid)}/{people['plain']}"
    assert api.patch(path, {"permissions": ["billing"]}).status == 200
    if how == "body":
        reply = api.patch(path, {"permissions": ["support"], "version": 1})
    else:
        reply = api.patch(path, {"permissions": ["support"]}, headers={"if-match": "1"})
    assert_error(reply, 409, "version_conflict")
    assert api.get(path).json["permissions"] == ["billing"]
    assert api.patch(path, {"permissions": ["support"], "version": 2}).status == 200


def test_changing_a_non_member_is_404(api, crowd):
    aid, _ = crowd
    assert_error(api.patch(f"{contacts_path(aid)}/{random_id('person')}", {"roles": []}), 404, "not_found")
    assert_error(api.patch(f"{contacts_path(random_id('account'))}/{random_id('person')}", {"roles": []}), 404)


# --- remove ---------------------------------------------------------------------------------------

def test_removing_a_member_keeps_the_person(api, crowd):
    aid, people = crowd
    path = f"{contacts_path(aid)}/{people['care']}"
    assert api.delete(path).status == 204
    assert_error(api.get(path), 404)
    assert people["care"] not in person_ids(api.get(contacts_path(aid)).json["items"])
    assert api.get(f"/people/{people['care']}").status == 200
    account_now = api.get(f"/accounts/{aid}").json
    assert account_now["member_count"] == 4
    assert account_now["designated_contacts"]["technical"] is None
    assert_error(api.delete(path), 404, "not_found")
    # and can be added again
    again = add_contact(api, aid, "care@example.com")
    assert again["person_id"] == people["care"] and again["person_created"] is False


def test_removing_the_customer_frees_the_main_profile(api, crowd):
    aid, people = crowd
    assert api.delete(f"{contacts_path(aid)}/{people['owner']}").status == 204
    assert api.get(f"/accounts/{aid}").json["customer_person_id"] is None


def test_the_same_new_email_added_to_several_accounts_at_once_makes_one_person(api, atomic_moto, monkeypatch):
    """Each thread finds no person for the e-mail before any of them writes; the e-mail claim
    lets exactly one create the person, the others retry and reuse it."""
    from chalicelib import bootstrap

    tenant_id = api.get("/tenant").json["tenant_id"]
    accounts = [api.post("/accounts", {"name": f"Account {i}"}).json["account_id"] for i in range(6)]
    service = bootstrap.get_contact_service()
    outcomes = run_together(
        [lambda aid=aid: service.add(tenant_id, aid, {"email": "Same.Person@example.com", "roles": ["caretaker"]})
         for aid in accounts],
        monkeypatch, first_read=(bootstrap.get_repositories().people, "claimant_and_tenant"))
    assert all(outcome[0] == "ok" for outcome in outcomes), outcomes
    details = [outcome[1] for outcome in outcomes]
    assert len({d.person.person_id for d in details}) == 1
    assert sum(d.person_created for d in details) == 1
    people = api.get("/people").json["items"]
    assert len(people) == 1 and people[0]["email"] == "same.person@example.com"
    access = api.get(f"/people/{people[0]['person_id']}/access").json["items"]
    assert sorted(row["account_id"] for row in access) == sorted(accounts)
    assert len([i for i in table_items() if "same.person@example.com" in i["pk"]["S"]]) == 1


def test_adding_a_contact_reads_the_emails_claim_with_the_tenant_in_one_request(api):
    """The key, the request limit's counter, one BatchGetItem (the e-mail's claim and the tenant,
    for its welcome-mail setting), the transaction; a person already in the tenant is read too."""
    first, second = (api.post("/accounts", {"name": name}).json["account_id"] for name in ("One", "Two"))
    with dynamodb_operations() as operations:
        assert api.post(contacts_path(first), {"email": "new@example.com"}).status == 201
    assert operations == ["GetItem", "UpdateItem", "BatchGetItem", "TransactWriteItems"]
    with dynamodb_operations() as operations:
        reply = api.post(contacts_path(second), {"email": "new@example.com"})
    assert reply.status == 201 and reply.json["person_created"] is False
    assert operations == ["GetItem", "UpdateItem", "BatchGetItem", "GetItem", "TransactWriteItems"]
