"""People of a tenant: lookup, changes, the access list (G7), and erasure."""
from urllib.parse import quote

import pytest

from tests.functional.conftest import (
    add_contact, assert_error, dynamodb_hook, dynamodb_operations, hide_from_by_person, items_mentioning, random_id,
    table_items, walk,
)


def new_account(api, name: str) -> str:
    reply = api.post("/accounts", {"name": name})
    assert reply.status == 201, reply.json
    return reply.json["account_id"]


# --- lookup and list -------------------------------------------------------------------------

def test_a_person_is_found_by_email_trimmed_and_case_insensitive(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna")
    for email in ("anna@example.com", "ANNA@Example.com", " anna@example.com "):
        reply = api.get(f"/people?email={quote(email)}")
        assert reply.status == 200, reply.json
        assert person_ids(reply.json["items"]) == [anna["person_id"]]
        assert reply.json["next_cursor"] is None
    assert api.get("/people?email=nobody@example.com").json == {"items": [], "next_cursor": None}


def person_ids(items) -> list[str]:
    return [item["person_id"] for item in items]


def test_get_person_shows_the_details(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna", last_name="Muster",
                       phone="+41791234567", language="it")
    reply = api.get(f"/people/{anna['person_id']}")
    assert reply.status == 200
    assert reply.json == anna["person"]
    assert set(reply.json) == {"person_id", "email", "first_name", "last_name", "phone", "language", "undeliverable", "created_at",
                               "updated_at", "version"}
    assert_error(api.get(f"/people/{random_id('person')}"), 404, "not_found")


def test_people_list_walks_everyone_once(api, account):
    made = [add_contact(api, account["account_id"], f"p{i}@example.com")["person_id"] for i in range(4)]
    assert person_ids(walk(api, "/people", limit=1)) == made
    assert person_ids(api.get("/people").json["items"]) == made


# --- changes ---------------------------------------------------------------------------------------

def test_patch_person_changes_and_clears_details(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna", phone="+41791234567")
    path = f"/people/{anna['person_id']}"
    reply = api.patch(path, {"first_name": " Anne ", "last_name": "Muster", "language": "fr"})
    assert reply.status == 200, reply.json
    assert (reply.json["first_name"], reply.json["last_name"], reply.json["language"]) == ("Anne", "Muster", "fr")
    assert reply.json["version"] == 2
    cleared = api.patch(path, {"phone": None, "language": None})
    assert cleared.status == 200
    assert cleared.json["phone"] is None and cleared.json["language"] is None
    assert api.get(path).json == cleared.json


@pytest.mark.parametrize("how", ["body", "if-match"])
def test_a_stale_person_change_is_409(api, account, how):
    anna = add_contact(api, account["account_id"], "anna@example.com")
    path = f"/people/{anna['person_id']}"
    assert api.patch(path, {"first_name": "First"}).status == 200
    if how == "body":
        reply = api.patch(path, {"first_name": "Lost", "version": 1})
    else:
        reply = api.patch(path, {"first_name": "Lost"}, headers={"if-match": "1"})
    assert_error(reply, 409, "version_conflict")
    assert api.get(path).json["first_name"] == "First"
    # the same holds for an e-mail change
    stale_email = api.patch(path, {"email": "new@example.com", "version": 1})
    assert_error(stale_email, 409, "version_conflict")
    assert api.get(path).json["email"] == "anna@example.com"


def test_changing_the_email_moves_the_uniqueness_claim(api, account):
    aid = account["account_id"]
    anna = add_contact(api, aid, "anna@example.com")
    bob = add_contact(api, aid, "bob@example.com")
    path = f"/people/{anna['person_id']}"
    reply = api.patch(path, {"email": " Anna.New@Example.com "})
    assert reply.status == 200, reply.json
    assert reply.json["email"] == "anna.new@example.com"
    assert reply.json["version"] == 2
    assert person_ids(api.get("/people?email=anna.new@example.com").json["items"]) == [anna["person_id"]]
    assert api.get("/people?email=anna@example.com").json["items"] == []
    # the old address is free: it makes a new person
    other = new_account(api, "Other")
    fresh = add_contact(api, other, "anna@example.com")
    assert fresh["person_created"] is True and fresh["person_id"] != anna["person_id"]
    # taking someone else's address is refused
    before = table_items()
    taken = api.patch(path, {"email": "BOB@example.com"})
    assert_error(taken, 409, "email_taken", fields={"email"})
    assert table_items() == before
    assert api.get(f"/people/{bob['person_id']}").json["email"] == "bob@example.com"


def test_the_same_email_in_another_case_is_no_change_of_address(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com")
    reply = api.patch(f"/people/{anna['person_id']}", {"email": "ANNA@example.com", "first_name": "Anna"})
    assert reply.status == 200, reply.json
    assert reply.json["email"] == "anna@example.com" and reply.json["first_name"] == "Anna"
    assert len([i for i in table_items() if "anna@example.com" in i["pk"]["S"]]) == 1


def test_changing_a_missing_person_is_404(api):
    assert_error(api.patch(f"/people/{random_id('person')}", {"first_name": "x"}), 404, "not_found")
    assert_error(api.patch(f"/people/{random_id('person')}", {"email": "x@example.com"}), 404, "not_found")


# --- the access list (G7) -------------------------------------------------------------------------

def test_the_access_list_shows_every_account_of_the_person(api):
    first = new_account(api, "First AG")
    second = new_account(api, "Second AG")
    third = new_account(api, "Third AG")
    anna = add_contact(api, first, "anna@example.com", kind="customer", roles=["admin"], permissions=["billing"])
    add_contact(api, second, "anna@example.com", roles=["caretaker"])
    assert api.patch(f"/accounts/{second}/contacts/{anna['person_id']}", {"status": "inactive"}).status == 200
    bob = add_contact(api, third, "bob@example.com")
    reply = api.get(f"/people/{anna['person_id']}/access")
    assert reply.status == 200, reply.json
    rows = {row["account_id"]: row for row in reply.json["items"]}
    assert set(rows) == {first, second}
    assert rows[first]["account_name"] == "First AG"
    assert (rows[first]["kind"], rows[first]["status"]) == ("customer", "active")
    assert rows[first]["roles"] == ["admin"] and rows[first]["permissions"] == ["billing"]
    assert rows[first]["account_status"] == "draft"
    assert rows[second]["account_name"] == "Second AG"
    assert (rows[second]["kind"], rows[second]["status"]) == ("contact", "inactive")
    # the name follows the account
    assert api.patch(f"/accounts/{first}", {"name": "First Renamed AG"}).status == 200
    names = {row["account_id"]: row["account_name"] for row in api.get(f"/people/{anna['person_id']}/access").json["items"]}
    assert names[first] == "First Renamed AG"
    assert [row["account_id"] for row in api.get(f"/people/{bob['person_id']}/access").json["items"]] == [third]


def test_the_access_list_paginates(api):
    accounts = [new_account(api, f"Account {i}") for i in range(4)]
    person = None
    for aid in accounts:
        person = add_contact(api, aid, "anna@example.com")["person_id"]
    rows = walk(api, f"/people/{person}/access", limit=1)
    assert sorted(row["account_id"] for row in rows) == sorted(accounts)
    assert len(rows) == 4


def test_access_of_a_person_without_accounts_or_a_missing_person(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com")
    assert api.delete(f"/accounts/{account['account_id']}/contacts/{anna['person_id']}").status == 204
    assert api.get(f"/people/{anna['person_id']}/access").json == {"items": [], "next_cursor": None}
    assert_error(api.get(f"/people/{random_id('person')}/access"), 404, "not_found")


# --- erasure -------------------------------------------------------------------------------------

@pytest.fixture
def erasure_scene(api):
    """Anna is the customer of one account, technical and administrative contact of another,
    and a plain contact of a third; Bob shares two of the accounts."""
    main, support, third = new_account(api, "Main AG"), new_account(api, "Support AG"), new_account(api, "Third AG")
    anna = add_contact(api, main, "anna@example.com", kind="customer", first_name="Anna", last_name="Muster",
                       phone="+41791234567")
    add_contact(api, support, "anna@example.com", roles=["technical", "administrative", "caretaker"])
    add_contact(api, third, "anna@example.com")
    bob = add_contact(api, support, "bob@example.com", roles=["on_site_admin"])
    add_contact(api, main, "bob@example.com")
    return {"main": main, "support": support, "third": third, "anna": anna["person_id"], "bob": bob["person_id"]}


def _assert_erased(api, scene) -> None:
    anna, bob = scene["anna"], scene["bob"]
    assert_error(api.get(f"/people/{anna}"), 404, "not_found")
    assert_error(api.get(f"/people/{anna}/access"), 404, "not_found")
    for key in ("main", "support", "third"):
        aid = scene[key]
        assert_error(api.get(f"/accounts/{aid}/contacts/{anna}"), 404)
        assert anna not in person_ids(api.get(f"/accounts/{aid}/contacts").json["items"])
    support = api.get(f"/accounts/{scene['support']}").json
    assert support["designated_contacts"] == {"technical": None, "administrative": None}
    assert {"no_technical_contact", "no_administrative_contact", "no_caretaker"} <= set(support["warnings"])
    listed = {a["account_id"] for a in api.get("/accounts?warning=no_technical_contact").json["items"]}
    assert scene["support"] in listed
    main = api.get(f"/accounts/{scene['main']}").json
    assert main["customer_person_id"] is None and main["member_count"] == 1
    assert api.get(f"/accounts/{scene['third']}").json["member_count"] == 0
    # Bob is untouched
    assert sorted(row["account_id"] for row in api.get(f"/people/{bob}/access").json["items"]) == sorted(
        [scene["main"], scene["support"]])
    assert api.get(f"/people/{bob}").json["email"] == "bob@example.com"
    # no item names Anna any more: not by id, not by e-mail, not by name or phone
    for trace in (anna, "anna@example.com", "Muster", "+41791234567"):
        assert not items_mentioning(trace), (trace, items_mentioning(trace))
    # the audit trail keeps only her random id, never her e-mail, name or phone
    for trace in ("anna@example.com", "Muster", "+41791234567"):
        assert not items_mentioning(trace, audit=True), trace
    assert anna not in person_ids(api.get("/people").json["items"])


def test_erasure_removes_the_person_everywhere_and_frees_the_slots(api, erasure_scene):
    assert api.delete(f"/people/{erasure_scene['anna']}").status == 204
    _assert_erased(api, erasure_scene)
    assert_error(api.delete(f"/people/{erasure_scene['anna']}"), 404, "not_found")


def test_erasure_reads_the_person_with_their_memberships_in_one_query(api, erasure_scene):
    with dynamodb_operations() as operations:
        assert api.delete(f"/people/{erasure_scene['anna']}").status == 204
    assert operations == ["GetItem", "Query", "TransactWriteItems"]  # the API key's GetItem first
    _assert_erased(api, erasure_scene)


def test_erasure_of_a_person_the_index_does_not_show_yet(api, erasure_scene, monkeypatch):
    """The table decides; a first page without the person item still holds at most a chunk."""
    import chalicelib.services.people as people_service

    hide_from_by_person(api.get("/tenant").json["tenant_id"], erasure_scene["anna"])
    monkeypatch.setattr(people_service, "ERASURE_CHUNK", 1)
    with dynamodb_operations() as operations:
        assert api.delete(f"/people/{erasure_scene['anna']}").status == 204
    assert operations == ["GetItem", "Query", "GetItem", "TransactWriteItems"] + ["Query", "TransactWriteItems"] * 3
    _assert_erased(api, erasure_scene)
    with dynamodb_operations() as operations:
        assert_error(api.delete(f"/people/{erasure_scene['anna']}"), 404, "not_found")
    assert operations == ["GetItem", "Query", "GetItem", "GetItem"]  # index, person, erasure marker: nobody


def test_erasure_after_a_stale_index_read_runs_again_on_a_fresh_read(api, erasure_scene):
    anna = erasure_scene["anna"]
    [before] = [item for item in table_items() if item["pk"]["S"].endswith(anna) and item["sk"]["S"] == "PERSON"]
    assert api.patch(f"/people/{anna}", {"first_name": "Annette"}).status == 200
    stale = []

    def lagging(model=None, parsed=None, **_):  # the index still shows the person before the change
        if model.name == "Query" and not stale:
            stale.append(model.name)
            parsed["Items"] = [before if item["sk"]["S"] == "PERSON" else item for item in parsed["Items"]]

    with dynamodb_operations() as operations, dynamodb_hook("after-call", lagging):
        assert api.delete(f"/people/{anna}").status == 204
    assert stale and operations == ["GetItem", "Query", "TransactWriteItems", "Query", "GetItem", "TransactWriteItems"]
    _assert_erased(api, erasure_scene)


def test_erasure_in_several_steps_leaves_the_same_result(api, erasure_scene, monkeypatch):
    """A person with more memberships than one transaction holds is erased in steps."""
    import chalicelib.services.people as people_service

    monkeypatch.setattr(people_service, "ERASURE_CHUNK", 1)
    assert api.delete(f"/people/{erasure_scene['anna']}").status == 204
    _assert_erased(api, erasure_scene)
    assert not [item for item in table_items() if item["pk"]["S"] == "ERASURE"], "the erasure marker is left"


def test_the_email_of_an_erased_person_can_be_used_again(api, erasure_scene):
    assert api.delete(f"/people/{erasure_scene['anna']}").status == 204
    reply = api.post(f"/accounts/{erasure_scene['support']}/contacts",
                     {"email": "Anna@Example.com", "roles": ["technical"], "kind": "contact"})
    assert reply.status == 201, reply.json
    assert reply.json["person_created"] is True
    assert reply.json["person_id"] != erasure_scene["anna"]
    assert reply.json["person"]["first_name"] is None
    assert api.get(f"/accounts/{erasure_scene['support']}/designated-contacts").json["technical"] == reply.json["person_id"]
    assert person_ids(api.get("/people?email=anna@example.com").json["items"]) == [reply.json["person_id"]]


def test_erasing_a_missing_person_is_404_and_changes_nothing(api, erasure_scene):
    before = table_items()
    assert_error(api.delete(f"/people/{random_id('person')}"), 404, "not_found")
    assert table_items() == before


def test_erasing_a_person_without_memberships(api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com")
    assert api.delete(f"/accounts/{account['account_id']}/contacts/{anna['person_id']}").status == 204
    assert api.delete(f"/people/{anna['person_id']}").status == 204
    assert not items_mentioning(anna["person_id"])
    assert not items_mentioning("anna@example.com")


def test_the_same_email_in_another_tenant_is_another_person(api, other_api, account):
    anna = add_contact(api, account["account_id"], "anna@example.com", first_name="Anna")
    other_account = other_api.post("/accounts", {"name": "Elsewhere"}).json["account_id"]
    theirs = add_contact(other_api, other_account, "anna@example.com", first_name="Anne")
    assert theirs["person_created"] is True and theirs["person_id"] != anna["person_id"]
    assert person_ids(api.get("/people?email=anna@example.com").json["items"]) == [anna["person_id"]]
    assert person_ids(other_api.get("/people?email=anna@example.com").json["items"]) == [theirs["person_id"]]
    # erasing one leaves the other
    assert other_api.delete(f"/people/{theirs['person_id']}").status == 204
    assert api.get(f"/people/{anna['person_id']}").json["first_name"] == "Anna"
