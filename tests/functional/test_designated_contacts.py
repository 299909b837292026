"""Designated contacts (N3, N4): at most one technical and one administrative contact per account,
each an active member; handovers are atomic, also when several run at once."""
from __future__ import annotations

import pytest

from tests.functional.conftest import add_contact, assert_error, random_id, run_together, table_items

SLOTS = ("technical", "administrative")


def designated_path(aid: str) -> str:
    return f"/accounts/{aid}/designated-contacts"


def holders(api, aid: str, slot: str) -> list[str]:
    """Every member of the account whose roles contain the slot (the invariant: at most one)."""
    items, cursor = [], None
    while True:
        reply = api.get(f"/accounts/{aid}/contacts?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        items += reply.json["items"]
        cursor = reply.json["next_cursor"]
        if not cursor:
            break
    return sorted(m["person_id"] for m in items if slot in m["roles"])


def assert_consistent(api, aid: str) -> dict:
    """The account's slots, its warnings, the members' roles and the warning lists all agree."""
    account = api.get(f"/accounts/{aid}").json
    for slot in SLOTS:
        holder = account["designated_contacts"][slot]
        assert holders(api, aid, slot) == ([holder] if holder else []), (slot, account)
        if holder:
            member = api.get(f"/accounts/{aid}/contacts/{holder}").json
            assert member["status"] == "active", member
        warning = f"no_{slot}_contact"
        assert (warning in account["warnings"]) == (holder is None)
        listed = {a["account_id"] for a in api.get(f"/accounts?warning={warning}&limit=100").json["items"]}
        assert (aid in listed) == (holder is None), (warning, listed)
    assert api.get(designated_path(aid)).json == account["designated_contacts"]
    return account["designated_contacts"]


@pytest.fixture
def team(api, account):
    aid = account["account_id"]
    people = {name: add_contact(api, aid, f"{name}@example.com", roles=["caretaker"])["person_id"]
              for name in ("anna", "bob", "cleo", "dan")}
    return aid, people


def test_an_account_starts_without_designated_contacts(api, account):
    aid = account["account_id"]
    assert api.get(designated_path(aid)).json == {"technical": None, "administrative": None}
    assert {"no_technical_contact", "no_administrative_contact"} <= set(account["warnings"])


def test_adding_a_member_with_the_role_designates_them(api, account):
    aid = account["account_id"]
    anna = add_contact(api, aid, "anna@example.com", roles=["technical", "administrative"])
    assert anna["roles"] == ["administrative", "technical"]
    assert assert_consistent(api, aid) == {"technical": anna["person_id"], "administrative": anna["person_id"]}


def test_a_second_member_cannot_take_a_held_slot_by_role(api, team):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"]}).status == 200
    before = table_items()
    reply = api.post(f"/accounts/{aid}/contacts", {"email": "eve@example.com", "roles": ["technical"]})
    assert_error(reply, 409, fields={"roles"})
    assert table_items() == before
    reply = api.patch(f"/accounts/{aid}/contacts/{people['bob']}", {"roles": ["caretaker", "technical"]})
    assert_error(reply, 409, fields={"roles"})
    assert table_items() == before
    assert_consistent(api, aid)


def test_put_hands_a_slot_over_in_one_step(api, team):
    aid, people = team
    reply = api.put(designated_path(aid), {"technical": people["anna"]})
    assert reply.status == 200, reply.json
    assert reply.json == {"technical": people["anna"], "administrative": None}
    reply = api.put(designated_path(aid), {"technical": people["bob"]})
    assert reply.status == 200, reply.json
    assert reply.json == {"technical": people["bob"], "administrative": None}
    assert assert_consistent(api, aid)["technical"] == people["bob"]
    anna = api.get(f"/accounts/{aid}/contacts/{people['anna']}").json
    assert anna["roles"] == ["caretaker"] and anna["status"] == "active"


def test_put_sets_both_slots_at_once(api, team):
    aid, people = team
    reply = api.put(designated_path(aid), {"technical": people["anna"], "administrative": people["bob"]})
    assert reply.status == 200, reply.json
    assert assert_consistent(api, aid) == {"technical": people["anna"], "administrative": people["bob"]}
    reply = api.put(designated_path(aid), {"technical": people["cleo"], "administrative": people["dan"]})
    assert reply.status == 200, reply.json
    assert assert_consistent(api, aid) == {"technical": people["cleo"], "administrative": people["dan"]}


def test_one_person_may_hold_both_slots(api, team):
    aid, people = team
    reply = api.put(designated_path(aid), {"technical": people["anna"], "administrative": people["anna"]})
    assert reply.status == 200, reply.json
    assert assert_consistent(api, aid) == {"technical": people["anna"], "administrative": people["anna"]}
    # and hand both to another person at once
    reply = api.put(designated_path(aid), {"technical": people["bob"], "administrative": people["bob"]})
    assert reply.status == 200, reply.json
    assert assert_consistent(api, aid) == {"technical": people["bob"], "administrative": people["bob"]}
    assert api.get(f"/accounts/{aid}/contacts/{people['anna']}").json["roles"] == ["caretaker"]


def test_the_two_holders_may_swap_slots(api, team):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"], "administrative": people["bob"]}).status == 200
    reply = api.put(designated_path(aid), {"technical": people["bob"], "administrative": people["anna"]})
    assert reply.status == 200, reply.json
    assert assert_consistent(api, aid) == {"technical": people["bob"], "administrative": people["anna"]}


def test_null_clears_a_slot_and_the_warning_appears(api, team):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"], "administrative": people["bob"]}).status == 200
    assert "no_technical_contact" not in api.get(f"/accounts/{aid}").json["warnings"]
    reply = api.put(designated_path(aid), {"technical": None})
    assert reply.status == 200, reply.json
    assert reply.json == {"technical": None, "administrative": people["bob"]}
    assert assert_consistent(api, aid) == {"technical": None, "administrative": people["bob"]}
    assert "no_technical_contact" in api.get(f"/accounts/{aid}").json["warnings"]
    assert api.get(f"/accounts/{aid}/contacts/{people['anna']}").json["roles"] == ["caretaker"]
    # clearing an empty slot changes nothing
    before = table_items()
    assert api.put(designated_path(aid), {"technical": None}).status == 200
    assert table_items() == before


def test_putting_the_current_holder_again_changes_nothing(api, team):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"]}).status == 200
    before = table_items()
    reply = api.put(designated_path(aid), {"technical": people["anna"]})
    assert reply.status == 200 and reply.json["technical"] == people["anna"]
    assert table_items() == before


def test_handover_to_an_inactive_member_or_a_non_member_is_422_and_changes_nothing(api, team, platform):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"]}).status == 200
    assert api.patch(f"/accounts/{aid}/contacts/{people['bob']}", {"status": "inactive"}).status == 200
    other_account = api.post("/accounts", {"name": "Other"}).json["account_id"]
    outsider = add_contact(api, other_account, "outsider@example.com")["person_id"]
    before = table_items()
    for candidate in (people["bob"], outsider, random_id("person")):
        for body in ({"technical": candidate}, {"administrative": candidate},
                     {"technical": people["cleo"], "administrative": candidate}):
            reply = api.put(designated_path(aid), body)
            assert_error(reply, 422, fields={k for k, v in body.items() if v == candidate})
            assert table_items() == before, body
    assert assert_consistent(api, aid) == {"technical": people["anna"], "administrative": None}


def test_designated_contacts_of_a_missing_account_are_404(api, team):
    _, people = team
    assert_error(api.get(designated_path(random_id("account"))), 404, "not_found")
    assert_error(api.put(designated_path(random_id("account")), {"technical": people["anna"]}), 404, "not_found")


def test_deactivating_or_removing_a_holder_frees_the_slot(api, team):
    aid, people = team
    assert api.put(designated_path(aid), {"technical": people["anna"], "administrative": people["bob"]}).status == 200
    reply = api.patch(f"/accounts/{aid}/contacts/{people['anna']}", {"status": "inactive"})
    assert reply.status == 200, reply.json
    assert "technical" not in reply.json["roles"]
    assert assert_consistent(api, aid) == {"technical": None, "administrative": people["bob"]}
    assert api.delete(f"/accounts/{aid}/contacts/{people['bob']}").status == 204
    assert assert_consistent(api, aid) == {"technical": None, "administrative": None}
    # reactivating does not bring the slot back by itself; a handover does
    assert api.patch(f"/accounts/{aid}/contacts/{people['anna']}", {"status": "active"}).status == 200
    assert assert_consistent(api, aid)["technical"] is None
    assert api.put(designated_path(aid), {"technical": people["anna"]}).status == 200
    assert assert_consistent(api, aid)["technical"] == people["anna"]


def test_dropping_the_role_frees_the_slot_and_adding_it_takes_a_free_slot(api, team):
    aid, people = team
    assert api.patch(f"/accounts/{aid}/contacts/{people['anna']}", {"roles": ["caretaker", "technical"]}).status == 200
    assert assert_consistent(api, aid)["technical"] == people["anna"]
    assert api.patch(f"/accounts/{aid}/contacts/{people['anna']}", {"roles": ["caretaker"]}).status == 200
    assert assert_consistent(api, aid)["technical"] is None


# --- concurrency ---------------------------------------------------------------------------------

def _only_expected_failures(outcomes) -> None:
    """A thread may lose (409 after its retries, or 422 when its member was deactivated first),
    never crash."""
    from chalicelib.domain.errors import Conflict, RuleViolation

    for outcome in outcomes:
        assert outcome is not None
        if outcome[0] == "error":
            assert isinstance(outcome[1], (Conflict, RuleViolation)), repr(outcome[1])


def test_concurrent_handovers_never_leave_two_holders_or_none(api, account, atomic_moto, monkeypatch):
    from chalicelib import bootstrap

    aid = account["account_id"]
    tenant_id = api.get("/tenant").json["tenant_id"]
    members = [add_contact(api, aid, f"m{i}@example.com", roles=["caretaker"])["person_id"] for i in range(8)]
    assert api.put(designated_path(aid), {"technical": members[0], "administrative": members[1]}).status == 200
    service = bootstrap.get_contact_service()
    wanted = [{"technical": members[i], "administrative": members[(i + 3) % 8]} for i in range(8)]
    outcomes = run_together([lambda w=w: service.set_designated(tenant_id, aid, dict(w)) for w in wanted],
                            monkeypatch, first_read=(bootstrap.get_repositories().accounts, "get"))
    _only_expected_failures(outcomes)
    won = [wanted[i] for i, outcome in enumerate(outcomes) if outcome[0] == "ok"]
    assert won, outcomes
    final = assert_consistent(api, aid)
    assert final in won, (final, won)  # one handover's pair, never a mix of two
    for slot in SLOTS:
        assert holders(api, aid, slot) == [final[slot]]
        for other in members:
            if other != final[slot]:
                assert slot not in api.get(f"/accounts/{aid}/contacts/{other}").json["roles"]


def test_concurrent_handovers_and_deactivations_keep_the_holder_an_active_member(
        api, account, atomic_moto, monkeypatch):
    from chalicelib import bootstrap

    aid = account["account_id"]
    tenant_id = api.get("/tenant").json["tenant_id"]
    members = [add_contact(api, aid, f"m{i}@example.com", roles=["caretaker"])["person_id"] for i in range(4)]
    assert api.put(designated_path(aid), {"technical": members[0]}).status == 200
    contacts = bootstrap.get_contact_service()
    actions = []
    for person in members[1:]:
        actions.append(lambda p=person: contacts.set_designated(tenant_id, aid, {"technical": p}))
        actions.append(lambda p=person: contacts.update(tenant_id, aid, p, {"status": "inactive"}, None))
    actions.append(lambda: contacts.update(tenant_id, aid, members[0], {"status": "inactive"}, None))
    outcomes = run_together(actions, monkeypatch)
    _only_expected_failures(outcomes)
    final = assert_consistent(api, aid)
    inactive = [p for p in members if api.get(f"/accounts/{aid}/contacts/{p}").json["status"] == "inactive"]
    assert final["technical"] not in inactive
    for person in inactive:
        assert "technical" not in api.get(f"/accounts/{aid}/contacts/{person}").json["roles"]
    account_now = api.get(f"/accounts/{aid}").json
    caretakers = [p for p in members if p not in inactive]
    assert ("no_caretaker" in account_now["warnings"]) == (not caretakers)
