"""Sender identities across tenants (T3): SES verifies an identity for the whole AWS account, so
Roster records which tenant started its verification. Only that tenant may set the address, and
only its mail goes out from it; every other tenant's mail falls back to the platform's sender."""
import pytest

from chalicelib import bootstrap
from chalicelib.models import keys
from chalicelib.models.entities import TenantItem
from tests.functional.conftest import (
    add_contact, assert_error, dynamodb_hook, dynamodb_operations, new_tenant, table_items,
)
from tests.functional.mail_helpers import drain, sent_mails
from tests.functional.notice_helpers import World, batch_messages, delivery_service

MAIL = "roster-mail"
PLATFORM_SENDER = "no-reply@mail.roster.test"


@pytest.fixture(autouse=True)
def realistic_ses_feedback():
    from infra.local_stack import ses_feedback

    ses_feedback.install()


def welcoming(api, brand: str):
    reply = api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"},
                                  "branding": {"brand_name": brand}})
    assert reply.status == 200, reply.json
    return api


def verified_sender(api, address: str) -> dict:
    assert api.patch("/tenant", {"sender": {"address": address}}).status == 200
    started = api.post("/tenant/sender/verify")
    assert started.status == 202, started.json
    status = api.get("/tenant/sender")
    assert status.status == 200 and status.json["verified"] is True, status.json
    return status.json


def sender_taken(reply) -> None:
    assert_error(reply, 409, "sender_taken", fields={"sender.address"})


def welcome_mail_source(api, chalice_client, account_name: str, email: str) -> str:
    account = api.post("/accounts", {"name": account_name})
    assert account.status == 201, account.json
    add_contact(api, account.json["account_id"], email)
    before = len(sent_mails())
    assert drain(chalice_client, "send_mail", MAIL) == 1
    [mail] = sent_mails()[before:]
    return mail.source


def test_an_address_another_tenant_verified_cannot_be_set(platform):
    alpine, other = new_tenant(platform, "Alpine"), new_tenant(platform, "Other")
    status = verified_sender(alpine, "x@a.example")

    before = other.get("/tenant").json
    for address in ("x@a.example", "X@A.Example"):  # SES may tell the cases apart; Roster does not
        reply = other.patch("/tenant", {"sender": {"address": address}})
        sender_taken(reply)
        assert "another tenant" in reply.error["details"][0]["problem"]
    assert other.get("/tenant").json == before  # nothing written, not even the version
    assert other.get("/tenant/sender").json["verified"] is False
    assert alpine.get("/tenant/sender").json["verified"] is True

    assert status["identity"] == "x@a.example" and status["verification_status"] == "Success"
    [claim] = [item for item in table_items() if item["pk"]["S"] == keys.sender_identity("x@a.example")]
    assert claim["tenant_id"]["S"] == alpine.get("/tenant").json["tenant_id"]


def test_verification_is_refused_for_an_address_another_tenant_claimed_first(platform):
    alpine, other = new_tenant(platform, "Alpine"), new_tenant(platform, "Other")
    # the other tenant set the address before anyone claimed it, but Alpine starts verifying first
    assert other.patch("/tenant", {"sender": {"address": "x@a.example"}}).status == 200
    verified_sender(alpine, "x@a.example")

    sender_taken(other.post("/tenant/sender/verify"))
    sender_taken(other.post("/tenant/sender/verify", {"identity": "domain"}))
    # a refused claim leaves no record on the tenant either
    assert "sender_claims" not in tenant_record(other) and "sender_dkim" not in tenant_record(other)
    assert tenant_record(alpine)["sender_claims"]["SS"] == ["x@a.example"]
    status = other.get("/tenant/sender").json
    assert status["verified"] is False and status["identity"] is None
    assert status["verification_status"] == "NotStarted"
    assert other.get("/tenant").json["sender"]["verified"] is False
    # the claim still names Alpine, who may verify again (the claim keeps its first moment)
    [before] = [item for item in table_items() if item["pk"]["S"] == keys.sender_identity("x@a.example")]
    assert alpine.post("/tenant/sender/verify").status == 202
    assert alpine.get("/tenant/sender").json["verified"] is True
    [after] = [item for item in table_items() if item["pk"]["S"] == keys.sender_identity("x@a.example")]
    assert after == before and after["tenant_id"]["S"] == alpine.get("/tenant").json["tenant_id"]


def test_a_claim_outlives_a_change_of_address(platform):
    """Releasing a claim would hand another tenant an identity SES still counts as verified."""
    alpine, other = new_tenant(platform, "Alpine"), new_tenant(platform, "Other")
    verified_sender(alpine, "x@a.example")
    assert alpine.patch("/tenant", {"sender": {"address": "y@a.example"}}).status == 200
    sender_taken(other.patch("/tenant", {"sender": {"address": "x@a.example"}}))
    assert alpine.patch("/tenant", {"sender": {"address": "x@a.example"}}).status == 200


def test_a_domain_claim_covers_every_address_of_the_domain(platform):
    alpine, other = new_tenant(platform, "Alpine"), new_tenant(platform, "Other")
    assert alpine.patch("/tenant", {"sender": {"address": "news@a.example"}}).status == 200
    started = alpine.post("/tenant/sender/verify", {"identity": "domain"})
    assert started.status == 202, started.json
    assert started.json["identity"] == "a.example" and started.json["verification_status"] == "Pending"
    records = started.json["dkim_records"]
    assert len(records) == 3
    for record in records:
        token = record["name"].split(".")[0]
        assert record == {"name": f"{token}._domainkey.a.example", "type": "CNAME",
                          "value": f"{token}.dkim.amazonses.com"}
    status = alpine.get("/tenant/sender").json
    assert status["verified"] is True and status["identity"] == "a.example" and status["dkim_records"] == records

    for address in ("news@a.example", "billing@a.example", "x@A.EXAMPLE"):
        sender_taken(other.patch("/tenant", {"sender": {"address": address}}))
    # a sub-domain is another identity
    assert other.patch("/tenant", {"sender": {"address": "x@mail.a.example"}}).status == 200
    # Alpine's other addresses need no verification of their own
    assert alpine.patch("/tenant", {"sender": {"address": "billing@a.example"}}).status == 200
    assert alpine.get("/tenant/sender").json["verified"] is True


def test_a_domain_whose_address_another_tenant_claimed_cannot_be_claimed_through_it(platform):
    alpine, other = new_tenant(platform, "Alpine"), new_tenant(platform, "Other")
    assert other.patch("/tenant", {"sender": {"address": "x@a.example"}}).status == 200
    verified_sender(alpine, "x@a.example")
    sender_taken(other.post("/tenant/sender/verify", {"identity": "domain"}))
    assert not [item for item in table_items() if item["pk"]["S"] == keys.sender_identity("a.example")]


def test_the_platform_s_own_mail_domain_is_no_tenant_s(api):
    for address in (PLATFORM_SENDER, "ceo@MAIL.roster.test", "x@eu.mail.roster.test"):
        reply = api.patch("/tenant", {"sender": {"address": address}})
        sender_taken(reply)
        assert "platform" in reply.error["details"][0]["problem"]
    assert api.patch("/tenant", {"sender": {"address": "x@roster.test"}}).status == 200


def test_verify_validates_its_body(api):
    assert api.patch("/tenant", {"sender": {"address": "x@a.example"}}).status == 200
    assert_error(api.post("/tenant/sender/verify", {"identity": "ip"}), 400, fields={"identity"})
    assert_error(api.post("/tenant/sender/verify", {"address": "y@a.example"}), 400, fields={"address"})
    assert not [item for item in table_items() if item["pk"]["S"].startswith("SENDER#")]


def test_welcome_mail_goes_out_from_a_verified_address_only_for_its_owner(platform, chalice_client):
    alpine = welcoming(new_tenant(platform, "Alpine"), "Alpine Telecom")
    other = welcoming(new_tenant(platform, "Other"), "Other Provider")
    verified_sender(alpine, "x@a.example")
    # The other tenant holds the address from before identities were claimed: the state the old
    # code left behind when a tenant set another tenant's verified address and read its status.
    other_id = other.get("/tenant").json["tenant_id"]
    TenantItem(keys.tenant(other_id), keys.TENANT_SK).update(
        [TenantItem.sender.set({"address": "x@a.example", "verified": True})])

    assert welcome_mail_source(alpine, chalice_client, "Muster AG", "anna@example.com") \
        == "Alpine Telecom <x@a.example>"
    assert welcome_mail_source(other, chalice_client, "Beispiel AG", "ben@example.com") \
        == f"Other Provider <{PLATFORM_SENDER}>"
    # reading the status corrects what the tenant remembers
    assert other.get("/tenant/sender").json["verified"] is False
    assert other.get("/tenant").json["sender"]["verified"] is False


def test_notice_mail_goes_out_from_a_verified_address_only_for_its_owner(aws):
    owner, other = World(name="Alpine Telecom"), World(name="Other Provider")
    tenants = bootstrap.get_tenant_service()
    tenants.update(owner.tenant_id, {"sender": {"address": "x@a.example"}}, None)
    tenants.verify_sender(owner.tenant_id)
    assert tenants.sender_status(owner.tenant_id)["verified"] is True
    TenantItem(keys.tenant(other.tenant_id), keys.TENANT_SK).update(
        [TenantItem.sender.set({"address": "x@a.example", "verified": True})])

    sources = {}
    for world in (owner, other):
        world.contact(world.account(), language="de", notifications=["maintenance"])
        notice_id, event_key = world.notice()
        service = delivery_service()
        service.fan_out(world.tenant_id, notice_id, event_key)
        before = len(sent_mails())
        for body in batch_messages():
            service.send_batch(body["tenant_id"], body["notice_id"], body["batch"])
        [mail] = sent_mails()[before:]
        sources[world.tenant_id] = mail.source
    assert sources == {owner.tenant_id: "Alpine Telecom <x@a.example>",
                       other.tenant_id: f"Other Provider <{PLATFORM_SENDER}>"}



def tenant_record(api) -> dict:
    tenant_id = api.get("/tenant").json["tenant_id"]
    [item] = [i for i in table_items() if i["pk"]["S"] == keys.tenant(tenant_id) and i["sk"]["S"] == keys.TENANT_SK]
    return item


@pytest.mark.parametrize("kind", ["address", "domain"])
def test_a_claim_is_one_read_and_one_transaction_and_the_status_one_read(api, kind):
    """The claim's transaction also records it on the tenant (with a domain's DKIM tokens, asked
    of SES first), so the status reads only the tenant: the key, then the tenant."""
    assert api.patch("/tenant", {"sender": {"address": "news@a.example"}}).status == 200
    with dynamodb_operations() as operations:
        started = api.post("/tenant/sender/verify", {"identity": kind})
    assert started.status == 202, started.json
    assert operations == ["GetItem", "GetItem", "TransactWriteItems"]
    name = {"address": "news@a.example", "domain": "a.example"}[kind]
    record = tenant_record(api)
    assert record["sender_claims"]["SS"] == [name]
    if kind == "domain":
        tokens = [entry["S"] for entry in record["sender_dkim"]["M"]["a.example"]["L"]]
        assert [r["name"].split(".")[0] for r in started.json["dkim_records"]] == tokens
    else:
        assert "sender_dkim" not in record
    with dynamodb_operations() as operations:
        status = api.get("/tenant/sender")  # SES now says Success: the tenant remembers it once
    assert status.json["verified"] is True and status.json["identity"] == name
    assert status.json["dkim_records"] == started.json["dkim_records"]
    assert operations == ["GetItem", "GetItem", "UpdateItem"]
    with dynamodb_operations() as operations:
        assert api.get("/tenant/sender").json == status.json
    assert operations == ["GetItem", "GetItem"]
    assert "sender_claims" not in api.get("/tenant").json  # the record is the tenant's own, not shown


def test_an_address_changed_while_it_is_claimed_gets_the_claim_of_the_new_one(api):
    """The record's condition is the address read: when it changed before the transaction,
    nothing is written and the claim starts again from the address the tenant now has."""
    assert api.patch("/tenant", {"sender": {"address": "old@a.example"}}).status == 200
    tenant_id = api.get("/tenant").json["tenant_id"]
    changed = []

    def change_first(model=None, **_):
        if model.name == "TransactWriteItems" and not changed:
            changed.append(True)
            TenantItem(keys.tenant(tenant_id), keys.TENANT_SK).update(
                [TenantItem.sender["address"].set("new@b.example")])

    with dynamodb_hook("before-call", change_first):
        started = api.post("/tenant/sender/verify")
    assert started.status == 202 and started.json["identity"] == "new@b.example"
    assert tenant_record(api)["sender_claims"]["SS"] == ["new@b.example"]
    claims = [i["pk"]["S"] for i in table_items() if i["pk"]["S"].startswith("SENDER#")]
    assert claims == [keys.sender_identity("new@b.example")]
