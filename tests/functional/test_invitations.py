"""Invitations (G2, G3, G5, G6, G9): invite, list, resend, revoke, batch, guest rule, the
invitee's answer with the account's counters, mails (invitation, inviter, welcome), expiry."""
from __future__ import annotations

import json
import re
from pathlib import Path


from tests.functional.conftest import add_contact, assert_error, dynamodb_operations, run_together, skip_ahead, table_items, walk
from tests.functional.invitation_helpers import accept, decline, invite, link_of, membership, page, token_of
from tests.functional.mail_helpers import drain, sent_mails

MAIL = "roster-mail"
SCHEDULE = json.loads((Path(__file__).resolve().parents[2] / "events" / "scheduled_expire_invitations.json").read_text())


def mails(template_prefix: str) -> list:
    return [m for m in sent_mails() if m.template.startswith(template_prefix)]


def test_an_invitation_offers_a_pending_membership_that_counts_nothing(api, account):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", roles=["caretaker"], permissions=["billing", "support"])
    assert inv["status"] == "pending" and inv["membership_status"] == "pending" and inv["kind"] == "contact"
    assert inv["invitation_id"].startswith("inv_") and inv["invited_by"].startswith("key_")
    member = membership(api, aid, inv["person_id"]).json
    assert member["status"] == "pending" and member["roles"] == ["caretaker"]
    after = api.get(f"/accounts/{aid}").json
    assert after["member_count"] == 0 and "no_caretaker" in after["warnings"]
    # the link names the tenant, account, invitation and invitee (an API key invited: no inviter)
    # and carries 256 random bits; only the hash is stored outside the outbox item with the mail
    token = token_of(inv)
    *ids, secret = token.split(".")
    tenant_id = api.get("/tenant").json["tenant_id"]
    assert ids == [i.split("_")[1] for i in (tenant_id, aid, inv["invitation_id"], inv["person_id"])]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret)
    stored = [i for i in table_items() if token in json.dumps(i)]
    assert [i["sk"]["S"] for i in stored] == ["R#00000"]


def test_the_link_uses_the_public_base_url_never_the_host_header(api, account):
    inv = invite(api, account["account_id"], "zoe@example.com")
    assert link_of(inv).startswith("http://127.0.0.1:8000/invitations/")


def test_pending_becomes_invited_when_ses_accepted_the_mail(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", language="it", permissions=["security"])
    token = token_of(inv)
    assert drain(chalice_client, "send_mail", MAIL) == 1
    [mail] = mails("roster-invitation-")
    assert mail.template == "roster-invitation-it"
    data = json.loads(mail.template_data)
    assert data["link"].endswith(token) and data["account_name"] == "Muster AG" and data["account_id"] == aid
    assert data["permissions"] == "Sicurezza" and data["expires_on"] == inv["expires_at"][:10]
    got = api.get(f"/accounts/{aid}/invitations/{inv['invitation_id']}").json
    assert got["status"] == "invited" and membership(api, aid, inv["person_id"]).json["status"] == "invited"
    assert token not in json.dumps(table_items())  # the link left the outbox once sent
    # the callback is idempotent: running it again changes nothing
    from chalicelib import bootstrap
    from chalicelib.repositories.mail import MailRepository

    [recipient] = MailRepository(None).recipients(got["tenant_id"] if "tenant_id" in got else _tenant(api),
                                                  inv["mail_job_id"])
    bootstrap.get_invitation_service().mark_invited(_tenant(api), {"invitation_id": inv["invitation_id"],
                                                                   "token_hash": "x"}, recipient)
    assert api.get(f"/accounts/{aid}/invitations/{inv['invitation_id']}").json["version"] == got["version"]
    assert accept(chalice_client, token).status == 200


def _tenant(api) -> str:
    return api.get("/tenant").json["tenant_id"]


def test_accept_makes_the_member_count_and_is_idempotent(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", roles=["caretaker", "technical"])
    token = token_of(inv)
    first = accept(chalice_client, token, headers={"accept": "application/json"})
    assert first.status == 200 and first.json == {"status": "accepted", "invitation_id": inv["invitation_id"],
                                                  "account_id": aid}
    acc = api.get(f"/accounts/{aid}").json
    assert acc["member_count"] == 1 and acc["designated_contacts"]["technical"] == inv["person_id"]
    assert "no_caretaker" not in acc["warnings"]
    assert membership(api, aid, inv["person_id"]).json["status"] == "active"
    again = accept(chalice_client, token, headers={"accept": "application/json"})
    assert (again.status, again.json) == (first.status, first.json)
    assert api.get(f"/accounts/{aid}").json["member_count"] == 1
    assert decline(chalice_client, token).status == 404  # the other outcome: gone
    listed = api.get(f"/accounts/{aid}/invitations?status=accepted").json["items"]
    assert [i["invitation_id"] for i in listed] == [inv["invitation_id"]] and listed[0]["responded_at"]


def test_decline_keeps_a_declined_membership_and_decline_again_is_the_same(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    token = token_of(inv)
    assert decline(chalice_client, token).status == 200
    assert membership(api, aid, inv["person_id"]).json["status"] == "declined"
    assert api.get(f"/accounts/{aid}").json["member_count"] == 0
    assert decline(chalice_client, token).status == 200
    assert accept(chalice_client, token).status == 404
    # a declined person may be invited again
    again = invite(api, aid, "zoe@example.com")
    assert accept(chalice_client, token_of(again)).status == 200


def test_guests_must_be_active_members_elsewhere(api, account, chalice_client):
    aid = account["account_id"]
    reply = api.post(f"/accounts/{aid}/invitations", {"email": "nobody@example.com", "kind": "guest"})
    assert_error(reply, 422, "not_registered", {"email"})
    other = api.post("/accounts", {"name": "Zweite AG"}).json["account_id"]
    pending = invite(api, other, "pat@example.com")  # pending elsewhere is not registered
    assert_error(api.post(f"/accounts/{aid}/invitations", {"email": "pat@example.com", "kind": "guest"}), 422,
                 "not_registered")
    accept(chalice_client, token_of(pending))
    guest = invite(api, aid, "pat@example.com", kind="guest", permissions=["support"])
    assert guest["kind"] == "guest" and guest["person_id"] == pending["person_id"]
    assert accept(chalice_client, token_of(guest)).status == 200
    assert membership(api, aid, guest["person_id"]).json["kind"] == "guest"
    assert not any(i["pk"]["S"].startswith("T#") and "#J#" in i["pk"]["S"] and "roster-welcome" in json.dumps(i)
                   for i in table_items())


def test_an_active_member_gets_409(api, account):
    aid = account["account_id"]
    add_contact(api, aid, "anna@example.com")
    reply = api.post(f"/accounts/{aid}/invitations", {"email": "ANNA@example.com"})
    assert_error(reply, 409, "already_member", {"email"})


def test_a_new_invitation_replaces_a_pending_one(api, account, chalice_client):
    aid = account["account_id"]
    old = invite(api, aid, "zoe@example.com", permissions=["billing"])
    new = invite(api, aid, "zoe@example.com", permissions=["security"])
    assert new["person_id"] == old["person_id"]
    assert api.get(f"/accounts/{aid}/invitations/{old['invitation_id']}").json["status"] == "revoked"
    assert accept(chalice_client, token_of(old)).status == 404
    assert accept(chalice_client, token_of(new)).status == 200
    assert membership(api, aid, new["person_id"]).json["permissions"] == ["security"]


def test_resend_gives_a_new_link_and_kills_the_old(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", expires_in_days=2)
    old_token = token_of(inv)
    drain(chalice_client, "send_mail", MAIL)
    skip_ahead(61)  # past the resend cooldown
    resent = api.post(f"/accounts/{aid}/invitations/{inv['invitation_id']}/resend")
    assert resent.status == 200, resent.json
    assert resent.json["status"] == "pending" and resent.json["mail_job_id"] != inv["mail_job_id"]
    assert resent.json["expires_at"] >= inv["expires_at"]
    new_token = token_of(resent.json)
    assert new_token != old_token
    assert page(chalice_client, "GET", f"/invitations/{old_token}").status == 404
    drain(chalice_client, "send_mail", MAIL)
    assert len(mails("roster-invitation-")) == 2
    assert api.get(f"/accounts/{aid}/invitations/{inv['invitation_id']}").json["status"] == "invited"
    assert accept(chalice_client, new_token).status == 200
    assert_error(api.post(f"/accounts/{aid}/invitations/{inv['invitation_id']}/resend"), 409, "invitation_closed")


def test_revoke_removes_the_pending_membership_and_kills_the_link(api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    token = token_of(inv)
    assert api.delete(f"/accounts/{aid}/invitations/{inv['invitation_id']}").status == 204
    assert_error(membership(api, aid, inv["person_id"]), 404)
    assert api.delete(f"/accounts/{aid}/invitations/{inv['invitation_id']}").status == 204  # idempotent
    assert accept(chalice_client, token).status == 404
    assert api.get(f"/accounts/{aid}/invitations?status=revoked").json["items"][0]["status"] == "revoked"
    accepted = invite(api, aid, "max@example.com")
    accept(chalice_client, token_of(accepted))
    assert_error(api.delete(f"/accounts/{aid}/invitations/{accepted['invitation_id']}"), 409, "invitation_closed")


def test_another_tenant_cannot_see_or_revoke_an_invitation(api, other_api, account, chalice_client):
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    path = f"/accounts/{aid}/invitations/{inv['invitation_id']}"
    assert_error(other_api.get(path), 404, "not_found")
    assert_error(other_api.delete(path), 404, "not_found")
    assert_error(other_api.post(path + "/resend"), 404, "not_found")
    assert_error(other_api.get(f"/accounts/{aid}/invitations"), 404, "not_found")
    assert api.get(path).json["status"] == "pending"


def test_a_deleted_accounts_invitations_answer_404_and_their_links_open_nothing(api, chalice_client):
    """Deleting a draft takes its pending memberships; its invitations are the missing account's
    objects from then on: 404, like any object of an account that does not exist."""
    aid = api.post("/accounts", {"name": "Entwurf"}).json["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    assert api.delete(f"/accounts/{aid}").status == 204
    path = f"/accounts/{aid}/invitations/{inv['invitation_id']}"
    with dynamodb_operations() as operations:
        assert_error(api.get(path), 404, "not_found")
    assert operations == ["GetItem", "BatchGetItem"]  # the key, then the invitation with its account
    assert_error(api.delete(path), 404, "not_found")
    assert_error(api.post(path + "/resend"), 404, "not_found")
    assert_error(api.get(f"/accounts/{aid}/invitations"), 404, "not_found")
    assert accept(chalice_client, token_of(inv)).status == 404


def test_list_filters_by_status_and_pages(api, account, chalice_client):
    aid = account["account_id"]
    invs = [invite(api, aid, f"p{i}@example.com") for i in range(3)]
    accept(chalice_client, token_of(invs[0]))
    assert [i["invitation_id"] for i in walk(api, f"/accounts/{aid}/invitations")] == [i["invitation_id"] for i in invs]
    assert [i["invitation_id"] for i in walk(api, f"/accounts/{aid}/invitations", status="pending")] == \
        [i["invitation_id"] for i in invs[1:]]
    assert_error(api.get(f"/accounts/{aid}/invitations?status=active"), 400, fields={"status"})


def test_batch_creates_the_valid_ones_and_reports_each(api, account):
    aid = account["account_id"]
    add_contact(api, aid, "anna@example.com")
    reply = api.post(f"/accounts/{aid}/invitations/batch", {"invitations": [
        {"email": "a@example.com", "permissions": ["billing"]},
        {"email": "not-an-email"},
        {"email": "anna@example.com"},
        {"email": "g@example.com", "kind": "guest"},
        "nonsense",
        {"email": "b@example.com", "expires_in_days": 30},
    ]})
    assert reply.status == 200, reply.json
    items = reply.json["items"]
    assert [i["status"] for i in items] == [201, 400, 409, 422, 400, 201]
    assert items[0]["invitation"]["email"] == "a@example.com"
    assert items[2]["error"]["code"] == "already_member" and items[3]["error"]["code"] == "not_registered"
    assert set(items[1]["error"]) == {"code", "message", "details"}
    assert len(api.get(f"/accounts/{aid}/invitations").json["items"]) == 2
    too_many = {"invitations": [{"email": f"x{i}@example.com"} for i in range(101)]}
    assert_error(api.post(f"/accounts/{aid}/invitations/batch", too_many), 400, fields={"invitations"})


def test_the_inviter_hears_of_accept_and_decline(api, account, chalice_client):
    aid = account["account_id"]
    assert api.patch("/tenant", {"staff_email": "staff@acme.example"}).status == 200
    yes, no = invite(api, aid, "yes@example.com"), invite(api, aid, "no@example.com")
    accept(chalice_client, token_of(yes))
    decline(chalice_client, token_of(no))
    drain(chalice_client, "send_mail", MAIL)
    [accepted] = mails("roster-invitation-accepted-")
    [declined] = mails("roster-invitation-declined-")
    assert accepted.template == "roster-invitation-accepted-de"  # the tenant's language
    assert accepted.destinations["ToAddresses"] == ["staff@acme.example"] if isinstance(accepted.destinations, dict) \
        else "staff@acme.example" in json.dumps(accepted.destinations)
    assert json.loads(declined.template_data)["invitee_email"] == "no@example.com"


def test_no_inviter_mail_without_staff_email_or_inviting_person(api, account, chalice_client):
    inv = invite(api, account["account_id"], "yes@example.com")
    accept(chalice_client, token_of(inv))
    drain(chalice_client, "send_mail", MAIL)
    assert mails("roster-invitation-accepted-") == []


def test_an_accepted_contact_invitation_gets_the_welcome_mail(api, account, chalice_client):
    assert api.patch("/tenant", {"welcome_mail": {"enabled": True, "portal_url": "https://portal.example"}}).status == 200
    inv = invite(api, account["account_id"], "zoe@example.com", language="en")
    token = token_of(inv)  # read before the send takes the link out of the outbox
    drain(chalice_client, "send_mail", MAIL)
    assert mails("roster-welcome-") == []  # not for the invitation alone
    accept(chalice_client, token)
    drain(chalice_client, "send_mail", MAIL)
    [welcome] = mails("roster-welcome-")
    assert welcome.template == "roster-welcome-en"


class Later:
    def __init__(self, days: float):
        from datetime import datetime, timedelta, timezone

        self._moment = datetime.now(timezone.utc) + timedelta(days=days)

    def now(self):
        return self._moment

    def now_iso(self):
        from chalicelib.adapters.clock import iso

        return iso(self._moment)


def test_expired_links_answer_410_and_the_schedule_closes_them(api, account, chalice_client):
    from chalicelib import bootstrap

    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com", expires_in_days=1)
    fresh = invite(api, aid, "fresh@example.com", expires_in_days=3)
    token = token_of(inv)
    bootstrap.override(clock=Later(1.1))
    gone = page(chalice_client, "GET", f"/invitations/{token}")
    assert gone.status == 410 and 'lang="de"' in gone.body
    assert accept(chalice_client, token).status == 410
    assert membership(api, aid, inv["person_id"]).json["status"] == "pending"  # the page changed nothing
    result = chalice_client.lambda_.invoke("expire_invitations", SCHEDULE).payload
    assert result == {"expired": 1}
    assert api.get(f"/accounts/{aid}/invitations/{inv['invitation_id']}").json["status"] == "expired"
    assert_error(membership(api, aid, inv["person_id"]), 404)
    assert api.get(f"/accounts/{aid}/invitations/{fresh['invitation_id']}").json["status"] == "pending"
    assert accept(chalice_client, token).status == 410
    assert chalice_client.lambda_.invoke("expire_invitations", SCHEDULE).payload == {"expired": 0}


def test_expires_in_days_is_bounded(api, account):
    for days in (0, 31, "7"):
        reply = api.post(f"/accounts/{account['account_id']}/invitations", {"email": "z@example.com",
                                                                             "expires_in_days": days})
        assert_error(reply, 400, fields={"expires_in_days"})


def test_accept_racing_revoke_has_exactly_one_outcome(api, account, chalice_client, atomic_moto, monkeypatch):
    from chalicelib import bootstrap

    aid = account["account_id"]
    for round_ in range(3):
        inv = invite(api, aid, f"race{round_}@example.com", roles=["caretaker"])
        token = token_of(inv)
        service = bootstrap.get_invitation_service()
        outcomes = run_together([
            lambda: service.answer(token, "accepted", "en").state,
            lambda: service.revoke(_tenant(api), aid, inv["invitation_id"]),
        ], monkeypatch)
        accepted = outcomes[0] == ("ok", "accepted")
        revoked = outcomes[1] == ("ok", None)
        assert accepted != revoked, outcomes
        state = api.get(f"/accounts/{aid}/invitations/{inv['invitation_id']}").json["status"]
        member = membership(api, aid, inv["person_id"])
        if accepted:
            assert state == "accepted" and member.json["status"] == "active"
            assert outcomes[1][0] == "error" and outcomes[1][1].code == "invitation_closed"
        else:
            assert state == "revoked" and member.status == 404 and outcomes[0] == ("ok", "not_found")
    count = api.get(f"/accounts/{aid}").json["member_count"]
    assert count == len(walk(api, f"/accounts/{aid}/contacts", limit=10))


def test_an_invitation_by_a_person_tells_that_person(api, account, chalice_client):
    """G9: when a person (not an API key) invites, `invited_by` is the person and the answer
    goes to them, in their language."""
    from chalicelib import bootstrap

    aid = account["account_id"]
    inviter = add_contact(api, aid, "boss@example.com", language="fr", first_name="Claire")
    assert api.patch("/tenant", {"staff_email": "staff@acme.example"}).status == 200
    service = bootstrap.get_invitation_service()
    created = service.create(_tenant(api), aid, {"email": "zoe@example.com"}, inviter["person_id"],
                             inviter["person_id"])
    listed = api.get(f"/accounts/{aid}/invitations/{created.invitation_id}").json
    assert listed["invited_by"] == inviter["person_id"]
    token = token_of(listed)
    assert token.split(".")[4] == inviter["person_id"].split("_")[1]  # the link names the inviter too
    offer = page(chalice_client, "GET", f"/invitations/{token}")
    assert "Claire lädt Sie ein, Muster AG beizutreten." in offer.body  # the invitee's language: the account's
    accept(chalice_client, token)
    drain(chalice_client, "send_mail", MAIL)
    [mail] = mails("roster-invitation-accepted-")
    assert mail.template == "roster-invitation-accepted-fr"
    assert "boss@example.com" in json.dumps(mail.destinations)


def test_each_mail_keeps_its_own_link_when_resends_overtake_the_worker(api, account, chalice_client):
    """Issue 14 §5: the mail of an earlier link, sent after a resend, must not take the newer
    mail's link away (that mail then went out without one while showing `sent`)."""
    aid = account["account_id"]
    inv = invite(api, aid, "zoe@example.com")
    first = token_of(inv)
    skip_ahead(61)
    resent = api.post(f"/accounts/{aid}/invitations/{inv['invitation_id']}/resend").json
    second = token_of(resent)
    assert drain(chalice_client, "send_mail", MAIL) == 2  # both jobs, the first one first
    links = [json.loads(m.template_data).get("link", "") for m in mails("roster-invitation-")]
    assert sorted(link.rsplit("/", 1)[-1] for link in links) == sorted([first, second])
    assert first not in json.dumps(table_items()) and second not in json.dumps(table_items())
    assert accept(chalice_client, second).status == 200


def test_a_link_leaves_the_outbox_also_when_its_mail_is_not_sent(api, account, chalice_client):
    from chalicelib import bootstrap

    bootstrap.get_repositories().mail.suppress("zoe@example.com", "bounced", "2026-01-01T00:00:00.000Z")
    inv = invite(api, account["account_id"], "zoe@example.com")
    token = token_of(inv)
    drain(chalice_client, "send_mail", MAIL)
    assert mails("roster-invitation-") == []
    assert token not in json.dumps(table_items())


def test_inviting_reads_the_emails_claim_the_account_and_the_tenant_in_one_request(api, account):
    """A new e-mail: the key, the request limit's counter, one BatchGetItem (claim, account,
    tenant), the transaction, the hand-off to the mail queue; a person already in the tenant
    adds one BatchGetItem (the person and their membership in the account)."""
    aid = account["account_id"]
    with dynamodb_operations() as operations:
        assert invite(api, aid, "new@example.com")["status"] == "pending"
    assert operations == ["GetItem", "UpdateItem", "BatchGetItem", "TransactWriteItems"]
    other = api.post("/accounts", {"name": "Other"}).json["account_id"]
    with dynamodb_operations() as operations:
        again = invite(api, other, "new@example.com")
    assert operations == ["GetItem", "UpdateItem", "BatchGetItem", "BatchGetItem", "TransactWriteItems"]
    assert again["person_id"] == api.get(f"/accounts/{aid}/invitations").json["items"][0]["person_id"]
