"""Who a notice reaches (issue 4 §3): roles, notification types, membership and account statuses,
designated contacts whatever their selections, undeliverable people, one recipient per person
across accounts, coverage with the unreached accounts, languages. Reads only: no Scan."""
import pytest

from chalicelib import bootstrap
from tests.functional.conftest import add_contact
from tests.functional.notice_helpers import World


@pytest.fixture
def world(aws):
    return World()


def compute(world, notice_type="outage", affected=None):
    from chalicelib.services.audience import Audience

    return Audience(bootstrap.get_repositories()).compute(world.tenant_id, notice_type, affected or {"all": True})


def ids(members):
    return [m.person_id for m in members]


def test_a_member_receives_the_types_they_selected_only(world):
    account = world.account()
    outage_only = world.contact(account, notifications=["outage"])
    everything = world.contact(account)
    nothing = world.contact(account, notifications=[])

    assert ids(compute(world, "outage")[0]) == sorted([outage_only, everything])
    assert ids(compute(world, "maintenance")[0]) == [everything]
    assert nothing not in ids(compute(world, "general")[0])


@pytest.mark.parametrize("notice_type, technical, administrative", [
    ("outage", True, False), ("maintenance", True, True), ("security", True, False), ("general", False, True)])
def test_designated_contacts_receive_their_types_whatever_they_selected(world, notice_type, technical, administrative):
    tech, admin = world.person(), world.person()
    account = world.account(technical=tech, administrative=admin)
    world.member(account, tech, notifications=[], roles=["technical"])
    world.member(account, admin, notifications=[], roles=["administrative"])

    reached = set(ids(compute(world, notice_type)[0]))
    assert (tech in reached, admin in reached) == (technical, administrative)


def test_a_designated_contact_whose_membership_is_not_active_receives_nothing(world):
    tech = world.person()
    account = world.account(technical=tech)
    world.member(account, tech, notifications=["outage"], status="inactive")

    members, coverage = compute(world, "outage")
    assert members == [] and coverage.unreached_account_ids == (account,)


@pytest.mark.parametrize("status", ["pending", "invited", "declined", "inactive"])
def test_only_active_memberships_receive(world, status):
    account = world.account()
    world.contact(account, status=status)
    active = world.contact(account)

    assert ids(compute(world, "outage")[0]) == [active]
    assert ids(compute(world, "outage", {"account_ids": [account]})[0]) == [active]


def test_undeliverable_people_are_left_out(world):
    account = world.account()
    bounced = world.person(undeliverable="bounced")
    world.member(account, bounced)
    complained = world.person(undeliverable="complained")
    world.member(account, complained)

    members, coverage = compute(world, "outage")
    assert members == [] and coverage.recipients == 0 and coverage.unreached_account_ids == (account,)


def test_only_active_accounts_are_affected_by_a_notice_to_all(world):
    active = world.account()
    reached = world.contact(active)
    for status in ("draft", "inactive"):
        world.contact(world.account(status=status))

    members, coverage = compute(world, "outage")
    assert ids(members) == [reached]
    assert coverage.affected_accounts == 1 and coverage.unreached_account_ids == ()


def test_one_recipient_for_a_person_in_40_affected_accounts(world):
    anna = world.person(first_name="Anna", last_name="Muster")
    accounts = [world.account() for _ in range(40)]
    for account in accounts:
        world.member(account, anna, notifications=["maintenance"])

    for affected in ({"all": True}, {"account_ids": accounts}):
        members, coverage = compute(world, "maintenance", affected)
        [member] = members
        assert member.person_id == anna and member.name == "Anna Muster"
        assert member.account_ids == tuple(sorted(accounts))
        assert (coverage.affected_accounts, coverage.recipients, coverage.unreached_account_ids) == (40, 1, ())


def test_coverage_lists_the_affected_accounts_that_reach_nobody(world):
    reached = world.account()
    world.contact(reached, notifications=["outage"])
    no_one_selected = world.account()
    world.contact(no_one_selected, notifications=["billing"])
    empty = world.account()
    inactive = world.account(status="inactive")
    world.contact(inactive)
    missing = "acc_doesnotexist"

    members, coverage = compute(world, "outage", {"account_ids": [reached, no_one_selected, empty, inactive, missing,
                                                                  reached]})
    assert len(members) == 1
    assert coverage.affected_accounts == 5
    assert coverage.unreached_account_ids == tuple(sorted([no_one_selected, empty, inactive, missing]))
    assert coverage.as_dict() == {"affected_accounts": 5, "recipients": 1, "unreached_accounts": 4,
                                  "by_language": {"de": 1}}

    _, everything = compute(world, "outage")
    assert everything.affected_accounts == 3  # a notice to all: the active accounts
    assert set(everything.unreached_account_ids) == {no_one_selected, empty}


def test_language_person_then_account_then_tenant_then_english(aws):
    world = World(default_language="fr")
    french_account = world.account(language="it")
    plain_account = world.account()
    own = world.contact(french_account, language="en")
    from_account = world.contact(french_account)
    from_tenant = world.contact(plain_account)
    unsupported = World(default_language="rm")  # Romansh: no mail templates
    fallback = unsupported.contact(unsupported.account())

    languages = {m.person_id: m.language for m in compute(world, "outage")[0]}
    assert languages == {own: "en", from_account: "it", from_tenant: "fr"}
    assert compute(world, "outage")[1].by_language == {"en": 1, "fr": 1, "it": 1}
    assert [m.language for m in compute(unsupported, "outage")[0]] == ["en"]
    assert ids(compute(unsupported, "outage")[0]) == [fallback]


def test_recipients_come_sorted_by_person_and_only_from_this_tenant(world):
    account = world.account()
    people = [world.contact(account) for _ in range(7)]
    other = World()
    other.contact(other.account())

    assert ids(compute(world, "outage")[0]) == sorted(people)


def test_the_audience_is_read_with_queries_and_batch_gets_only(world):
    from bench.meter import Meter

    accounts = [world.account() for _ in range(3)]
    for account in accounts:
        world.contact(account)
    meter = Meter()
    with meter.installed(), meter.invocation("audience") as invocation:
        bootstrap.reset()
        for affected in ({"all": True}, {"account_ids": accounts}):
            compute(world, "outage", affected)
    operations = {call.operation for call in invocation.calls if call.service == "DynamoDB"}
    assert operations <= {"Query", "BatchGetItem", "GetItem"} and "Query" in operations


def test_contacts_added_through_the_api_are_found(api, account):
    """Memberships written by the contacts API carry the tenant members index (list_pk)."""
    tenant_id = api.get("/tenant").json["tenant_id"]
    aid = account["account_id"]
    anna = add_contact(api, aid, "anna@example.com", roles=["admin", "caretaker"], notifications=["outage"])
    ben = add_contact(api, aid, "ben@example.com", roles=["on_site_admin"], notifications=[])
    assert api.post(f"/accounts/{aid}/onboarding/complete").status == 200
    assert api.put(f"/accounts/{aid}/designated-contacts", {"technical": ben["person_id"]}).status == 200

    from chalicelib.services.audience import Audience

    members, coverage = Audience(bootstrap.get_repositories()).compute(tenant_id, "security", {"all": True})
    assert ids(members) == [ben["person_id"]]  # designated technical contact, no selections
    members, _ = Audience(bootstrap.get_repositories()).compute(tenant_id, "outage", {"all": True})
    assert ids(members) == sorted([anna["person_id"], ben["person_id"]])
    assert {m.email for m in members} == {"anna@example.com", "ben@example.com"}
