"""The sample events in events/ drive the app's real entry points."""
import copy
import json
from pathlib import Path

from tests.functional.conftest import add_contact

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


class _Context:
    function_name = "roster-dev"
    aws_request_id = "6f5d7c1e-9f4e-4c1e-8a59-0c7c1c9b2a11"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:roster-dev"

    @staticmethod
    def get_remaining_time_in_millis():
        return 10_000


def test_api_gateway_proxy_event_reads_an_account(api, account):
    import app

    event = copy.deepcopy(_event("api_gateway_get_account.json"))
    aid = account["account_id"]
    event["path"] = f"/accounts/{aid}"
    event["pathParameters"] = {"account_id": aid}
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers["Authorization"] = f"Bearer {api.key}" if headers is event["headers"] else [f"Bearer {api.key}"]
    response = app.app(event, _Context())
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["account_id"] == aid

    event["headers"]["Authorization"] = "Bearer rk_aaaaaaaaaaaaaaaa_" + "0" * 64
    event["multiValueHeaders"]["Authorization"] = [event["headers"]["Authorization"]]
    response = app.app(event, _Context())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthenticated"


def test_scheduled_event_finishes_an_interrupted_erasure(api, account, chalice_client, monkeypatch):
    import chalicelib.services.people as people_module
    from tests.functional.conftest import COMPLETE_ACCOUNT

    first = account["account_id"]
    second = api.post("/accounts", COMPLETE_ACCOUNT).json["account_id"]
    person = add_contact(api, first, "crash@example.com", roles=["caretaker", "technical"])
    pid = person["person_id"]
    add_contact(api, second, "crash@example.com", roles=["on_site_admin"])

    # Erasures larger than one transaction go in steps; make two memberships "large".
    monkeypatch.setattr(people_module, "ERASURE_CHUNK", 1)

    def crash(self, tenant_id, person_id):
        raise RuntimeError("Lambda timed out")

    original = people_module.PeopleService.finish_erasure
    monkeypatch.setattr(people_module.PeopleService, "finish_erasure", crash)
    assert api.delete(f"/people/{pid}").status == 500
    monkeypatch.setattr(people_module.PeopleService, "finish_erasure", original)

    # The first step ran: the personal data is gone, the membership still holds the slot.
    assert api.get(f"/people/{pid}").status == 404
    assert api.get("/people?email=crash@example.com").json["items"] == []
    assert api.get(f"/accounts/{first}").json["designated_contacts"]["technical"] == pid

    result = chalice_client.lambda_.invoke("housekeeping", _event("scheduled_housekeeping.json"))
    assert result.payload == {"erasures_finished": 1}
    assert api.get(f"/people/{pid}/access").status == 404
    account_now = api.get(f"/accounts/{first}").json
    assert account_now["designated_contacts"]["technical"] is None
    assert {"no_technical_contact", "no_caretaker"} <= set(account_now["warnings"])
    for aid in (first, second):
        assert api.get(f"/accounts/{aid}/contacts").json["items"] == []
        assert api.get(f"/accounts/{aid}").json["member_count"] == 0
    again = chalice_client.lambda_.invoke("housekeeping", _event("scheduled_housekeeping.json"))
    assert again.payload == {"erasures_finished": 0}


def test_notice_events_drive_the_schedule_the_fanout_and_the_mail_worker(api, account, chalice_client):
    """events/scheduled_notice_schedule.json (the schedule tick), events/sqs_notice_fanout.json (a
    fan-out job) and events/sqs_notice_batch.json (a batch on its queue) through the real
    handlers; each sample's body has the shape of the message the app really sends."""
    from chalicelib import bootstrap
    from tests.functional.mail_helpers import receive, sent_mails
    from tests.functional.notice_helpers import Clock

    clock = Clock()  # 2026-12-01 08:00 UTC
    bootstrap.override(clock=clock)
    aid = account["account_id"]
    person = add_contact(api, aid, "anna@example.com", language="fr", roles=["caretaker", "on_site_admin"],
                         notifications=["maintenance"])
    assert api.post(f"/accounts/{aid}/onboarding/complete").json["status"] == "active"
    tenant_id = api.get("/tenant").json["tenant_id"]
    notice_id = api.post("/notices", {
        "type": "maintenance", "title": {"de": "Wartung", "fr": "Maintenance du réseau"}, "body": {"de": "Kurz."},
        "affected": {"account_ids": [aid]}, "starts_at": "2026-12-01T10:00:00Z", "ends_at": "2026-12-01T11:00:00Z",
        "reminders": [60]}).json["notice_id"]
    assert api.post(f"/notices/{notice_id}/publish").status == 202

    def standing_in(sample_name: str, queue: str) -> dict:
        """The sample event, carrying the one message the app queued (which has the sample's shape)."""
        [queued] = receive(queue)
        event = copy.deepcopy(_event(sample_name))
        sample = json.loads(event["Records"][0]["body"])
        assert json.loads(queued["Body"]) == {**sample, "tenant_id": tenant_id, "notice_id": notice_id}
        event["Records"][0]["body"] = queued["Body"]
        return event

    fanout = standing_in("sqs_notice_fanout.json", "roster-notice-fanout")  # the job the publish queued
    assert chalice_client.lambda_.invoke("notice_fanout", fanout).payload == {"batchItemFailures": []}
    batch = standing_in("sqs_notice_batch.json", "roster-notice-batch")  # the batch the fan-out planned
    assert chalice_client.lambda_.invoke("send_notice_batch", batch).payload == {"batchItemFailures": []}
    [mail] = sent_mails()
    assert mail.template == "roster-notice-fr" and "anna@example.com" in json.dumps(mail.destinations)
    assert chalice_client.lambda_.invoke("send_notice_batch", batch).payload == {"batchItemFailures": []}  # again
    assert len(sent_mails()) == 1  # nothing twice
    [published] = api.get(f"/notices/{notice_id}").json["events"]
    assert (published["recipients"], published["deliveries"]["sent"]) == (1, 1)
    rows = api.get(f"/notices/{notice_id}/deliveries").json["items"]
    assert [(r["person_id"], r["language"], r["status"]) for r in rows] == [(person["person_id"], "fr", "sent")]

    # The schedule tick: the 60-minute reminder is due at 09:00.
    tick = _event("scheduled_notice_schedule.json")
    assert chalice_client.lambda_.invoke("notice_schedule", tick).payload["moved"] == {
        "notices": 0, "mailed": 0, "skipped": 0}
    clock.advance(hours=1)
    result = chalice_client.lambda_.invoke("notice_schedule", tick).payload
    assert result["moved"] == {"notices": 1, "mailed": 1, "skipped": 0}
    assert set(result["swept"]) == {"fanouts", "batches", "unconfirmed"}
    assert [e["event_key"] for e in api.get(f"/notices/{notice_id}").json["events"]] == [
        "published", "reminder-60-202612011000"]
    [reminder] = receive("roster-notice-fanout")
    assert json.loads(reminder["Body"]) == {"tenant_id": tenant_id, "notice_id": notice_id,
                                            "event_key": "reminder-60-202612011000"}
