from tests.functional.conftest import add_contact


def test_tenant_account_contacts_onboarding_flow(api, account):
    aid = account["account_id"]
    assert account["status"] == "draft"
    assert set(account["warnings"]) == {"no_technical_contact", "no_administrative_contact", "no_caretaker", "no_on_site_admin"}
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert reply.status == 422
    assert reply.fields() == {"contacts"}
    anna = add_contact(api, aid, "Anna@Example.com", first_name="Anna", roles=["caretaker"])
    bob = add_contact(api, aid, "bob@example.com", roles=["on_site_admin", "technical"])
    assert anna["person"]["email"] == "anna@example.com"
    reply = api.post(f"/accounts/{aid}/onboarding/complete")
    assert reply.status == 200, reply.json
    assert reply.json["status"] == "active"
    assert reply.json["warnings"] == ["no_administrative_contact"]
    assert api.get(f"/accounts/{aid}/designated-contacts").json == {"technical": bob["person_id"], "administrative": None}
