"""The queue runner gives a test app's @app.on_sqs_message handlers Lambda's SQS semantics (moto server)."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any, Callable

import pytest
from chalice import Chalice

from chalicelib.resources import Queue, Resources

from infra.local_stack.dead_letters import dead_letter_messages
from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.queue_runner import QueueRunner, SqsSubscription, discover_subscriptions

VISIBILITY_SECONDS = 1
AFTER_VISIBILITY = VISIBILITY_SECONDS + 0.2
NEVER_VISIBLE_AGAIN = 600  # for tests in which a message must not come back while they run


class Jobs:
    """A queue with a DLQ (short visibility timeout) and a test app consuming it."""

    def __init__(self, sqs: Any, name: str, handle: Callable[[list[dict]], Any], batch_size: int = 3,
                 max_receive_count: int = 5, visibility_seconds: int = VISIBILITY_SECONDS):
        self.sqs = sqs
        self.name = name
        dead_letter_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.url = sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(visibility_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": max_receive_count}),
        })["QueueUrl"]
        self.arn = sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.batches: list[list[dict]] = []
        self.app = Chalice(app_name="runnertest", configure_logs=False)

        @self.app.on_sqs_message(queue=name, batch_size=batch_size)
        def work(event):
            records = [record.to_dict() for record in event]
            self.batches.append(records)
            return handle(records)

        self.runner = QueueRunner(LambdaInvoker(self.app), discover_subscriptions(self.app, Resources(tables=())), sqs)

    def send(self, *bodies: str) -> None:
        for body in bodies:
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body,
                                  MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})

    def poll(self):
        return self.runner.poll_once(self.runner.subscriptions[0])

    def runner_with(self, sqs_client: Any) -> QueueRunner:
        return QueueRunner(LambdaInvoker(self.app), discover_subscriptions(self.app, Resources(tables=())), sqs_client)

    def messages_left(self) -> int:
        """Messages still on the queue, visible or not (a deleted one is neither)."""
        counts = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return sum(int(count) for count in counts.values())


class SqsSpy:
    """The test's SQS client with a hook before each DeleteMessageBatch, recording what it deleted."""

    def __init__(self, sqs: Any, before_delete: Callable[[], None] = lambda: None):
        self._sqs = sqs
        self._before_delete = before_delete
        self.deleted_handles: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def delete_message_batch(self, **kwargs):
        self._before_delete()
        response = self._sqs.delete_message_batch(**kwargs)
        self.deleted_handles += [entry["ReceiptHandle"] for entry in kwargs["Entries"]]
        return response


def succeed(records):
    return None


def fail_bodies_starting_with(prefix: str):
    def handle(records):
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"].startswith(prefix)]}
    return handle


def bodies(batch: list[dict]) -> list[str]:
    return [record["body"] for record in batch]


def test_discovers_sqs_handlers_and_resolves_queue_names_through_the_definition():
    app = Chalice(app_name="discovery", configure_logs=False)

    @app.on_sqs_message(queue="mail-jobs", batch_size=7)
    def send_mail(event):
        pass

    @app.on_sqs_message(queue="undeclared", batch_size=2)
    def other(event):
        pass

    @app.schedule("rate(1 hour)")
    def not_a_queue_handler(event):
        pass

    resources = Resources(tables=(), queues=(Queue("MailJobs", "ROSTER_MAIL_QUEUE", "mail-jobs", "send_mail"),))

    assert discover_subscriptions(app, resources, environ={}) == [
        SqsSubscription("send_mail", "mail-jobs", 7), SqsSubscription("other", "undeclared", 2)]
    assert discover_subscriptions(app, resources, environ={"ROSTER_MAIL_QUEUE": "mail-jobs-prod"})[0] == \
        SqsSubscription("send_mail", "mail-jobs-prod", 7)


def test_batches_are_lambda_shaped_and_never_larger_than_batch_size(sqs, unique):
    jobs = Jobs(sqs, f"jobs-{unique}", succeed, batch_size=3)
    jobs.send(*[f"m{i}" for i in range(7)])

    sizes = [len(jobs.poll().message_ids) for _ in range(4)]

    assert sizes == [3, 3, 1, 0]
    assert sorted(sum((bodies(batch) for batch in jobs.batches), [])) == [f"m{i}" for i in range(7)]
    records = [record for batch in jobs.batches for record in batch]
    assert len({record["messageId"] for record in records}) == 7
    assert len({record["receiptHandle"] for record in records}) == 7
    record = records[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == jobs.arn
    assert record["awsRegion"] == "eu-central-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {"kind": {"stringValue": "test", "stringListValues": [],
                                                    "binaryListValues": [], "dataType": "String"}}
    assert record["md5OfBody"] and record["md5OfMessageAttributes"]


def test_partial_batch_failure_redelivers_only_the_failed_records_after_the_visibility_timeout(sqs, unique):
    jobs = Jobs(sqs, f"jobs-{unique}", fail_bodies_starting_with("fail"))
    jobs.send("ok-1", "fail-2", "ok-3")

    first = jobs.poll()
    invisible = jobs.poll()
    time.sleep(AFTER_VISIBILITY)
    again = jobs.poll()

    assert len(first.message_ids) == 3 and len(first.failed_ids) == 1
    assert invisible.message_ids == []
    assert again.message_ids == first.failed_ids
    assert bodies(jobs.batches[-1]) == ["fail-2"]
    assert jobs.batches[-1][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_an_exception_fails_the_whole_batch(sqs, unique):
    calls = []

    def raise_first_time(records):
        calls.append(len(records))
        if len(calls) == 1:
            raise RuntimeError("boom")

    jobs = Jobs(sqs, f"jobs-{unique}", raise_first_time)
    jobs.send("a", "b", "c")

    failed = jobs.poll()
    time.sleep(AFTER_VISIBILITY)
    retried = jobs.poll()
    time.sleep(AFTER_VISIBILITY)

    assert "boom" in failed.error and sorted(failed.failed_ids) == sorted(failed.message_ids)
    assert sorted(retried.message_ids) == sorted(failed.message_ids)
    assert retried.failed_ids == [] and retried.error is None
    assert {record["attributes"]["ApproximateReceiveCount"] for record in jobs.batches[1]} == {"2"}
    assert jobs.poll().message_ids == []  # the successful retry deleted them


def test_an_invalid_item_identifier_fails_the_whole_batch(sqs, unique):
    jobs = Jobs(sqs, f"jobs-{unique}", lambda records: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]})
    jobs.send("a", "b")

    result = jobs.poll()

    assert sorted(result.failed_ids) == sorted(result.message_ids) and len(result.message_ids) == 2


def test_messages_move_to_the_dlq_after_max_receive_count(sqs, unique):
    jobs = Jobs(sqs, f"jobs-{unique}", fail_bodies_starting_with(""), max_receive_count=2)
    jobs.send("poison")

    deliveries = [len(jobs.poll().message_ids)]
    for _ in range(2):
        time.sleep(AFTER_VISIBILITY)
        deliveries.append(len(jobs.poll().message_ids))

    assert deliveries == [1, 1, 0]
    in_dlq = [entry for entry in dead_letter_messages() if entry["queue"] == f"{jobs.name}-dlq"]
    assert [entry["body"] for entry in in_dlq] == ["poison"]
    assert in_dlq[0]["source_queues"] == [jobs.name]
    assert in_dlq[0]["receive_count"] == 2


def test_the_background_poller_delivers_and_stops_cleanly(sqs, unique):
    delivered = threading.Event()
    jobs = Jobs(sqs, f"jobs-{unique}", lambda records: delivered.set())
    jobs.runner.start()
    try:
        jobs.send("hello")
        assert delivered.wait(timeout=10)
    finally:
        assert jobs.runner.stop(timeout=10)
    assert bodies(jobs.batches[0]) == ["hello"]


def test_a_subscribed_queue_that_does_not_exist_fails_at_start(sqs, unique):
    app = Chalice(app_name="missing", configure_logs=False)

    @app.on_sqs_message(queue=f"missing-{unique}")
    def work(event):
        pass

    runner = QueueRunner(LambdaInvoker(app), discover_subscriptions(app, Resources(tables=())), sqs)

    with pytest.raises(LookupError, match="does not exist"):
        runner.start()


def test_a_queues_max_concurrency_is_the_subscriptions_concurrency():
    app = Chalice(app_name="concurrency", configure_logs=False)

    @app.on_sqs_message(queue="mail-jobs")
    def send_mail(event):
        pass

    @app.on_sqs_message(queue="feedback")
    def feedback(event):
        pass

    @app.on_sqs_message(queue="undeclared")
    def other(event):
        pass

    resources = Resources(tables=(), queues=(Queue("MailJobs", "MAIL", "mail-jobs", "send_mail", max_concurrency=3),
                                             Queue("Feedback", "FEEDBACK", "feedback", "feedback")))

    assert [s.concurrency for s in discover_subscriptions(app, resources, environ={})] == [3, 1, 1]


def test_the_runner_polls_with_concurrency_pollers_at_once(sqs, unique):
    met, names = threading.Barrier(2, timeout=5), []

    def wait_for_the_other_batch(records):
        names.append(threading.current_thread().name)
        met.wait()  # with one poller the second batch never comes: BrokenBarrierError

    jobs = Jobs(sqs, f"jobs-{unique}", wait_for_the_other_batch, batch_size=1)
    [subscription] = jobs.runner.subscriptions
    runner = QueueRunner(LambdaInvoker(jobs.app), [dataclasses.replace(subscription, concurrency=2)], sqs)
    jobs.send("a", "b")
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len(jobs.batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert runner.stop(timeout=10)

    assert sorted(bodies(jobs.batches[0]) + bodies(jobs.batches[1])) == ["a", "b"]
    assert not met.broken
    assert names == ["sqs-work", "sqs-work"]


def test_the_background_poller_deletes_only_the_succeeded_messages(sqs, unique):
    delivered, spy = threading.Event(), SqsSpy(sqs)
    fail = fail_bodies_starting_with("fail")

    def handle(records):
        delivered.set()
        return fail(records)

    jobs = Jobs(sqs, f"jobs-{unique}", handle, batch_size=3, visibility_seconds=NEVER_VISIBLE_AGAIN)
    runner = jobs.runner_with(spy)
    jobs.send("ok-1", "fail-2", "ok-3")
    runner.start()
    try:
        assert delivered.wait(timeout=10)
    finally:
        assert runner.stop(timeout=10)

    [batch] = jobs.batches
    body_of = {record["receiptHandle"]: record["body"] for record in batch}
    assert sorted(body_of[handle] for handle in spy.deleted_handles) == ["ok-1", "ok-3"]
    assert jobs.messages_left() == 1  # fail-2, back after the visibility timeout


def test_a_failed_deletion_is_logged_and_the_poller_goes_on(sqs, unique, caplog):
    second_batch, deletions = threading.Event(), []

    def handle(records):
        if len(jobs.batches) == 2:
            second_batch.set()

    def fail_the_first_deletion():
        deletions.append(None)
        if len(deletions) == 1:
            raise ConnectionError("moto is gone")

    jobs = Jobs(sqs, f"jobs-{unique}", handle, batch_size=1, visibility_seconds=NEVER_VISIBLE_AGAIN)
    spy = SqsSpy(sqs, before_delete=fail_the_first_deletion)
    runner = jobs.runner_with(spy)
    jobs.send("a", "b")
    with caplog.at_level("INFO", logger="roster.local_stack.queues"):
        runner.start()
        try:
            assert second_batch.wait(timeout=10)
        finally:
            assert runner.stop(timeout=10)

    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [record.getMessage() for record in errors] == [
        f"deleting 1 messages from {jobs.url} failed; they reappear after the visibility timeout"]
    assert "moto is gone" in str(errors[0].exc_info[1])
    second_handle = jobs.batches[1][0]["receiptHandle"]
    assert spy.deleted_handles == [second_handle]
    assert jobs.messages_left() == 1  # the first, back after the visibility timeout


def test_poll_once_has_deleted_the_succeeded_messages_when_it_returns(sqs, unique):
    spy = SqsSpy(sqs)
    jobs = Jobs(sqs, f"jobs-{unique}", fail_bodies_starting_with("fail"), visibility_seconds=NEVER_VISIBLE_AGAIN)
    runner = jobs.runner_with(spy)
    jobs.send("ok", "fail")

    result = runner.poll_once(runner.subscriptions[0])

    assert len(spy.deleted_handles) == 1 and len(result.failed_ids) == 1
    assert jobs.messages_left() == 1
