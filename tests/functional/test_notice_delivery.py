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
from tests.functional.conftest import dynamodb_hook
from tests.functional.mail_helpers import drain, receive, sent_mails
from tests.functional.notice_helpers import Clock, World, batch_messages, batches, deliveries, delivery_service

MAIL, FANOUT, BATCH = "roster-mail", "roster-notice-fanout", "roster-notice-batch"


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
    assert (event.fanout, event.recipients, event.batches, event.pending_pk) == ("planned", 150, 4, "NOTICE#SENDING")

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


def test_a_reader_without_a_text_of_their_own_gets_the_notices_language_before_the_tenants_default(aws):
    """The notice was written for French while that was the tenant's default; the tenant now
    defaults to Italian, which the notice has no text in: an English reader gets the French text,
    not the alphabetically first one."""
    world = World(default_language="it")
    account = world.account(name="Muster AG")
    world.contact(account, language="en", notifications=["maintenance"])
    notice_id, event_key = world.notice(title={"de": "Router-Wechsel", "fr": "Changement de routeurs"},
                                        body={"de": "Wir ersetzen die Router.", "fr": "Nous remplaçons les routeurs."},
                                        language="fr")
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    send_all(service)
    [mail] = sent_mails()
    data = json.loads(mail.template_data)
    assert mail.template == "roster-notice-en"
    assert (data["title"], data["body"]) == ("Changement de routeurs", "Nous remplaçons les routeurs.")


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


def fanned_out(world, de: int, en: int):
    """(a delivery service, the notice, its planned batch keys) for a fanned-out notice."""
    audience(world, de=de, en=en)
    notice_id, event_key = world.notice()
    service = delivery_service()
    service.fan_out(world.tenant_id, notice_id, event_key)
    return service, notice_id, planned_keys(world, notice_id)


def suppress(email: str) -> None:
    bootstrap.get_repositories().mail.suppress(email, "bounced", "2026-11-01T00:00:00.000Z")


def test_a_long_suppression_list_is_checked_address_by_address(world, monkeypatch):
    from chalicelib.services import notice_delivery

    monkeypatch.setattr(notice_delivery, "SUPPRESSION_LIST_LIMIT", 1)
    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    blocked = batches(world, notice_id)[0].recipients[0]
    suppress(blocked["e"])
    suppress("someone.else@example.org")

    with counting_requests() as requests:
        assert service.send_batch(*first) == 49
        assert service.send_batch(*second) == 50
    # the list's Query finds it too long (then again after its time: not here); each batch's addresses
    assert (requests["Query"], requests["BatchGetItem"]) == (1, 2)
    assert {d.person_id: d.status for d in deliveries(world, notice_id)}[blocked["p"]] == "suppressed"


def test_the_suppression_list_is_read_again_once_it_is_older_than_its_time(world):
    from chalicelib.services.notice_delivery import SUPPRESSION_LIST_SECONDS

    service, notice_id, (first, second) = fanned_out(world, de=100, en=0)
    now = [1000.0]
    service._monotonic = lambda: now[0]
    blocked = batches(world, notice_id)[1].recipients[0]

    with counting_requests() as requests:
        assert service.send_batch(*first) == 50
        suppress(blocked["e"])  # after the list was read
        now[0] += SUPPRESSION_LIST_SECONDS + 1  # a warm worker, later
        assert service.send_batch(*second) == 49
    assert requests["Query"] == 2 and requests["BatchGetItem"] == 0
    assert {d.person_id: d.status for d in deliveries(world, notice_id)}[blocked["p"]] == "suppressed"


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
def throttled_batch(world, times: int):
    """A planned batch of 20 and a service whose SES client is stubbed to throttle `times` calls."""
    audience(world, de=20, en=0)
    notice_id, event_key = world.notice()
    with stubbed_ses() as (client, stubber):
        service = delivery_service(ses_client=client)
        service.fan_out(world.tenant_id, notice_id, event_key)
        [message] = batch_messages()
        throttle(stubber, times)
        yield service, stubber, notice_id, message


def test_throttling_gives_the_batch_back_to_the_queue_after_one_ses_call(world, monkeypatch):
    """No in-process retry and no sleep: one SES call, the claim released, RetryLater names the delay."""
    import time

    from chalicelib.services.notice_delivery import RetryLater

    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail("a worker slept"))
    with throttled_batch(world, 2) as (service, stubber, notice_id, message):
        for receive_count, delay in ((1, 30), (2, 60)):
            with pytest.raises(RetryLater) as later:
                service.send_batch(world.tenant_id, notice_id, message["batch"], receive_count=receive_count)
            assert later.value.seconds == delay
            [batch] = batches(world, notice_id)
            assert batch.status == "queued" and deliveries(world, notice_id) == []
        stubber.assert_no_pending_responses()  # exactly one SES call a receive

        accept(stubber, 20)  # SQS redelivers later
        assert service.send_batch(world.tenant_id, notice_id, message["batch"]) == 20
    assert world.event(notice_id).sent == 20 and batches(world, notice_id)[0].status == "sent"


def test_on_the_last_attempt_the_batch_fails_visibly(world):
    from chalicelib.services.notice_delivery import RetryLater

    with throttled_batch(world, 1) as (service, stubber, notice_id, message):
        with pytest.raises(RetryLater):
            service.send_batch(world.tenant_id, notice_id, message["batch"], last_attempt=True)
        stubber.assert_no_pending_responses()
    [batch] = batches(world, notice_id)
    assert batch.status == "failed"
    assert {(d.status, d.detail) for d in deliveries(world, notice_id)} == {
        ("failed", "gave up after the queue's last attempt")}
    event = world.event(notice_id)
    assert (event.sent, event.failed) == (0, 20)


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

    monkeypatch.setattr(NoticeDeliveryRepository, "settle", fails)
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

    def throttled(emails):
        raise RuntimeError("ProvisionedThroughputExceeded")

    monkeypatch.setattr(service, "_suppressed", throttled)
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
    assert service.sweep()["batches"] == 0  # may still wait behind others in the queue
    clock.advance(minutes=2)  # past the queue's visibility timeout (6 minutes) after they were due
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

    router = bootstrap.get_mail_feedback()
    bounce = {"notificationType": "Bounce", "mail": {"messageId": delivery.ses_message_id},
              "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": f"{people[0]}@example.com"}]}}
    assert router.record(bounce) == 1
    assert router.record(bounce) == 1  # SNS delivers it again: nothing moves twice
    assert router.record({**bounce, "mail": {"messageId": "unknown-message"}}) == 1  # suppressed, nothing else
    statuses = {d.person_id: d.status for d in deliveries(world, notice_id)}
    assert statuses == {people[0]: "bounced", people[1]: "sent", people[2]: "sent"}
    event = world.event(notice_id)
    assert (event.sent, event.bounced) == (2, 1)
    person = PersonItem.get(keys.person(world.tenant_id, people[0]), keys.PERSON_SK)
    assert person.undeliverable == "bounced"
    assert bootstrap.get_repositories().mail.suppressed([f"{people[0]}@example.com"])


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
    with counting(QueryCounter()) as reads, counting_requests() as requests:
        first = bootstrap.get_notice_service().deliveries(world.tenant_id, notice_id, None, None, 100, None)
    assert ([row["person_id"] for row in first[0]], first[1]) == (people, None)
    assert reads.queries == 1  # the batches with their states
    assert sum(requests.values()) == 1  # a page with rows needs no read of the notice: it exists
    with counting_requests() as requests:
        assert delivery_pages(world, notice_id, 100, "queued") == [([], None)]
    assert sum(requests.values()) == 1  # the batches read prove the notice: no read of it
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


def counting(counter):
    """`counter` sees every DynamoDB request's parameters while the block runs."""
    return dynamodb_hook("before-parameter-build", counter)


def counting_writes():
    return counting(WriteCounter())


# --- through the handlers ----------------------------------------------------------------------------

def test_the_fan_out_and_mail_handlers_deliver_a_notice(world, chalice_client):
    audience(world, de=55, en=5)
    notice_id, event_key = world.notice()
    bootstrap.get_notice_delivery()._fanout_queue.send({"tenant_id": world.tenant_id, "notice_id": notice_id,
                                                        "event_key": event_key})
    assert drain(chalice_client, "notice_fanout", FANOUT) == 1
    assert drain(chalice_client, "send_notice_batch", BATCH) == 3
    assert sorted(m.template for m in sent_mails()) == ["roster-notice-de", "roster-notice-de", "roster-notice-en"]
    data = json.loads(sent_mails()[0].destinations[0]["ReplacementTemplateData"])
    assert "/preferences/" in data["preferences_url"] and data["preferences_url"].endswith("?type=maintenance")
    assert world.event(notice_id).sent == 60


class LambdaContext:
    def __init__(self, seconds_left: float):
        self.seconds_left = seconds_left

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


def run_batch_handler(messages: list[dict]) -> dict:
    """The send_notice_batch handler, as Lambda calls it, with `messages` received from its queue."""
    import boto3

    import app
    from infra.local_stack.sqs_events import sqs_event

    sqs = boto3.client("sqs", region_name="eu-central-1")
    arn = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=BATCH)["QueueUrl"],
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return app.app.handler_map["send_notice_batch"](sqs_event(messages, arn, "eu-central-1"), LambdaContext(60))


def test_a_throttled_batch_comes_back_after_a_delay_and_at_most_five_ses_calls_are_made(world, chalice_client,
                                                                                         monkeypatch):
    """The one retry policy: one SES call a receive (no botocore or service retries), the message's
    visibility set to the delay, the DLQ after maxReceiveCount receives: ≤ 5 SES calls a batch."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib.resources import NOTICE_BATCH_QUEUE
    from tests.functional.mail_helpers import queue_url

    audience(world, de=20, en=0)
    notice_id, event_key = world.notice()
    bootstrap.get_notice_delivery().fan_out(world.tenant_id, notice_id, event_key)
    ses = bootstrap.get_notice_delivery()._mailer._client
    visibility = []
    from chalicelib.adapters.job_queue import SqsMessages

    original = SqsMessages.retry_later

    def retry_later(self, handle, seconds):
        visibility.append(seconds)
        original(self, handle, seconds)  # the real call: the message stays invisible that long

    monkeypatch.setattr(SqsMessages, "retry_later", retry_later)
    with Stubber(ses) as stubber:
        throttle(stubber, NOTICE_BATCH_QUEUE.max_receive_count)
        [message] = receive(BATCH)
        for receives in range(1, NOTICE_BATCH_QUEUE.max_receive_count + 1):
            message["Attributes"]["ApproximateReceiveCount"] = str(receives)
            assert run_batch_handler([message]) == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        stubber.assert_no_pending_responses()  # five receives, five SES calls, no more
    assert visibility == [30, 60, 120, 240, 480]
    assert batches(world, notice_id)[0].status == "failed" and world.event(notice_id).failed == 20
    boto3.client("sqs", region_name="eu-central-1").purge_queue(QueueUrl=queue_url(BATCH))


def test_the_ses_client_makes_one_attempt_a_call(world):
    """botocore retries nothing (standard mode, one attempt): SQS is the only retry loop."""
    from chalicelib.adapters.ses import SesMailer, TransientMailError, ses_client

    client = ses_client("eu-central-1")
    attempts = []

    def throttled(request, **_):
        from botocore.awsrequest import AWSResponse

        attempts.append(request.url)
        body = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                b"<Message>Maximum sending rate exceeded.</Message></Error></ErrorResponse>")
        return AWSResponse(request.url, 400, {}, _Raw(body))

    client.meta.events.register("before-send.ses", throttled)
    with pytest.raises(TransientMailError):
        SesMailer(client).send(("Roster", "no-reply@mail.roster.test"), [], "roster-notice-de", {},
                               [("a@example.com", {}), ("b@example.com", {})])
    assert len(attempts) == 1


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        body, self._body = self._body, b""
        return body


# --- pacing by the queue ---------------------------------------------------------------------------

class SqsDelays:
    """DelaySeconds of every SQS message sent, by queue name."""

    def __init__(self):
        self.by_queue: dict[str, list[int]] = {}
        self.bodies: dict[str, list[dict]] = {}

    def __call__(self, params=None, model=None, **_):
        queue = params["QueueUrl"].rsplit("/", 1)[-1]
        entries = params.get("Entries") or [params]
        self.by_queue.setdefault(queue, []).extend(entry.get("DelaySeconds", 0) for entry in entries)
        self.bodies.setdefault(queue, []).extend(json.loads(entry["MessageBody"]) for entry in entries)


@contextmanager
def recording_sqs_delays(service):
    delays = SqsDelays()
    clients = {service._mail_queue._client, service._fanout_queue._client}
    for client in clients:
        client.meta.events.register("before-parameter-build.sqs.SendMessage", delays)
        client.meta.events.register("before-parameter-build.sqs.SendMessageBatch", delays)
    try:
        yield delays
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build.sqs.SendMessage", delays)
            client.meta.events.unregister("before-parameter-build.sqs.SendMessageBatch", delays)


def test_the_fan_out_paces_batches_by_queue_delays_and_nobody_sleeps(world, monkeypatch):
    """Batch n is due after the mails before it at the send rate, its message delayed that long; a
    batch due beyond SQS's 900 s is queued by a delayed continuation of the fan-out."""
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail("a worker slept"))
    audience(world, de=300, en=0)  # 6 batches of 50
    notice_id, event_key = world.notice()
    clock = Clock()
    service = delivery_service(clock, max_send_rate=0.5)  # 100 s a batch: 0 … 500 s
    with recording_sqs_delays(service) as delays:
        assert service.fan_out(world.tenant_id, notice_id, event_key) == 6
    assert delays.by_queue[BATCH] == [0, 100, 200, 300, 400, 500]
    batch_messages()

    slow = delivery_service(clock, max_send_rate=0.1)  # 500 s a batch: 0, 500, 1000, …
    other, key = world.notice(event_key="update-001", kind="update")
    with recording_sqs_delays(slow) as delays:
        assert slow.fan_out(world.tenant_id, other, key) == 2  # 0 and 500 s now
    # the third batch is due at 1,000 s: a continuation runs 60 s before it, but waits at most 900 s
    assert delays.by_queue[BATCH] == [0, 500] and delays.by_queue[FANOUT] == [900]
    [continuation] = delays.bodies[FANOUT]
    assert continuation == {"tenant_id": world.tenant_id, "notice_id": other, "event_key": key, "from_seq": 3}
    clock.advance(seconds=900)
    with recording_sqs_delays(slow) as delays:
        assert slow.fan_out(**continuation) == 2  # due at 1000 and 1500 s: 100 and 600 s from now
    assert delays.by_queue[BATCH] == [100, 600] and delays.by_queue[FANOUT] == [900]
    [again] = delays.bodies[FANOUT]
    assert again["from_seq"] == 5


# --- the write budget, as DynamoDB bills it ----------------------------------------------------------

def item_size(item: dict) -> int:
    """DynamoDB's item size: each attribute's name plus its value (strings, numbers, binaries)."""
    import base64

    def value_size(value: dict) -> int:
        (kind, content), = value.items()
        if kind == "S":
            return len(content.encode())
        if kind == "N":
            return len(content.lstrip("-").replace(".", "")) // 2 + 2
        if kind == "B":
            return len(base64.b64decode(content)) if isinstance(content, str) else len(content)
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "L":
            return 3 + sum(1 + value_size(v) for v in content)
        if kind == "M":
            return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in content.items())
        if kind in ("SS", "NS", "BS"):
            return sum(value_size({kind[0]: v}) for v in content)
        raise ValueError(kind)

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class WriteUnits:
    """DynamoDB write requests (items) and write units, computed from every write's payload as
    DynamoDB bills them: 1 KB a unit an item (an UpdateItem: the larger of the item before and
    after; a delete: the item's size), ×2 inside TransactWriteItems, and each GSI whose keys the
    item has (before or after) bills its own units for the projected item (ALL)."""

    def __init__(self, table):
        from chalicelib.resources import MAIN_TABLE

        self._table = table
        self._indexes = [(i.hash_key, i.range_key) for i in MAIN_TABLE.indexes]
        self.items = self.units = 0

    def _before(self, key: dict) -> dict:
        import boto3

        return boto3.client("dynamodb", region_name="eu-central-1").get_item(
            TableName=self._table.name, Key=key, ConsistentRead=True).get("Item") or {}

    def _bill(self, before: dict, after: dict, factor: int) -> None:
        import math

        units = lambda item: math.ceil(item_size(item) / 1024) if item else 0
        self.items += 1
        self.units += factor * max(units(before), units(after), 1)
        for hash_key, range_key in self._indexes:
            keys = [k for k in (hash_key, range_key) if k]
            old, new = all(k in before for k in keys), all(k in after for k in keys)
            if old and new and before == after:
                continue
            if old or new:
                self.units += max(units(before) if old else 0, units(after) if new else 0)

    def __call__(self, params=None, model=None, **_):
        name = model.name
        if name == "PutItem":
            self._bill(self._before(_key(params["Item"])), params["Item"], 1)
        elif name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    item = request["PutRequest"]["Item"]
                    self._bill(self._before(_key(item)), item, 1)
        elif name == "UpdateItem":
            self._update(params, 1)
        elif name == "DeleteItem":
            self._bill(self._before(params["Key"]), {}, 1)
        elif name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                if "Put" in entry:
                    self._bill(self._before(_key(entry["Put"]["Item"])), entry["Put"]["Item"], 2)
                elif "Update" in entry:
                    self._update(entry["Update"], 2)
                elif "Delete" in entry:
                    self._bill(self._before(entry["Delete"]["Key"]), {}, 2)

    def _update(self, params: dict, factor: int) -> None:
        # the item after: applied by a dry run of the same update on a scratch copy
        before = self._before(params["Key"])
        after = _apply_update(self._table, before, params)
        self._bill(before, after, factor)


def _key(item: dict) -> dict:
    return {"pk": item["pk"], "sk": item["sk"]}


def _apply_update(table, before: dict, params: dict) -> dict:
    """The item an UpdateItem would leave, computed by moto on a scratch item (its own key)."""
    import boto3

    client = boto3.client("dynamodb", region_name="eu-central-1")
    scratch = {**before, "pk": {"S": "SCRATCH#" + before.get("pk", params["Key"]["pk"])["S"]},
               "sk": params["Key"]["sk"]}
    client.put_item(TableName=table.name, Item=scratch)
    expression = params["UpdateExpression"]
    extra = {"UpdateExpression": expression}
    for name in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        used = {k: v for k, v in params.get(name, {}).items() if k in expression}
        if used:
            extra[name] = used
    after = client.update_item(TableName=table.name, Key={"pk": scratch["pk"], "sk": scratch["sk"]},
                               ReturnValues="ALL_NEW", **extra)["Attributes"]
    client.delete_item(TableName=table.name, Key={"pk": scratch["pk"], "sk": scratch["sk"]})
    return {**after, "pk": params["Key"]["pk"]}


@pytest.mark.parametrize("de, en", [(100, 50), (250, 0), (500, 0)])
def test_write_requests_and_units_per_recipient(world, de, en):
    """≤ 1.1 write requests (items) and ≤ 1.5 write units per recipient for a whole notice: the
    fan-out, every batch sent, and the sweep that closes the event."""
    import boto3

    from chalicelib.settings import get_settings

    audience(world, de=de, en=en)
    notice_id, event_key = world.notice()
    clock = Clock()
    service = delivery_service(clock)
    recipients = de + en
    table = boto3.resource("dynamodb", region_name="eu-central-1").Table(get_settings().table_name)
    with counting(WriteUnits(table)) as writes:
        service.fan_out(world.tenant_id, notice_id, event_key)
        assert send_all(service) == recipients
        clock.advance(minutes=7)
        service.sweep()
    assert len(sent_mails()) == sum(math.ceil(n / 50) for n in (de, en) if n)
    per_item, per_unit = writes.items / recipients, writes.units / recipients
    print(f"\n{recipients} recipients: {writes.items} write requests ({per_item:.3f}), "
          f"{writes.units} write units ({per_unit:.3f}) per recipient")
    assert per_item <= 1.1 and per_unit <= 1.5, (per_item, per_unit)
