"""Notices API (issue 4 §1) and the maintenance lifecycle the schedule drives (§2), with a
controllable clock. Delivery itself (fan-out, batches, SES) has its own tests."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.functional.conftest import add_contact, dynamodb_operations
from tests.functional.notice_helpers import T0, Clock
from tests.functional.portal_helpers import person_api

@pytest.fixture
def clock(aws):
    from chalicelib import bootstrap

    clock = Clock()
    bootstrap.override(clock=clock)
    return clock


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def maintenance(account_ids=None, start=T0 + timedelta(days=2), hours=2, **extra) -> dict:
    return {"type": "maintenance", "title": {"de": "Wartung Rechenzentrum", "en": "Data centre maintenance"},
            "body": {"de": "Kurze Unterbrechungen.", "en": "Short interruptions."},
            "affected": {"account_ids": account_ids} if account_ids else {"all": True},
            "starts_at": at(start), "ends_at": at(start + timedelta(hours=hours)), **extra}


OUTAGE = {"type": "outage", "severity": "critical", "title": {"de": "Störung Telefonie"},
          "body": {"de": "Anrufe schlagen fehl."}, "affected": {"all": True}}


def create(api, body) -> dict:
    reply = api.post("/notices", body)
    assert reply.status == 201, reply.json
    return reply.json


def tick(chalice_client) -> dict:
    from chalicelib import bootstrap

    return bootstrap.get_notice_service().run_schedule()


def events(api, notice_id) -> list[str]:
    return [e["event_key"] for e in api.get(f"/notices/{notice_id}").json["events"]]


# --- §1 the API --------------------------------------------------------------------------------

def test_a_draft_is_created_with_defaults_and_read_back(api, clock):
    notice = create(api, maintenance())
    assert notice["status"] == "draft" and notice["severity"] == "info"
    assert notice["reminders"] == [1440, 60] and notice["notice_id"].startswith("ntc_")
    assert notice["starts_at"] == "2026-12-03T08:00:00.000Z"
    read = api.get(f"/notices/{notice['notice_id']}").json
    assert read["title"]["en"] == "Data centre maintenance" and read["events"] == []
    assert read["deliveries"]["recipients"] == 0


@pytest.mark.parametrize("body, field", [
    ({**OUTAGE, "type": "storm"}, "type"),
    ({**OUTAGE, "severity": "huge"}, "severity"),
    ({**OUTAGE, "title": {"xx": "?"}}, "title.xx"),
    ({**OUTAGE, "affected": {}}, "affected"),
    ({**OUTAGE, "affected": {"all": True, "account_ids": ["acc_aaaaaaaaaaaaaaaa"]}}, "affected"),
    ({**OUTAGE, "affected": {"all": False}}, "affected"),
    ({**OUTAGE, "starts_at": "tomorrow"}, "starts_at"),
    ({**OUTAGE, "starts_at": "2026-12-01T10:00:00"}, "starts_at"),
    ({key: value for key, value in OUTAGE.items() if key != "body"}, "body"),
])
def test_bad_input_is_a_400_naming_the_field(api, clock, body, field):
    reply = api.post("/notices", body)
    assert reply.status == 400, reply.json
    assert field in reply.fields()


def test_rules_are_a_422_naming_the_field(api, clock, account):
    no_default_language = {**OUTAGE, "title": {"en": "Outage"}}  # the tenant's default is de
    assert api.post("/notices", no_default_language).fields() == {"title.de"}
    reply = api.post("/notices", {**maintenance(), "ends_at": None})
    assert reply.status == 400  # null is not a time
    body = maintenance()
    del body["ends_at"]
    reply = api.post("/notices", body)
    assert reply.status == 422 and reply.fields() == {"ends_at"}
    reply = api.post("/notices", maintenance(start=T0 + timedelta(days=1), hours=-1))
    assert reply.status == 422 and reply.fields() == {"ends_at"}
    reply = api.post("/notices", {**OUTAGE, "reminders": [30]})
    assert reply.status == 422 and reply.fields() == {"reminders"}
    reply = api.post("/notices", maintenance([account["account_id"], "acc_aaaaaaaaaaaaaaaa"]))
    assert reply.status == 422 and reply.fields() == {"affected.account_ids[1]"}


def test_an_edit_checks_the_texts_and_accounts_it_changes(api, clock, account):
    path = f"/notices/{create(api, maintenance([account['account_id']]))['notice_id']}"
    reply = api.patch(path, {"title": {"en": "Maintenance"}})
    assert reply.status == 422 and reply.fields() == {"title.de"}
    reply = api.patch(path, {"affected": {"account_ids": ["acc_aaaaaaaaaaaaaaaa", account["account_id"]]}})
    assert reply.status == 422 and reply.fields() == {"affected.account_ids[0]"}
    assert api.patch(path, {"severity": "major"}).status == 200
    outage = api.post(f"/notices/{create(api, OUTAGE)['notice_id']}/publish").json["notice"]
    reply = api.post(f"/notices/{outage['notice_id']}/updates", {"body": {"en": "Still on."}})
    assert reply.status == 422 and reply.fields() == {"body.de"}


def test_a_notice_write_reads_the_tenant_and_its_accounts_in_one_request(api, clock, account):
    """Creating: the key, one BatchGetItem (the tenant's default language and the named
    accounts), the put. Moving a maintenance checks no texts or accounts: the key, the
    limit's counter, the notice with its events, the transaction."""
    with dynamodb_operations() as operations:
        created = api.post("/notices", maintenance([account["account_id"]]))
    assert created.status == 201 and operations == ["GetItem", "BatchGetItem", "PutItem"]
    path = f"/notices/{created.json['notice_id']}"
    version = api.post(f"{path}/publish").json["notice"]["version"]
    with dynamodb_operations() as operations:
        moved = api.patch(path, {"starts_at": at(T0 + timedelta(days=3)), "ends_at": at(T0 + timedelta(days=3, hours=1))},
                          headers={"If-Match": str(version)})
    assert moved.status == 200 and operations == ["GetItem", "UpdateItem", "Query", "TransactWriteItems"]


def test_an_update_and_an_edit_of_texts_read_only_the_notice(api, clock):
    """The texts are checked against the language the notice keeps: the key, the limit's
    counter, the notice with its events, the transaction; no read of the tenant."""
    path = f"/notices/{create(api, OUTAGE)['notice_id']}"
    assert api.post(f"{path}/publish").status == 202
    with dynamodb_operations() as operations:
        reply = api.post(f"{path}/updates", {"body": {"de": "Ursache gefunden."}})
    assert reply.status == 202 and operations == ["GetItem", "UpdateItem", "Query", "TransactWriteItems"]
    with dynamodb_operations() as operations:
        reply = api.patch(path, {"title": {"de": "Störung Telefonie Zürich"}})
    assert reply.status == 200 and operations == ["GetItem", "UpdateItem", "Query", "TransactWriteItems"]
    with dynamodb_operations() as operations:
        reply = api.post(f"{path}/updates", {"body": {"en": "Root cause found."}})
    assert reply.fields() == {"body.de"} and operations == ["GetItem", "UpdateItem", "Query"]


def test_a_notice_keeps_the_language_it_was_created_in(api, clock):
    """The tenant's default language moves from de to en: a notice created before goes on in de,
    one created after is written and updated in en."""
    before = publish(api, OUTAGE)
    assert api.patch("/tenant", {"default_language": "en"}).json["default_language"] == "en"
    assert api.post("/notices", OUTAGE).fields() == {"title.en", "body.en"}
    after = publish(api, {**OUTAGE, "title": {"en": "Telephony outage"}, "body": {"en": "Calls fail."}})
    with dynamodb_operations() as operations:
        reply = api.post(f"/notices/{after}/updates", {"body": {"en": "Root cause found."}})
    assert reply.status == 202 and operations == ["GetItem", "UpdateItem", "Query", "TransactWriteItems"]
    assert api.post(f"/notices/{after}/updates", {"body": {"de": "Ursache gefunden."}}).fields() == {"body.en"}
    assert api.patch(f"/notices/{after}", {"title": {"de": "Störung"}}).fields() == {"title.en"}
    assert api.post(f"/notices/{before}/updates", {"body": {"de": "Ursache gefunden."}}).status == 202
    assert api.post(f"/notices/{before}/updates", {"body": {"en": "Root cause found."}}).fields() == {"body.de"}
    assert api.patch(f"/notices/{before}", {"title": {"en": "Outage"}}).fields() == {"title.de"}


def test_a_notice_from_before_notices_kept_their_language_reads_the_tenant_once(api, clock):
    """Such a notice has no language of its own: its first check reads the tenant's default
    language (with the notice's Query, the key and the limit's counter), and the change it
    allows stores that language on the notice, so the next check reads nothing more."""
    from chalicelib.models import keys
    from chalicelib.models.notices import NoticeItem

    notice_id = publish(api, OUTAGE)
    tenant_id = api.get("/tenant").json["tenant_id"]
    NoticeItem(keys.notice(tenant_id, notice_id), keys.NOTICE_SK).update([NoticeItem.language.remove()])
    assert api.post(f"/notices/{notice_id}/updates", {"body": {"en": "Found it."}}).fields() == {"body.de"}
    with dynamodb_operations() as operations:
        reply = api.post(f"/notices/{notice_id}/updates", {"body": {"de": "Ursache gefunden."}})
    assert reply.status == 202
    assert operations == ["GetItem", "UpdateItem", "Query", "BatchGetItem", "TransactWriteItems"]
    assert NoticeItem.get(keys.notice(tenant_id, notice_id), keys.NOTICE_SK).language == "de"
    with dynamodb_operations() as operations:
        reply = api.post(f"/notices/{notice_id}/updates", {"body": {"de": "Behoben."}, "status": "resolved"})
    assert reply.status == 202 and "BatchGetItem" not in operations

    draft = create(api, OUTAGE)["notice_id"]
    NoticeItem(keys.notice(tenant_id, draft), keys.NOTICE_SK).update([NoticeItem.language.remove()])
    with dynamodb_operations() as operations:
        assert api.patch(f"/notices/{draft}", {"title": {"de": "Störung Festnetz"}}).status == 200
    assert operations == ["GetItem", "UpdateItem", "Query", "BatchGetItem", "TransactWriteItems"]
    with dynamodb_operations() as operations:
        assert api.patch(f"/notices/{draft}", {"body": {"de": "Keine Anrufe."}}).status == 200
    assert operations == ["GetItem", "UpdateItem", "Query", "TransactWriteItems"]


def test_empty_deliveries_of_a_published_notice_are_one_query(api, other_api, clock):
    """The publication writes the head of the notice's deliveries: the first page reads it with
    the batches. A draft has none (its empty page reads the notice too), nor has a missing or
    another tenant's notice: a 404."""
    published = publish(api, OUTAGE)
    with dynamodb_operations() as operations:
        reply = api.get(f"/notices/{published}/deliveries")
    assert (reply.status, reply.json["items"], reply.json["next_cursor"]) == (200, [], None)
    assert operations == ["GetItem", "Query"]
    with dynamodb_operations() as operations:
        reply = api.get(f"/notices/{published}/deliveries?event=update-001")
    assert (reply.status, reply.json["items"]) == (200, [])
    assert operations == ["GetItem", "Query", "GetItem"]  # an event's range holds no head
    draft = create(api, OUTAGE)["notice_id"]
    with dynamodb_operations() as operations:
        reply = api.get(f"/notices/{draft}/deliveries")
    assert (reply.status, reply.json["items"]) == (200, [])
    assert operations == ["GetItem", "Query", "GetItem"]
    assert api.get("/notices/ntc_0123456789abcdef/deliveries").status == 404
    assert other_api.get(f"/notices/{published}/deliveries").status == 404
    assert api.delete(f"/notices/{draft}").status == 204
    assert api.get(f"/notices/{draft}/deliveries").status == 404


def test_another_tenants_notice_is_a_404(api, other_api, clock):
    notice = create(api, OUTAGE)
    path = f"/notices/{notice['notice_id']}"
    for reply in (other_api.get(path), other_api.post(path + "/publish"), other_api.patch(path, {"severity": "info"}),
                  other_api.delete(path), other_api.get(path + "/deliveries"), other_api.get(path + "/coverage")):
        assert reply.status == 404, reply.json
    assert other_api.get("/notices").json["items"] == []


def test_drafts_are_edited_with_versions_and_deleted(api, clock):
    notice = create(api, OUTAGE)
    path = f"/notices/{notice['notice_id']}"
    edited = api.patch(path, {"severity": "minor", "version": 1})
    assert edited.status == 200 and edited.json["severity"] == "minor" and edited.json["version"] == 2
    assert api.patch(path, {"severity": "major", "version": 1}).status == 409
    assert api.delete(path, headers={"If-Match": "1"}).status == 409
    assert api.delete(path).status == 204
    assert api.get(path).status == 404


def test_list_filters_by_type_status_and_time_and_pages(api, clock):
    outage = create(api, OUTAGE)
    for days in (2, 5, 9):
        create(api, maintenance(start=T0 + timedelta(days=days)))
    everything = api.get("/notices").json["items"]
    assert len(everything) == 4
    assert [n["type"] for n in api.get("/notices?type=outage").json["items"]] == ["outage"]
    assert len(api.get("/notices?status=draft").json["items"]) == 4
    window = api.get(f"/notices?type=maintenance&from={at(T0 + timedelta(days=4))}&to={at(T0 + timedelta(days=6))}")
    assert [n["starts_at"][:10] for n in window.json["items"]] == ["2026-12-06"]
    first = api.get("/notices?limit=3").json
    second = api.get(f"/notices?limit=3&cursor={first['next_cursor']}").json
    assert len(first["items"]) == 3 and len(second["items"]) == 1 and second["next_cursor"] is None
    assert outage["notice_id"] in {n["notice_id"] for n in first["items"] + second["items"]}
    assert api.get("/notices?cursor=garbage").status == 400


def test_publishing_an_outage_opens_it_writes_one_event_and_answers_coverage(api, clock, chalice_client):
    """Publishing answers the coverage pending; the fan-out counts it (the same as a dry run) and
    stores it on the notice."""
    from tests.functional.mail_helpers import drain
    from tests.functional.test_accounts import onboarded

    active = onboarded(api)
    add_contact(api, active["account_id"], "tech@muster.ch", notifications=["outage"])
    notice = create(api, OUTAGE)
    path = f"/notices/{notice['notice_id']}"
    dry = api.post(path + "/publish?dry_run=true")
    assert dry.status == 200 and dry.json["dry_run"] is True and dry.json["coverage_status"] == "computed"
    coverage = dry.json["coverage"]
    assert (coverage["affected_accounts"], coverage["recipients"], coverage["unreached_accounts"]) == (1, 1, 0)
    assert dry.json["coverage"]["by_language"] == {"de": 1}
    assert api.get(path).json["status"] == "draft" and events(api, notice["notice_id"]) == []
    reply = api.post(path + "/publish")
    assert reply.status == 202, reply.json
    assert reply.json["notice"]["status"] == "open"
    assert reply.json["notice"]["starts_at"] == "2026-12-01T08:00:00.000Z"
    assert (reply.json["coverage"], reply.json["coverage_status"], reply.json["notice"]["coverage"]) == (
        None, "pending", None)
    assert events(api, notice["notice_id"]) == ["published"]
    assert drain(chalice_client, "notice_fanout", "roster-notice-fanout") == 1
    stored = api.get(path).json["coverage"]
    assert stored == {**{k: v for k, v in coverage.items() if k != "unreached"}, "computed_at": stored["computed_at"]}
    assert api.post(path + "/publish").status == 409
    assert api.patch(path, {"affected": {"all": True}}).status == 409


def test_publishing_costs_the_same_requests_whatever_the_audience(api, clock):
    """One account or thirty, named or all: the same four requests (the API key, the tenant's
    mail-request counter, the notice with its events, one transaction), whatever the audience:
    the fan-out counts the coverage, and the answer is built from what was written, not read
    back."""
    from chalicelib import bootstrap
    from tests.functional.notice_helpers import World

    world = World.__new__(World)
    world.db, world.tenant_id = bootstrap.get_repositories(), api.get("/tenant").json["tenant_id"]
    accounts = [world.account() for _ in range(30)]
    for account in accounts:
        world.contact(account, notifications=["outage"])
    counts = []
    for affected in ({"account_ids": accounts[:1]}, {"account_ids": accounts}, {"all": True}):
        notice = create(api, {**OUTAGE, "affected": affected})
        with dynamodb_operations() as operations:
            assert api.post(f"/notices/{notice['notice_id']}/publish").status == 202
        counts.append(len(operations))
    assert counts == [4, 4, 4], counts


def test_a_changes_answer_is_the_notice_as_a_read_after_it_shows_it(api, clock):
    """The writes answer from what they read and wrote (no read-back): the same as a GET after them."""
    path = f"/notices/{create(api, OUTAGE)['notice_id']}"
    answers = [api.post(f"{path}/publish").json["notice"]]
    answers.append(api.post(f"{path}/updates", {"body": {"de": "Wir arbeiten daran."}}).json)
    answers.append(api.patch(path, {"title": {"de": "Neuer Titel"}},
                             headers={"If-Match": str(answers[-1]["version"])}).json)
    assert answers[-1] == api.get(path).json
    answers.append(api.post(f"{path}/resolve", {"body": {"de": "Behoben."}}).json)
    assert answers[-1] == api.get(path).json
    assert [a["version"] for a in answers] == [2, 3, 4, 5]
    assert [len(a["events"]) for a in answers] == [1, 2, 2, 3]

    path = f"/notices/{create(api, maintenance())['notice_id']}"
    published = api.post(f"{path}/publish").json["notice"]
    assert published == api.get(path).json
    moved = api.patch(path, {"starts_at": at(T0 + timedelta(days=3)), "ends_at": at(T0 + timedelta(days=3, hours=1))},
                      headers={"If-Match": str(published["version"])}).json
    assert moved == api.get(path).json and [e["kind"] for e in moved["events"]] == ["published", "rescheduled"]
    assert api.post(f"{path}/cancel").json == api.get(path).json


def test_updates_resolve_and_the_status_rules(api, clock):
    path = f"/notices/{create(api, OUTAGE)['notice_id']}"
    assert api.post(path + "/updates", {"body": {"de": "Wir prüfen."}}).status == 409  # still a draft
    api.post(path + "/publish")
    reply = api.post(path + "/updates", {"body": {"de": "Ursache gefunden."}})
    assert reply.status == 202 and reply.json["status"] == "open"
    assert api.post(path + "/updates", {"body": {"en": "Found it."}}).fields() == {"body.de"}
    assert api.post(path + "/updates", {"body": {"de": "x"}, "status": "completed"}).status == 422
    assert api.post(path + "/cancel").status == 409  # only a maintenance is cancelled
    resolved = api.post(path + "/resolve", {"body": {"de": "Behoben."}})
    assert resolved.status == 202 and resolved.json["status"] == "resolved"
    assert resolved.json["ends_at"] == "2026-12-01T08:00:00.000Z"
    assert api.post(path + "/resolve").status == 409
    assert [e["event_key"] for e in resolved.json["events"]] == ["published", "update-001", "resolved"]
    assert resolved.json["events"][2]["body"] == {"de": "Behoben."}


def test_an_update_may_resolve(api, clock):
    path = f"/notices/{create(api, OUTAGE)['notice_id']}"
    api.post(path + "/publish")
    reply = api.post(path + "/updates", {"body": {"de": "Behoben."}, "status": "resolved"})
    assert reply.json["status"] == "resolved"
    assert [e["event_key"] for e in reply.json["events"]] == ["published", "update-001"]


# --- §2 the maintenance lifecycle ----------------------------------------------------------------

def publish(api, body) -> str:
    notice_id = create(api, body)["notice_id"]
    assert api.post(f"/notices/{notice_id}/publish").status == 202
    return notice_id


def test_reminders_start_and_end_each_once_in_order(api, clock, chalice_client):
    notice_id = publish(api, maintenance())  # starts in 48 h, reminders 24 h and 1 h before
    assert api.get(f"/notices/{notice_id}").json["status"] == "scheduled"
    assert events(api, notice_id) == ["published"]
    tick(chalice_client)
    assert events(api, notice_id) == ["published"]  # nothing due yet
    clock.advance(hours=24)
    tick(chalice_client)
    tick(chalice_client)  # the next run finds nothing new: no reminder twice
    assert events(api, notice_id) == ["published", "reminder-1440-202612030800"]
    clock.advance(hours=23)
    tick(chalice_client)
    clock.advance(hours=1)
    tick(chalice_client)
    notice = api.get(f"/notices/{notice_id}").json
    assert notice["status"] == "in_progress"
    clock.advance(hours=2)
    tick(chalice_client)
    notice = api.get(f"/notices/{notice_id}").json
    assert notice["status"] == "completed"
    assert [e["event_key"] for e in notice["events"]] == [
        "published", "reminder-1440-202612030800", "reminder-60-202612030800", "started", "completed"]
    assert {s["state"] for s in notice["schedule"]} == {"done"}
    clock.advance(days=30)
    assert tick(chalice_client)["notices"] == 0  # out of the due index


def test_catch_up_after_downtime_sends_the_latest_and_skips_the_rest(api, clock, chalice_client):
    notice_id = publish(api, maintenance())
    clock.advance(hours=47, minutes=30)  # the schedule was down: both reminders are due now
    tick(chalice_client)
    notice = api.get(f"/notices/{notice_id}").json
    assert [e["event_key"] for e in notice["events"]] == ["published", "reminder-60-202612030800"]
    states = {s["step"]: s["state"] for s in notice["schedule"]}
    assert states["reminder-1440-202612030800"] == "skipped"


def test_a_reminder_whose_moment_passed_by_more_than_its_offset_is_never_sent_late(api, clock, chalice_client):
    notice_id = publish(api, maintenance(hours=6))
    clock.advance(hours=49)  # down over the start: the 1 h reminder is 2 h late, more than its offset
    tick(chalice_client)
    notice = api.get(f"/notices/{notice_id}").json
    assert [e["event_key"] for e in notice["events"]] == ["published", "started"]
    assert notice["status"] == "in_progress"
    clock.advance(days=1)  # down over the end too
    tick(chalice_client)
    assert events(api, notice_id) == ["published", "started", "completed"]


def test_reminders_already_past_when_announced_are_not_sent(api, clock, chalice_client):
    notice_id = publish(api, maintenance(start=T0 + timedelta(hours=3)))  # the 24 h reminder is past
    states = {s["step"]: s["state"] for s in api.get(f"/notices/{notice_id}").json["schedule"]}
    assert states["reminder-1440-202612011100"] == "skipped"
    assert states["reminder-60-202612011100"] == "planned"


def test_rescheduling_replans_the_reminders_and_mails_a_rescheduled_notice(api, clock, chalice_client):
    notice_id = publish(api, maintenance())
    clock.advance(hours=24)
    tick(chalice_client)  # the 24 h reminder for the old start went out
    new_start = T0 + timedelta(days=7)
    reply = api.patch(f"/notices/{notice_id}", {"starts_at": at(new_start), "ends_at": at(new_start + timedelta(hours=2))})
    assert reply.status == 200, reply.json
    assert [e["event_key"] for e in reply.json["events"]][-1] == "rescheduled-003"
    assert reply.json["events"][-1]["detail"]["previous"]["starts_at"] == "2026-12-03T08:00:00.000Z"
    clock.advance(hours=24)  # the old start's 1 h reminder moment passes: nothing is sent for it
    tick(chalice_client)
    assert events(api, notice_id)[-1] == "rescheduled-003"
    clock.moment = new_start - timedelta(hours=23)
    tick(chalice_client)
    assert events(api, notice_id)[-1] == "reminder-1440-202612080800"
    assert api.patch(f"/notices/{notice_id}", {"type": "outage"}).status == 409
    past = {"starts_at": at(T0 - timedelta(hours=3)), "ends_at": at(T0 - timedelta(hours=1))}
    reply = api.patch(f"/notices/{notice_id}", past)
    assert reply.status == 422 and reply.fields() == {"ends_at"}


def test_a_move_within_the_same_minute_keeps_the_reminder_already_sent(api, clock, chalice_client):
    notice_id = publish(api, maintenance())  # starts 2026-12-03 08:00
    clock.moment = T0 + timedelta(days=2) - timedelta(minutes=59)
    tick(chalice_client)  # the 1 h reminder went out
    later = T0 + timedelta(days=2, seconds=40)
    reply = api.patch(f"/notices/{notice_id}", {"starts_at": at(later), "ends_at": at(later + timedelta(hours=2))})
    assert reply.status == 200, reply.json
    clock.moment = later - timedelta(minutes=59, seconds=30)
    tick(chalice_client)  # the reminder's lead time is still right to the minute: not sent again
    assert events(api, notice_id) == ["published", "reminder-60-202612030800", "rescheduled-003"]
    states = {s["step"]: s["state"] for s in api.get(f"/notices/{notice_id}").json["schedule"]}
    assert states == {"reminder-1440-202612030800": "skipped", "reminder-60-202612030800": "done",
                      "started": "planned", "completed": "planned"}


def test_cancel_stops_the_schedule_and_is_mailed(api, clock, chalice_client):
    notice_id = publish(api, maintenance())
    reply = api.post(f"/notices/{notice_id}/cancel", {"body": {"de": "Verschoben auf später."}})
    assert reply.status == 202 and reply.json["status"] == "cancelled"
    clock.advance(days=3)
    assert tick(chalice_client)["mailed"] == 0
    assert events(api, notice_id) == ["published", "cancelled"]
    assert api.post(f"/notices/{notice_id}/cancel").status == 409


def test_a_maintenance_can_be_started_and_completed_by_an_update(api, clock, chalice_client):
    notice_id = publish(api, maintenance())
    reply = api.post(f"/notices/{notice_id}/updates", {"body": {"de": "Wir beginnen früher."}, "status": "in_progress"})
    assert reply.json["status"] == "in_progress"
    clock.advance(hours=48)
    tick(chalice_client)  # the planned start is not mailed again
    assert events(api, notice_id) == ["published", "update-001"]
    clock.advance(hours=2)
    tick(chalice_client)
    assert api.get(f"/notices/{notice_id}").json["status"] == "completed"
    assert events(api, notice_id) == ["published", "update-001", "completed"]


# --- people ------------------------------------------------------------------------------------

def test_me_notices_shows_published_notices_of_the_persons_accounts_only(api, clock, account, chalice_client):
    from chalicelib import bootstrap
    from tests.functional.portal_helpers import trusted_issuer
    from tests.functional.test_portal import tenant_id_of

    with trusted_issuer() as issuer:
        bootstrap.override(clock=clock)
        _me_notices(api, account, issuer, tenant_id_of(api))


def _me_notices(api, account, issuer, tenant_id):
    other = api.post("/accounts", {"name": "Other AG"}).json
    add_contact(api, account["account_id"], "anna@muster.ch")
    mine = publish(api, maintenance([account["account_id"], other["account_id"]]))
    publish(api, maintenance([other["account_id"]]))
    create(api, OUTAGE)  # a draft: never shown
    everyone = publish(api, OUTAGE)
    anna = person_api(api, issuer, tenant_id, "anna@muster.ch")
    reply = anna.get("/me/notices")
    assert reply.status == 200, reply.json
    # latest first by their time: the maintenance in two days, then the outage of today
    assert [n["notice_id"] for n in reply.json["items"]] == [mine, everyone]
    assert reply.json["items"][0]["account_ids"] == [account["account_id"]]  # never the other account
    assert "coverage" not in reply.json["items"][0]
    assert api.get("/me/notices").status == 403
    # a page looks at a bounded number of notices; the cursor goes on from there
    from chalicelib.services import notices

    notices.MAX_SCANNED_FOR_PERSON, seen, cursor = 2, [], None
    try:
        for _ in range(5):
            page = anna.get("/me/notices?limit=5" + (f"&cursor={cursor}" if cursor else "")).json
            seen += [n["notice_id"] for n in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        notices.MAX_SCANNED_FOR_PERSON = 500
    assert seen == [mine, everyone]


def test_a_page_of_me_notices_is_empty_only_when_the_list_ends(api, clock, account, chalice_client, monkeypatch):
    """The newest notices concern other accounts only: the first page reads on past its bound until
    it finds one of the person's (it once answered no notice and a cursor)."""
    from chalicelib import bootstrap
    from chalicelib.services import notices
    from tests.functional.portal_helpers import trusted_issuer
    from tests.functional.test_portal import tenant_id_of

    with trusted_issuer() as issuer:
        bootstrap.override(clock=clock)
        other = api.post("/accounts", {"name": "Other AG"}).json["account_id"]
        add_contact(api, account["account_id"], "anna@muster.ch")
        mine = publish(api, maintenance([account["account_id"]], start=T0 + timedelta(days=1)))
        for day in (2, 3, 4):  # later, so listed first
            publish(api, maintenance([other], start=T0 + timedelta(days=day)))
        anna = person_api(api, issuer, tenant_id_of(api), "anna@muster.ch")
        monkeypatch.setattr(notices, "MAX_SCANNED_FOR_PERSON", 2)
        pages, cursor = [], None
        for _ in range(5):
            page = anna.get("/me/notices?limit=5" + (f"&cursor={cursor}" if cursor else "")).json
            pages.append(([n["notice_id"] for n in page["items"]], page["next_cursor"]))
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert pages[0][0] == [mine]  # past its bound, the page ends at its first find
    assert all(items or cursor is None for items, cursor in pages), pages
    assert [n for items, _ in pages for n in items] == [mine]
