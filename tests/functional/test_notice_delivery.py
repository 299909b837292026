"""Fan-out and delivery of notice events (issue 4 §4): batches of ≤ 50 sharing a language, resume
after a crash without duplicates or gaps, redelivery, throttling (botocore Stubber), the last
attempt, stale claims, the sweep, bounces, and the write and SES-call budgets."""
import json
import math
import zlib
from collections import Counter
from contextlib import contextmanager

import pytest

from chalicelib import bootstrap
from tests.functional.mail_helpers import drain, receive, sent_mails
from tests.functional.notice_helpers import Clock, World, batch_messages, batches, deliveries, delivery_service

MAIL, FANOUT = "roster-mail", "roster-notice-fanout"


@pytest.fixture
def world(aws):
    return World()


def audience(world, de: int, en: int, notice_type: str = "maintenance") -> list[str]:
    """`de` German and `en` English speakers, a few accounts each, all selecting the type."""
    people = []
    for language, count in (("de", de), ("en", en)):
        accounts = [world.account() for _ in range(max(count // 10, 1))]
        for index in range(count):
            people.append(world.contact(accounts[index % len(accounts)], language=language,
                                        notifications=[notice_type]))
    return sorted(people)


def send_all(service) -> int:
    """Runs every notice_batch message on the mail queue through send_batch, until none is left."""
    sent = 0
    while True:
        bodies = batch_messages()
        if not bodies:
            return sent
        for body in bodies:
            assert body["kind"] == "notice_batch"
            sent += service.send_batch(body["tenant_id"], body["notice_id"], body["batch"])


def test_fan_out_plans_batches_of_at_most_50_sharing_a_language(world):
    people = audience(world, de=120, en=30)
    notice_id, event_key = world.notice()
    service = delivery_service()

    assert service.fan_out(world.tenant_id, notice_id, event_key) == 4
    planned = batches(world, notice_id)
    assert [(b.language, len(b.recipients), b.status) for b in planned] == [
        ("de", 50, "queued"), ("de", 50, "queued"), ("de", 20, "queued"), ("en", 30, "queued")]
    assert [r["p"] for b in planned for r in b.recipients] == [
        p for language in ("de", "en") for p in people if p in {r["p"] for b in planned if b.language == language
                                                                for r in b.recipients}]
    assert [b.sk for b in planned] == [f"published#{n:05d}" for n in (1, 2, 3, 4)]
    messages = batch_messages()
    assert sorted(m["batch"] for m in messages) == [b.sk for b in planned]
    event = world.event(notice_id)
    assert (event.fanout, event.recipients, event.batches, event.pending_pk) == ("planned", 150, 4, None)

    assert sum(service.send_batch(m["tenant_id"], m["notice_id"], m["batch"]) for m in messages) == 150
    assert len(sent_mails()) == 4  # Σ ⌈n/50⌉ per language = 3 + 1
    event = world.event(notice_id)
    assert (event.sent, event.failed, event.suppressed) == (150, 0, 0)
    assert sorted(d.person_id for d in deliveries(world, notice_id)) == people


def test_batches_are_written_and_queued_while_the_people_are_still_read(world, monkeypatch):
    """1,000 readers of one language: the first ten full batches are written and queued before the
    last people are read (reads run a few ahead); the plan is the one a read of everyone at once
    gives."""
    from chalicelib.repositories.notice_delivery import AudienceReads, NoticeDeliveryRepository

    people = audience(world, de=1000, en=0)
    notice_id, event_key = world.notice()
    steps = []
    read, write = AudienceReads.people, NoticeDeliveryRepository.put_batches
    monkeypatch.setattr(AudienceReads, "people", lambda self, t, ids: steps.append(("read", len(ids))) or read(self, t, ids))
    monkeypatch.setattr(NoticeDeliveryRepository, "put_batches",
                        lambda self, items: steps.append(("write", len(items))) or write(self, items))
    assert delivery_service().fan_out(world.tenant_id, notice_id, event_key) == 20
    assert sorted(steps) == sorted([("read", 100)] * 10 + [("write", 10)] * 2)
    assert steps.index(("write", 10)) < len(steps) - 2 and steps[-1] == ("write", 10)
    assert steps[:5] == [("read", 100)] * 5  # ten batches need 500 people
    planned = batches(world, notice_id)
    assert [r["p"] for b in planned for r in b.recipients] == people
    assert [len(b.recipients) for b in planned] == [50] * 20 and len(batch_messages()) == 20


def test_a_batch_stores_its_recipients_packed_as_one_compressed_binary(world):
    audience(world, de=50, en=0)
    notice_id, event_key = world.notice()
    delivery_service().fan_out(world.tenant_id, notice_id, event_key)
    [planned] = batches(world, notice_id)

    import boto3

    from chalicelib.settings import get_settings

    raw = boto3.client("dynamodb").get_item(TableName=get_settings().table_name,
                                            Key={"pk": {"S": planned.pk}, "sk": {"S": planned.sk}})["Item"]
    assert set(raw["recipients"]) == {"B"} and set(raw["accounts"]) == {"B"}
    unpacked = json.loads(zlib.decompress(raw["recipients"]["B"]))
    assert unpacked == planned.recipients and len(unpacked) == 50
    assert {"p", "e", "n", "a"} <= set(unpacked[0])
    assert json.loads(zlib.decompress(raw["accounts"]["B"])) == planned.accounts
    packed = len(raw["recipients"]["B"]) + len(raw["accounts"]["B"])
    as_json = len(json.dumps(unpacked)) + len(json.dumps(planned.accounts))
    assert packed < as_json / 2  # what the claim and the settle no longer rewrite


def test_the_mail_names_every_account_and_carries_the_preferences_link(world):
    anna = world.person(first_name="Anna", last_name="Muster", language="fr")
    first, second = world.account(name="Muster AG"), world.account(name="Beispiel GmbH")
    for account in (first, second):
        world.member(account, anna, notifications=["maintenance"])
    notice_id, event_key = world.notice(title={"de": "Router-Wechsel"}, body={"de": "Wir ersetzen die Router."})
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)

    [mail] = sent_mails()
    assert mail.template == "roster-notice-fr" and mail.source == "Alpine Telecom <no-reply@mail.roster.test>"
    data = json.loads(mail.template_data)
    assert data["title"] == "Router-Wechsel"  # no French text: the tenant's default language
    assert data["headline"] == "Maintenance planifiée" and data["severity_label"] == "Majeure"
    assert data["period"] == "Du 2026-12-02 22:00 UTC au 2026-12-03 02:00 UTC"
    assert data["name"] == "Anna Muster"
    assert data["accounts_text"] == ", ".join(f"{name} ({aid})" for aid, name in sorted(
        [(first, "Muster AG"), (second, "Beispiel GmbH")]))
    assert data["preferences_url"] == f"https://roster.example/preferences/{world.tenant_id}.{anna}?type=maintenance"
    [delivery] = deliveries(world, notice_id)
    assert delivery.account_ids == sorted([first, second]) and delivery.language == "fr"


@pytest.mark.parametrize("k", [0, 2, 4])
def test_a_fan_out_killed_after_k_batches_resumes_without_duplicates_or_gaps(world, monkeypatch, k):
    from chalicelib.repositories.notice_delivery import NoticeDeliveryRepository
    from chalicelib.services import notice_delivery

    people = audience(world, de=130, en=70)  # 5 batches
    notice_id, event_key = world.notice()
    service = delivery_service()
    original, written = NoticeDeliveryRepository.put_batches, []

    def dies_after_k(self, items):
        if len(written) >= k:
            raise SystemExit("Lambda killed mid fan-out")
        original(self, items)
        written.extend(item.sk for item in items)

    monkeypatch.setattr(notice_delivery, "BATCHES_A_WRITE", 2)  # written two at a time
    monkeypatch.setattr(NoticeDeliveryRepository, "put_batches", dies_after_k)
    with pytest.raises(SystemExit):
        service.fan_out(world.tenant_id, notice_id, event_key)
    monkeypatch.undo()
    assert len(batches(world, notice_id)) == k and world.event(notice_id).fanout == "planning"

    service.fan_out(world.tenant_id, notice_id, event_key)  # SQS delivers the message again
    planned = batches(world, notice_id)
    held = [r["p"] for b in planned for r in b.recipients]
    assert sorted(held) == people  # every person exactly once
    assert all(len(b.recipients) <= 50 and len({b.language}) == 1 for b in planned)
    event = world.event(notice_id)
    assert (event.fanout, event.recipients, event.batches) == ("planned", 200, len(planned))

    assert send_all(service) == 200
    assert Counter(d.person_id for d in deliveries(world, notice_id)) == Counter(people)
    destinations = [d for mail in sent_mails() for d in mail.destinations]
    assert len(destinations) == 200


def test_a_planned_fan_out_delivered_again_only_requeues_its_queued_batches(world):
    audience(world, de=60, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    [first, second] = batch_messages()
    service.send_batch(first["tenant_id"], first["notice_id"], first["batch"])

    assert service.fan_out(world.tenant_id, notice_id, event_key) == 1
    assert [m["batch"] for m in batch_messages()] == [second["batch"]]
    assert len(batches(world, notice_id)) == 2


def test_concurrent_fan_outs_plan_each_person_once(world, monkeypatch, atomic_moto):
    from chalicelib.domain.errors import Contention
    from chalicelib.services.audience import Audience
    from tests.functional.conftest import run_together

    people = audience(world, de=110, en=0)
    notice_id, event_key = world.notice()
    services = [delivery_service(), delivery_service()]
    outcomes = run_together([lambda s=s: s.fan_out(world.tenant_id, notice_id, event_key) for s in services],
                            monkeypatch, first_read=(Audience, "compute"))
    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    [error] = [value for kind, value in outcomes if kind == "error"]
    assert isinstance(error, Contention)

    services[0].fan_out(world.tenant_id, notice_id, event_key)  # the loser's retry
    planned = batches(world, notice_id)
    assert sorted(r["p"] for b in planned for r in b.recipients) == people
    send_all(services[0])
    assert sorted(d.person_id for d in deliveries(world, notice_id)) == people
    assert sum(len(mail.destinations) for mail in sent_mails()) == 110


def test_a_redelivered_batch_sends_nothing_twice(world):
    audience(world, de=10, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    [message] = batch_messages()

    assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 10
    assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 0
    assert len(sent_mails()) == 1 and world.event(notice_id).sent == 10


class RequestCounter(Counter):
    """DynamoDB requests by operation, from botocore's parameters."""

    def __call__(self, model=None, **_):
        self[model.name] += 1


def counting_requests():
    return counting(RequestCounter())


def planned_keys(world, notice_id) -> list[tuple[str, str, str]]:
    return [(world.tenant_id, notice_id, b.sk) for b in batches(world, notice_id)]


def test_the_next_batch_is_read_with_the_suppressions_and_claimed_in_the_settle(world):
    """From the second batch of a worker's SQS batch on: 3 round trips a batch instead of 4."""
    audience(world, de=100, en=50)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    first, second, third = planned_keys(world, notice_id)

    with counting_requests() as requests:
        assert service.send_batch(*first, then=second) == 50
        assert {b.sk: b.status for b in batches(world, notice_id)} == {
            first[2]: "sent", second[2]: "sending", third[2]: "queued"}
        assert service.send_batch(*second, then=third) == 50
        assert service.send_batch(*third) == 50
    # the first claim only; one BatchGetItem (suppressions + next batch) and one settle a batch
    assert (requests["UpdateItem"], requests["BatchGetItem"], requests["TransactWriteItems"]) == (1, 3, 3)
    assert [b.status for b in batches(world, notice_id)] == ["sent"] * 3
    assert len(sent_mails()) == 3 and world.event(notice_id).sent == 150
    assert sorted(d.person_id for d in deliveries(world, notice_id)) == sorted(
        r["p"] for b in batches(world, notice_id) for r in b.recipients)
    assert service.send_batch(*second) == 0  # redelivered: sends nothing twice


def fanned_out(world, de: int, en: int):
    """(a delivery service, the notice, its planned batch keys) for a fanned-out notice."""
    audience(world, de=de, en=en)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    return service, notice_id, planned_keys(world, notice_id)


def suppress(email: str) -> None:
    bootstrap.get_repositories().mail.suppress(email, "bounced", "2026-11-01T00:00:00.000Z")


def test_a_prepared_worker_reads_the_suppression_list_once_and_the_next_batches_at_once(world):
    """`begin` (the mail handler's, for an SQS batch): two round trips a batch, SES and the settle."""
    service, notice_id, (first, second, third) = fanned_out(world, de=100, en=50)
    blocked = batches(world, notice_id)[1].recipients[7]
    suppress(blocked["e"])
    suppress("someone.else@example.org")

    with counting_requests() as requests:
        service.begin([first, second, third])
        assert service.send_batch(*first, then=second) == 50
        assert service.send_batch(*second, then=third) == 49
        assert service.send_batch(*third) == 50
        service.release_held()
    # the list (Query), the next two batches (BatchGetItem), the first claim, a settle a batch
    assert (requests["Query"], requests["BatchGetItem"], requests["UpdateItem"],
            requests["TransactWriteItems"]) == (1, 1, 1, 3)
    statuses = {d.person_id: (d.status, d.detail) for d in deliveries(world, notice_id)}
    assert statuses.pop(blocked["p"]) == ("suppressed", "bounced")
    assert set(statuses.values()) == {("sent", None)} and len(statuses) == 149
    assert blocked["e"] not in json.dumps([mail.destinations for mail in sent_mails()])
    assert (service._prefetched, service._suppression_list) == ({}, None)  # forgotten as the invocation ends


def test_a_next_batch_read_by_begin_and_claimed_by_another_worker_lets_the_settle_go_alone(world):
    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    rival = delivery_service()
    service.begin([first, second])
    assert service._prefetched[second].status == "queued"
    rival._repo.claim(*second, "rival", "2026-01-01T00:00:00Z")  # after `begin` read it

    assert service.send_batch(*first, then=second) == 50
    statuses = {b.sk: (b.status, b.attempt) for b in batches(world, notice_id)}
    assert statuses[second[2]] == ("sending", "rival") and statuses[first[2]][0] == "sent"
    assert service._held == {} and world.event(notice_id).sent == 50
    assert service.send_batch(*second) == 0  # the rival's: not sent here


def test_a_long_suppression_list_is_checked_address_by_address(world, monkeypatch):
    from chalicelib.services import notice_delivery

    monkeypatch.setattr(notice_delivery, "SUPPRESSION_LIST_LIMIT", 1)
    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    blocked = batches(world, notice_id)[0].recipients[0]
    suppress(blocked["e"])
    suppress("someone.else@example.org")

    with counting_requests() as requests:
        service.begin([first, second])
        assert service.send_batch(*first, then=second) == 49
        assert service.send_batch(*second) == 50
        service.release_held()
    # the list's Query finds it too long; the next batch read at once; each batch's addresses
    assert (requests["Query"], requests["BatchGetItem"]) == (1, 3)
    assert {d.person_id: d.status for d in deliveries(world, notice_id)}[blocked["p"]] == "suppressed"


def test_the_suppression_list_is_read_again_once_it_is_older_than_its_time(world):
    from chalicelib.services.notice_delivery import SUPPRESSION_LIST_SECONDS

    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    now = [1000.0]
    service._monotonic = lambda: now[0]
    service.begin([first, second])
    blocked = batches(world, notice_id)[1].recipients[0]
    suppress(blocked["e"])  # after the list was read

    with counting_requests() as requests:
        assert service.send_batch(*first, then=second) == 50
        now[0] += SUPPRESSION_LIST_SECONDS + 1  # a paced worker, say
        assert service.send_batch(*second) == 49
    assert requests["Query"] == 1 and requests["BatchGetItem"] == 0
    assert {d.person_id: d.status for d in deliveries(world, notice_id)}[blocked["p"]] == "suppressed"


def test_a_worker_whose_preparation_failed_reads_for_each_batch(world, monkeypatch):
    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    blocked = batches(world, notice_id)[1].recipients[0]
    suppress(blocked["e"])

    def throttled(limit):
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(bootstrap.get_repositories().mail, "suppression_list", throttled)
    with counting_requests() as requests:
        service.begin([first, second])  # logged, not raised
        assert service.send_batch(*first, then=second) == 50
        assert service.send_batch(*second) == 49
    # as without `begin`: the suppressions and the next batch in one BatchGetItem a batch
    assert (requests["BatchGetItem"], requests["UpdateItem"], requests["TransactWriteItems"]) == (2, 1, 2)
    assert world.event(notice_id).sent == 99 and world.event(notice_id).suppressed == 1


def test_a_next_batch_that_is_not_queued_is_left_alone(world):
    audience(world, de=100, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    first, second = planned_keys(world, notice_id)
    assert service.send_batch(*second) == 50

    assert service.send_batch(*first, then=second) == 50
    assert service.send_batch(*second) == 0
    assert len(sent_mails()) == 2 and world.event(notice_id).sent == 100


def test_a_next_batch_claimed_by_another_worker_after_the_read_lets_the_settle_go_alone(world, monkeypatch):
    audience(world, de=100, en=0)
    notice_id, event_key = world.notice()
    service, rival = delivery_service(), delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    first, second = planned_keys(world, notice_id)
    read = service._repo.suppressed_and_next

    def read_then_lose_the_race(emails, upcoming):
        answer = read(emails, upcoming)
        assert answer[1].status == "queued"
        rival._repo.claim(*upcoming, "rival", "2026-01-01T00:00:00Z")
        return answer

    monkeypatch.setattr(service._repo, "suppressed_and_next", read_then_lose_the_race)
    assert service.send_batch(*first, then=second) == 50
    statuses = {b.sk: (b.status, b.attempt) for b in batches(world, notice_id)}
    assert statuses[second[2]] == ("sending", "rival") and statuses[first[2]][0] == "sent"
    assert service._held == {} and world.event(notice_id).sent == 50


def test_a_claim_held_ahead_goes_back_to_the_queue_when_its_turn_does_not_come(world):
    audience(world, de=100, en=50)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    batch_messages()  # the fan-out's messages, taken off the queue
    first, second, third = planned_keys(world, notice_id)

    service.send_batch(*first, then=second)
    service.release_held()  # the invocation ends without sending it
    assert [b.status for b in batches(world, notice_id)] == ["sent", "queued", "queued"] and service._held == {}
    service.send_batch(*second, then=third)
    service.defer(*third)  # paced and out of time: given back, its message queued again
    assert [b.status for b in batches(world, notice_id)] == ["sent", "sent", "queued"]
    assert [m["batch"] for m in batch_messages()] == [third[2]]
    assert service.send_batch(*third) == 50 and world.event(notice_id).sent == 150


def test_a_held_claim_that_cannot_be_released_is_left_to_the_sweep(world, monkeypatch):
    audience(world, de=100, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    first, second = planned_keys(world, notice_id)
    service.send_batch(*first, then=second)

    def unavailable(*_):
        raise RuntimeError("ServiceUnavailable")

    monkeypatch.setattr(service._repo, "release", unavailable)
    service.release_held()  # the invocation's result stands
    assert service._held == {}
    assert [b.status for b in batches(world, notice_id)] == ["sent", "sending"]  # stale later: the sweep's


def test_suppressed_addresses_are_settled_without_sending(world):
    account = world.account()
    kept = world.contact(account)
    blocked = world.person(email="blocked@example.com")
    world.member(account, blocked)
    bootstrap.get_repositories().mail.suppress("blocked@example.com", "bounced", "2026-11-01T00:00:00.000Z")
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)

    [mail] = sent_mails()
    assert mail.destinations["ToAddresses"] == [f"{kept}@example.com"]  # one recipient: SendTemplatedEmail
    statuses = {d.person_id: (d.status, d.detail) for d in deliveries(world, notice_id)}
    assert statuses == {kept: ("sent", None), blocked: ("suppressed", "bounced")}
    event = world.event(notice_id)
    assert (event.sent, event.suppressed) == (1, 1)


# --- throttling, with botocore's Stubber on an SES client -----------------------------------------

@contextmanager
def stubbed_ses():
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("ses", region_name="eu-central-1")
    with Stubber(client) as stubber:
        yield client, stubber


def throttle(stubber, times: int) -> None:
    for _ in range(times):
        stubber.add_client_error("send_bulk_templated_email", service_error_code="Throttling",
                                 service_message="Maximum sending rate exceeded.", http_status_code=400)


def accept(stubber, count: int, prefix: str = "msg") -> None:
    stubber.add_response("send_bulk_templated_email",
                         {"Status": [{"Status": "Success", "MessageId": f"{prefix}-{i}"} for i in range(count)]})


@contextmanager
def throttled_batch(world, times: int, sleeps: list | None = None):
    """A planned batch of 20 and a service whose SES client is stubbed to throttle `times` calls."""
    audience(world, de=20, en=0)
    notice_id, event_key = world.notice()
    with stubbed_ses() as (client, stubber):
        service = delivery_service(ses_client=client, sleeps=sleeps)
        service.fan_out(world.tenant_id, notice_id, event_key)
        [message] = batch_messages()
        throttle(stubber, times)
        yield service, stubber, notice_id, message


def test_throttling_is_retried_with_backoff_and_no_mail_is_lost(world):
    sleeps: list = []
    with throttled_batch(world, 2, sleeps) as (service, stubber, notice_id, message):
        accept(stubber, 20)
        assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 20
        stubber.assert_no_pending_responses()
    assert sleeps == [0.2, 0.4]  # exponential backoff (jitter pinned to its ceiling)
    assert {d.status for d in deliveries(world, notice_id)} == {"sent"}
    assert world.event(notice_id).sent == 20


def test_throttling_that_persists_gives_the_batch_back_to_the_queue(world):
    from chalicelib.adapters.ses import TransientMailError

    with throttled_batch(world, 4) as (service, stubber, notice_id, message):
        with pytest.raises(TransientMailError):
            service.send_batch(world.tenant_id, notice_id, message["batch"])
        [batch] = batches(world, notice_id)
        assert batch.status == "queued" and deliveries(world, notice_id) == []

        accept(stubber, 20)  # SQS redelivers later
        assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 20
    assert world.event(notice_id).sent == 20 and batches(world, notice_id)[0].status == "sent"


def test_on_the_last_attempt_the_batch_fails_visibly(world):
    from chalicelib.adapters.ses import TransientMailError

    with throttled_batch(world, 4) as (service, stubber, notice_id, message):
        with pytest.raises(TransientMailError):
            service.send_batch(world.tenant_id, notice_id, message["batch"], last_attempt=True)
    [batch] = batches(world, notice_id)
    assert batch.status == "failed" and batch.pending_pk is None
    assert {(d.status, d.detail) for d in deliveries(world, notice_id)} == {
        ("failed", "gave up after the queue's last attempt")}
    event = world.event(notice_id)
    assert (event.sent, event.failed) == (0, 20)


def test_the_token_bucket_paces_recipients_at_the_rate_share_of_each_worker(world):
    audience(world, de=100, en=0)
    notice_id, event_key = world.notice()
    sleeps: list = []
    service = delivery_service(max_send_rate=14, worker_concurrency=2, sleeps=sleeps)  # 7 mails/s a worker
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)
    assert service.bucket.rate == 7
    assert sum(sleeps) == pytest.approx((100 - 7) / 7, abs=1.0)  # a one-second burst, then 7/s


# --- claims that outlive their worker, the sweep ---------------------------------------------------

@pytest.mark.parametrize("dies", ["killed", "DynamoDB refuses"])
def test_a_batch_stuck_in_sending_is_never_resent_and_the_sweep_settles_it(world, monkeypatch, dies):
    """After SES accepted, the settle (records, batch, counters: one transaction) never happened."""
    from chalicelib.repositories.notice_delivery import NoticeDeliveryRepository
    from chalicelib.services import notice_delivery

    audience(world, de=10, en=0)
    notice_id, event_key = world.notice()
    clock = Clock()
    service = delivery_service(clock)
    service.fan_out(world.tenant_id, notice_id, event_key)
    [message] = batch_messages()
    error = SystemExit("Lambda killed") if dies == "killed" else RuntimeError("ProvisionedThroughputExceeded")

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(NoticeDeliveryRepository, "settle_batch", fails)
    with pytest.raises(type(error)):
        service.send_batch(world.tenant_id, notice_id, message["batch"])
    monkeypatch.undo()
    assert len(sent_mails()) == 1
    assert deliveries(world, notice_id) == []  # nothing of the settle was written
    assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 0  # redelivered: nothing
    assert service.send_batch(world.tenant_id, notice_id, message["batch"], last_attempt=True) == 0
    assert len(sent_mails()) == 1

    clock.advance(minutes=10)
    assert service.sweep() == {"fanouts": 0, "batches": 0, "unconfirmed": 0}  # may still be working
    clock.advance(minutes=6)
    assert service.sweep() == {"fanouts": 0, "batches": 0, "unconfirmed": 1}
    assert len(sent_mails()) == 1
    records = deliveries(world, notice_id)
    assert len(records) == 10 and {(d.status, d.detail) for d in records} == {("failed", notice_delivery.UNCONFIRMED)}
    event = world.event(notice_id)
    assert (event.sent, event.failed) == (0, 10)
    assert [b.status for b in batches(world, notice_id)] == ["failed"]
    assert service.sweep()["unconfirmed"] == 0


def test_an_error_before_ses_releases_the_claim_and_the_retry_sends_once(world, monkeypatch):
    audience(world, de=10, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    [message] = batch_messages()

    def throttled(emails, upcoming):
        raise RuntimeError("ProvisionedThroughputExceeded")

    monkeypatch.setattr(service._repo, "suppressed_and_next", throttled)
    with pytest.raises(RuntimeError):
        service.send_batch(world.tenant_id, notice_id, message["batch"])
    monkeypatch.undo()
    assert [b.status for b in batches(world, notice_id)] == ["queued"] and sent_mails() == []
    assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 10
    assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 0
    assert len(sent_mails()) == 1 and {d.status for d in deliveries(world, notice_id)} == {"sent"}


def test_the_sweep_requeues_lost_fan_outs_and_batches(world):
    audience(world, de=60, en=0)
    notice_id, event_key = world.notice()
    clock = Clock()
    service = delivery_service(clock)
    assert service.sweep() == {"fanouts": 0, "batches": 0, "unconfirmed": 0}  # too young
    clock.advance(minutes=29)
    assert service.sweep()["fanouts"] == 0  # a fan-out may still run (its message is in flight)
    clock.advance(minutes=2)  # past the fan-out queue's visibility timeout (30 minutes)
    assert service.sweep()["fanouts"] == 1  # the publish's message was lost
    [fanout] = [json.loads(m["Body"]) for m in receive(FANOUT)]
    assert fanout == {"tenant_id": world.tenant_id, "notice_id": notice_id, "event_key": event_key}

    service.fan_out(**fanout)
    batch_messages()  # lost too
    clock.advance(minutes=5)
    assert service.sweep()["batches"] == 0  # may still wait behind others in the mail queue
    clock.advance(minutes=2)  # past the mail queue's visibility timeout (6 minutes)
    assert service.sweep() == {"fanouts": 0, "batches": 2, "unconfirmed": 0}
    assert send_all(service) == 60
    assert service.sweep() == {"fanouts": 0, "batches": 0, "unconfirmed": 0}


# --- bounces and complaints ------------------------------------------------------------------------

def test_a_bounce_updates_the_delivery_and_the_event_figures_once(world):
    from chalicelib.models.entities import PersonItem
    from chalicelib.models import keys

    people = audience(world, de=3, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)
    delivery = next(d for d in deliveries(world, notice_id) if d.person_id == people[0])

    assert service.record_feedback(delivery.ses_message_id, "bounced") is True
    assert service.record_feedback(delivery.ses_message_id, "bounced") is True  # SNS delivers it again
    assert service.record_feedback("unknown-message", "bounced") is False
    statuses = {d.person_id: d.status for d in deliveries(world, notice_id)}
    assert statuses == {people[0]: "bounced", people[1]: "sent", people[2]: "sent"}
    event = world.event(notice_id)
    assert (event.sent, event.bounced) == (2, 1)
    person = PersonItem.get(keys.person(world.tenant_id, people[0]), keys.PERSON_SK)
    assert person.undeliverable == "bounced"


def test_ses_feedback_through_the_mail_service_reaches_the_notice_delivery(world):
    from chalicelib.services.mail import MailService

    account = world.account()
    person = world.person(email="complaint@simulator.amazonses.com")
    world.member(account, person)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)
    [delivery] = deliveries(world, notice_id)

    mail = MailService(bootstrap.get_repositories(), Clock(), None, None, "mail.roster.test", bootstrap.get_logger())
    mail.on_other_message(service.record_feedback)
    mail.record_feedback({"notificationType": "Complaint", "mail": {"messageId": delivery.ses_message_id},
                          "complaint": {"complainedRecipients": [{"emailAddress": "complaint@simulator.amazonses.com"}]}})
    [delivery] = deliveries(world, notice_id)
    assert delivery.status == "complained" and delivery.detail == "SES complaint"
    event = world.event(notice_id)
    assert (event.sent, event.complained) == (0, 1)
    assert bootstrap.get_repositories().mail.suppressed(["complaint@simulator.amazonses.com"])


# --- the deliveries list ------------------------------------------------------------------------------

class QueryCounter:
    def __init__(self):
        self.queries = 0

    def __call__(self, model=None, **_):
        self.queries += model.name == "Query"


def delivery_pages(world, notice_id: str, limit: int, status: str | None = None) -> list[tuple[list, str | None]]:
    """Every page of GET /notices/{id}/deliveries (the service behind it), following the cursors."""
    pages, cursor = [], None
    while True:
        rows, cursor = bootstrap.get_notice_service().deliveries(world.tenant_id, notice_id, None, status, limit,
                                                                 cursor)
        pages.append(([(row["person_id"], row["status"]) for row in rows], cursor))
        if cursor is None:
            return pages


def test_a_first_page_goes_on_into_the_delivery_records_when_no_batch_is_open(world):
    """Two delivered recipients: the first page lists them (it once answered [] and a cursor "d.");
    the batches' Query and one more."""
    people = audience(world, de=2, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    assert send_all(service) == 2
    with counting(QueryCounter()) as reads:
        first = bootstrap.get_notice_service().deliveries(world.tenant_id, notice_id, None, None, 100, None)
    assert ([row["person_id"] for row in first[0]], first[1]) == (people, None)
    assert reads.queries == 2  # the open batches, then the delivery records (the notice is a GetItem)
    assert delivery_pages(world, notice_id, 100, "queued") == [([], None)]
    by_one = delivery_pages(world, notice_id, 1, "sent")
    assert all(rows or cursor is None for rows, cursor in by_one), by_one
    assert [row for rows, _ in by_one for row in rows] == [(people[0], "sent"), (people[1], "sent")]


def test_no_page_of_deliveries_is_empty_unless_the_list_ends(world):
    """60 readers: a batch of 50 still queued, the batch of 10 sent. Whatever the page size, the
    pages hold every recipient once, queued ones first, and only a last page may be empty."""
    people = audience(world, de=60, en=0)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    [second] = [m for m in batch_messages() if m["batch"].endswith("#00002")]
    assert service.send_batch(second["tenant_id"], second["notice_id"], second["batch"]) == 10
    queued = {r["p"] for b in batches(world, notice_id) if b.status == "queued" for r in b.recipients}
    for limit in (1, 7, 50, 51, 60, 100):
        pages = delivery_pages(world, notice_id, limit)
        assert all(rows or cursor is None for rows, cursor in pages), (limit, [(len(r), c) for r, c in pages])
        listed = [row for rows, _ in pages for row in rows]
        assert sorted(person for person, _ in listed) == people, limit
        assert {person for person, status in listed[:50]} == queued and {s for _, s in listed[50:]} == {"sent"}
    assert delivery_pages(world, notice_id, 100) == [(listed, None)]  # one page: the batch and the records


# --- budgets ---------------------------------------------------------------------------------------

class WriteCounter:
    """DynamoDB item writes (Put/Update/Delete, each BatchWriteItem request item, each
    TransactWriteItems item but ConditionChecks) and requests, from botocore's parameters."""

    def __init__(self):
        self.items, self.requests = 0, Counter()

    def __call__(self, params=None, model=None, **_):
        name = model.name
        if name in ("PutItem", "UpdateItem", "DeleteItem"):
            self.items += 1
        elif name == "BatchWriteItem":
            self.items += sum(len(requests) for requests in params["RequestItems"].values())
        elif name == "TransactWriteItems":
            self.items += sum(1 for item in params["TransactItems"] if "ConditionCheck" not in item)
        else:
            return
        self.requests[name] += 1


@contextmanager
def counting(counter):
    """`counter` sees every DynamoDB request's parameters while the block runs."""
    client = bootstrap.get_repositories().connection.client
    client.meta.events.register("before-parameter-build.dynamodb", counter)
    try:
        yield counter
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", counter)


def counting_writes():
    return counting(WriteCounter())


@pytest.mark.parametrize("de, en", [(100, 50), (50, 50), (250, 0)])
def test_write_budget_and_ses_calls(world, de, en):
    audience(world, de=de, en=en)
    notice_id, event_key = world.notice()
    service = delivery_service()
    recipients = de + en
    with counting_writes() as writes:
        service.fan_out(world.tenant_id, notice_id, event_key)
        assert send_all(service) == recipients
    ses_calls = len(sent_mails())
    assert ses_calls == sum(math.ceil(n / 50) for n in (de, en) if n)
    # one delivery record each; per batch: its PutItem, the claim, the settle (batch + event); per event: 1
    assert writes.items == recipients + 4 * ses_calls + 1
    assert writes.items / recipients <= 1.1, writes.items / recipients
    print(f"\n{recipients} recipients: {writes.items} item writes ({writes.items / recipients:.3f}/recipient), "
          f"{sum(writes.requests.values())} write requests {dict(writes.requests)}, {ses_calls} SES calls")


# --- through the handlers ----------------------------------------------------------------------------

def test_the_fan_out_and_mail_handlers_deliver_a_notice(world, chalice_client):
    audience(world, de=55, en=5)
    notice_id, event_key = world.notice()
    bootstrap.get_notice_delivery()._fanout_queue.send({"tenant_id": world.tenant_id, "notice_id": notice_id,
                                                        "event_key": event_key})
    assert drain(chalice_client, "notice_fanout", FANOUT) == 1
    assert drain(chalice_client, "send_mail", MAIL) == 3
    assert sorted(m.template for m in sent_mails()) == ["roster-notice-de", "roster-notice-de", "roster-notice-en"]
    data = json.loads(sent_mails()[0].destinations[0]["ReplacementTemplateData"])
    assert "/preferences/" in data["preferences_url"] and data["preferences_url"].endswith("?type=maintenance")
    assert world.event(notice_id).sent == 60


class LambdaContext:
    def __init__(self, seconds_left: float):
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def run_send_mail(messages: list[dict], seconds_left: float) -> dict:
    """The send_mail handler, as Lambda calls it, with `messages` received from the mail queue."""
    import boto3

    import app
    from infra.local_stack.sqs_events import sqs_event

    sqs = boto3.client("sqs", region_name="eu-central-1")
    arn = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=MAIL)["QueueUrl"],
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return app.app.handler_map["send_mail"](sqs_event(messages, arn, "eu-central-1"), LambdaContext(seconds_left))


def test_the_mail_handler_claims_each_next_notice_batch_in_the_settle_before_it(world, chalice_client):
    audience(world, de=100, en=50)
    notice_id, event_key = world.notice()
    bootstrap.get_notice_delivery().fan_out(world.tenant_id, notice_id, event_key)
    messages = receive(MAIL)
    assert len(messages) == 3

    with counting_requests() as requests:
        result = run_send_mail(messages, 60)
    assert result == {"batchItemFailures": []}
    # prepared: the suppression list, the two next batches, the first claim, then SES and a settle a batch
    assert (requests["Query"], requests["BatchGetItem"], requests["UpdateItem"],
            requests["TransactWriteItems"]) == (1, 1, 1, 3)
    assert len(sent_mails()) == 3 and world.event(notice_id).sent == 150
    assert bootstrap.get_notice_delivery()._held == {}


@pytest.fixture
def paced(monkeypatch):
    """Workers paced at 10.1 s a batch, for this test only: the app's services are kept across
    tests, so they are built again after it, without the setting."""
    monkeypatch.setenv("ROSTER_SES_MAX_SEND_RATE", "1000")  # 500/s a worker: 10.1 s a batch with the margin
    bootstrap.reset()
    yield
    monkeypatch.undo()
    bootstrap.reset()


def paced_notice(world, recipients: int) -> str:
    """A notice to `recipients` German speakers, fanned out for paced workers."""
    audience(world, de=recipients, en=0)
    notice_id, event_key = world.notice()
    bootstrap.get_notice_delivery().fan_out(world.tenant_id, notice_id, event_key)
    return notice_id


def test_a_paced_worker_without_time_for_two_more_batches_claims_none_ahead(world, chalice_client, paced):
    notice_id = paced_notice(world, 100)
    with counting_requests() as requests:
        run_send_mail(receive(MAIL), 15)
    assert requests["UpdateItem"] == 2  # each batch claimed on its own turn
    assert world.event(notice_id).sent == 100


def test_a_paced_worker_short_of_time_puts_the_batch_back_untouched(world, chalice_client, paced):
    """A paced send must not be cut off by the Lambda timeout between SES and the settle."""
    notice_id = paced_notice(world, 50)

    [message] = receive(MAIL)
    result = run_send_mail([message], 5)
    assert result == {"batchItemFailures": []}  # handled: its copy is back on the queue
    assert sent_mails() == [] and {b.status for b in batches(world, notice_id)} == {"queued"}
    [again] = receive(MAIL)
    assert json.loads(again["Body"]) == json.loads(message["Body"])
    run_send_mail([again], 60)
    assert len(sent_mails()) == 1 and world.event(notice_id).sent == 50
