"""Delivers SQS messages to the app's `@app.on_sqs_message` handlers with Lambda semantics.

Per subscription `concurrency` pollers (the queue's `max_concurrency`, else 1) each receive up
to `batch_size` messages, build a Lambda SQS event, call the handler and delete only what
succeeded: `batchItemFailures` keeps the listed records, an exception keeps the whole batch.
Kept messages reappear after the queue's visibility timeout; SQS (moto) moves them to the DLQ
once maxReceiveCount is exceeded. A failed deletion is logged; its messages reappear after the
visibility timeout.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib.resources import RESOURCES, Resources

from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.resource_names import physical_name
from infra.local_stack.sqs_events import failed_message_ids, sqs_event

log = logging.getLogger("roster.local_stack.queues")

_MAX_MESSAGES_PER_RECEIVE = 10  # the SQS API limit
_ERROR_BACKOFF_SECONDS = 1.0


@dataclass(frozen=True)
class SqsSubscription:
    """One `@app.on_sqs_message` handler, the physical queue it consumes and how many batches
    may be in flight at once (the queue's `max_concurrency`)."""

    function_name: str
    queue_name: str
    batch_size: int
    concurrency: int = 1


@dataclass
class BatchResult:
    """What happened to one delivered batch."""

    message_ids: list[str] = field(default_factory=list)
    failed_ids: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def deleted_ids(self) -> list[str]:
        return [message_id for message_id in self.message_ids if message_id not in self.failed_ids]


def discover_subscriptions(app: Any, resources: Resources = RESOURCES,
                           environ: Mapping[str, str] | None = None) -> list[SqsSubscription]:
    """Every SQS event source registered on `app`, with its queue name resolved.

    A declared queue name that matches a Queue of `resources` (by default or physical name, or
    by its `handler`) resolves to that queue's physical name and takes its `max_concurrency`;
    anything else is used as is, with a concurrency of 1.
    """
    from chalice.app import SQSEventConfig

    subscriptions = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        declared = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        queue = next((q for q in resources.queues if declared in (q.default_name, physical_name(q, environ))), None) \
            or next((q for q in resources.queues if q.handler == source.name), None)
        name = physical_name(queue, environ) if queue is not None else declared
        concurrency = (queue.max_concurrency if queue is not None else None) or 1
        subscriptions.append(SqsSubscription(source.name, name, source.batch_size, concurrency))
    return subscriptions


class QueueRunner:
    """Polls every subscribed queue in its own thread and invokes the handlers."""

    def __init__(self, invoker: LambdaInvoker, subscriptions: list[SqsSubscription], sqs_client: Any,
                 wait_seconds: int = 1):
        self._invoker = invoker
        self._subscriptions = subscriptions
        self._sqs = sqs_client
        self._wait_seconds = wait_seconds
        self._queues: dict[str, tuple[str, str]] = {}
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def subscriptions(self) -> list[SqsSubscription]:
        return list(self._subscriptions)

    def poll_once(self, subscription: SqsSubscription, wait_seconds: int = 0) -> BatchResult:
        """Receives one batch (possibly empty), invokes the handler, deletes what succeeded."""
        url, arn = self._queue(subscription.queue_name)
        messages = self._receive_batch(url, subscription.batch_size, wait_seconds)
        result = BatchResult(message_ids=[message["MessageId"] for message in messages])
        if not messages:
            return result
        try:
            response = self._invoker.invoke(subscription.function_name, sqs_event(messages, arn, self._invoker.region))
            result.failed_ids = failed_message_ids(response, result.message_ids)
        except Exception as error:  # a raised exception fails the whole batch, as in Lambda
            log.exception("sqs handler %s raised; the whole batch of %d stays on %s",
                          subscription.function_name, len(messages), subscription.queue_name)
            result.failed_ids, result.error = list(result.message_ids), repr(error)
        log.info("sqs %s -> %s: %d delivered, %d failed", subscription.queue_name,
                 subscription.function_name, len(messages), len(result.failed_ids))
        deleted = set(result.deleted_ids)
        self._delete(url, [message for message in messages if message["MessageId"] in deleted])
        return result

    def start(self) -> None:
        """Resolves every queue (fails fast if one is missing), then starts `concurrency` pollers
        each, all named `sqs-<function>` (the bench attributes AWS calls by that name)."""
        for subscription in self._subscriptions:
            self._queue(subscription.queue_name)
        for subscription in self._subscriptions:
            for _ in range(subscription.concurrency):
                thread = threading.Thread(target=self._poll_forever, args=(subscription,),
                                          name=f"sqs-{subscription.function_name}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> bool:
        """Stops polling after the batches in flight (and their deletions), within `timeout`;
        True if every poller thread ended."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _poll_forever(self, subscription: SqsSubscription) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once(subscription, self._wait_seconds)
            except Exception:
                log.exception("polling %s failed; retrying", subscription.queue_name)
                self._stopping.wait(_ERROR_BACKOFF_SECONDS)

    def _queue(self, name: str) -> tuple[str, str]:
        if name not in self._queues:
            try:
                url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except self._sqs.exceptions.QueueDoesNotExist:
                raise LookupError(f"queue {name!r} does not exist: add it to chalicelib/resources.py") from None
            arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self._queues[name] = (url, arn)
        return self._queues[name]

    def _receive_batch(self, url: str, batch_size: int, wait_seconds: int) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            response = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(_MAX_MESSAGES_PER_RECEIVE, batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            if not received:
                break
            messages.extend(received)
        return messages

    def _delete(self, url: str, messages: list[dict[str, Any]]) -> None:
        try:
            self._delete_batches(url, messages)
        except Exception:
            log.exception("deleting %d messages from %s failed; they reappear after the visibility timeout",
                          len(messages), url)

    def _delete_batches(self, url: str, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_MESSAGES_PER_RECEIVE):
            chunk = messages[start:start + _MAX_MESSAGES_PER_RECEIVE]
            response = self._sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(chunk)])
            for failure in response.get("Failed", []):
                log.warning("could not delete a message from %s: %s", url, failure.get("Message"))
