from chalicelib.domain.entities import Account, Address
from chalicelib.domain.rules import account_warnings, membership_effects, normalise_email, onboarding_gaps


def _account(**overrides):
    values = dict(tenant_id="t", account_id="a", name="Muster AG", address=Address("S 1", "8001", "Zürich", "CH"),
                  business_type="retail", language="de", email_domains=[], status="draft", created_at="x",
                  updated_at="x", version=1, customer_person_id=None, technical_contact_id=None,
                  administrative_contact_id=None, caretaker_count=0, on_site_admin_count=0, member_count=0)
    values.update(overrides)
    return Account(**values)


def test_warnings_follow_counters_and_slots():
    assert account_warnings(_account()) == ["no_technical_contact", "no_administrative_contact", "no_caretaker", "no_on_site_admin"]
    full = _account(technical_contact_id="p1", administrative_contact_id="p2", caretaker_count=1, on_site_admin_count=2)
    assert account_warnings(full) == []


def test_onboarding_gaps_name_each_missing_part():
    gaps = onboarding_gaps(_account(name=None, address=Address(city="Bern"), caretaker_count=1))
    assert [(g.field, g.problem) for g in gaps] == [
        ("name", "is required"), ("address.street", "is required"), ("address.postal_code", "is required"),
        ("address.country", "is required"), ("contacts", "needs at least one active on-site admin"),
    ]


def test_new_active_caretaker_counts_and_claims_slots():
    effects = membership_effects(None, ("customer", {"caretaker", "technical"}, True))
    assert effects == {"counters": {"caretaker_count": 1, "member_count": 1}, "claim": ["technical", "customer"], "release": []}


def test_deactivation_releases_and_uncounts_but_keeps_membership():
    before = ("contact", {"caretaker", "on_site_admin", "administrative"}, True)
    after = ("contact", {"caretaker", "on_site_admin"}, False)
    assert membership_effects(before, after) == {
        "counters": {"caretaker_count": -1, "on_site_admin_count": -1}, "claim": [], "release": ["administrative"]}


def test_inactive_membership_counts_nothing():
    assert membership_effects(None, ("contact", {"caretaker"}, False)) == {"counters": {"member_count": 1}, "claim": [], "release": []}


def test_removal_releases_customer():
    assert membership_effects(("customer", set(), True), None)["release"] == ["customer"]


def test_email_normalisation():
    assert normalise_email("  Anna.Muster@Example.COM ") == "anna.muster@example.com"


def test_email_normalisation_gives_an_idn_domain_in_ascii():
    assert normalise_email(" Anna@Müller.Example ") == "anna@xn--mller-kva.example"
    assert normalise_email("anna@xn--mller-kva.example") == "anna@xn--mller-kva.example"
    # a token's claim that is no address is left as it is (lower-cased): it finds nobody
    assert normalise_email("anna@" + "ü" * 70 + ".example") == "anna@" + "ü" * 70 + ".example"
