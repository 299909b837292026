"""moto's SQS with the cheap retention check and sends that do not build the queue's attribute map
(infra/local_stack/moto_sqs.py): the same answers as moto's own."""
from __future__ import annotations

import time
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local_stack import moto_sqs


def test_the_retention_check_answers_as_motos_own():
    from moto.sqs.models import SQSBackend, sqs_backends

    moto_sqs.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.create_queue(QueueName="retention", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        for body in ("old", "new"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        backend = sqs_backends["123456789012"]["eu-central-1"]
        old, new = backend.get_queue("retention")._messages
        old.sent_timestamp = int((time.time() - 61) * 1000)
        patched = SQSBackend.is_message_valid_based_on_retention_period
        answers = [(patched(backend, "retention", m), patched.__wrapped__(backend, "retention", m)) for m in (old, new)]
        assert answers == [(False, False), (True, True)]
        # moto stops a receive at an expired message (its rule, unchanged)
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)


@contextmanager
def motos_own_sends():
    """moto's send functions as moto wrote them, for the length of the block."""
    from moto.sqs import models

    moto_sqs.install()
    classes = [getattr(models, cls) for cls, _, _ in moto_sqs._SENDING]
    patched = [(cls, name, cls.__dict__[name]) for cls, (_, name, _) in zip(classes, moto_sqs._SENDING)]
    for cls, name, function in patched:
        setattr(cls, name, function.__wrapped__)
    try:
        yield
    finally:
        for cls, name, function in patched:
            setattr(cls, name, function)


QUEUES = {"standard": {}, "dedup.fifo": {"FifoQueue": "true", "ContentBasedDeduplication": "true"},
          "explicit.fifo": {"FifoQueue": "true"}, "delayed": {"DelaySeconds": "5"}}


def test_the_rendered_attribute_equals_the_attribute_map():
    from moto.sqs.models import sqs_backends

    moto_sqs.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        for name, attributes in QUEUES.items():
            sqs.create_queue(QueueName=name, Attributes=attributes)
        backend = sqs_backends["123456789012"]["eu-central-1"]
        queues = [backend.get_queue(name) for name in QUEUES]
        states = []
        for queue in queues:
            for value in (True, False, "true", "TRUE", None, 1):  # bools as moto stores them, and anything else
                queue.content_based_deduplication = value
                states.append((queue.name, value, _rendered(queue), queue.attributes.get("ContentBasedDeduplication")))
        assert [(q, v, fast) for q, v, fast, _ in states] == [(q, v, slow) for q, v, _, slow in states]
        assert {fast for _, _, fast, _ in states} == {None, "true", "false", "TRUE", 1}


def _rendered(queue):
    return eval(moto_sqs._RENDERED.format(q="queue"), {}, {"queue": queue})


def test_sends_do_not_build_the_attribute_map(monkeypatch):
    from moto.sqs.models import Queue

    moto_sqs.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        urls = {name: sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
                for name, attributes in QUEUES.items()}
        monkeypatch.setattr(Queue, "attributes", property(lambda queue: pytest.fail("the attribute map was built")))
        sqs.send_message(QueueUrl=urls["standard"], MessageBody="one")
        sqs.send_message(QueueUrl=urls["dedup.fifo"], MessageBody="one", MessageGroupId="g")
        sqs.send_message_batch(QueueUrl=urls["explicit.fifo"], Entries=[
            {"Id": "a", "MessageBody": "one", "MessageGroupId": "g", "MessageDeduplicationId": "d1"}])
        with pytest.raises(ClientError, match="MessageDeduplicationId"):
            sqs.send_message(QueueUrl=urls["explicit.fifo"], MessageBody="two", MessageGroupId="g")


def _scenario(sqs) -> list:
    """Sends of every kind, valid or not, to standard and FIFO queues with and without content-based
    deduplication; each call's answer or error, then what every queue holds."""
    urls = {name: sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            for name, attributes in QUEUES.items()}
    group = {"MessageGroupId": "g"}
    calls = [
        ("standard", "send_message", {"MessageBody": "one"}),
        ("standard", "send_message", {"MessageBody": "one"}),  # no deduplication in a standard queue
        ("standard", "send_message", {"MessageBody": "attrs", "DelaySeconds": 0, "MessageAttributes": {
            "k": {"DataType": "String", "StringValue": "v"}}}),
        ("standard", "send_message_batch", {"Entries": [
            {"Id": "a", "MessageBody": "b1"}, {"Id": "b", "MessageBody": "b1"},
            {"Id": "c", "MessageBody": "late", "DelaySeconds": 901}]}),  # a failed entry, the rest sent
        ("standard", "send_message", {"MessageBody": "x", "DelaySeconds": 901}),
        ("delayed", "send_message", {"MessageBody": "waits"}),
        ("dedup.fifo", "send_message", {"MessageBody": "one", **group}),
        ("dedup.fifo", "send_message", {"MessageBody": "one", **group}),  # a duplicate by content
        ("dedup.fifo", "send_message", {"MessageBody": "two", **group}),
        ("dedup.fifo", "send_message", {"MessageBody": "one", "MessageDeduplicationId": "own", **group}),
        ("dedup.fifo", "send_message", {"MessageBody": "other", "MessageDeduplicationId": "own", **group}),
        ("dedup.fifo", "send_message", {"MessageBody": "no group"}),
        ("dedup.fifo", "send_message", {"MessageBody": "delayed", "DelaySeconds": 3, **group}),
        ("dedup.fifo", "send_message_batch", {"Entries": [
            {"Id": "a", "MessageBody": "three", **group}, {"Id": "b", "MessageBody": "three", **group},
            {"Id": "c", "MessageBody": "two", "MessageGroupId": "h"}]}),
        ("explicit.fifo", "send_message", {"MessageBody": "one", **group}),  # needs a deduplication id
        ("explicit.fifo", "send_message", {"MessageBody": "one"}),
        ("explicit.fifo", "send_message", {"MessageBody": "one", "MessageDeduplicationId": "d1", **group}),
        ("explicit.fifo", "send_message", {"MessageBody": "two", "MessageDeduplicationId": "d1", **group}),
        ("explicit.fifo", "send_message_batch", {"Entries": [
            {"Id": "a", "MessageBody": "x", "MessageDeduplicationId": "d2", **group},
            {"Id": "b", "MessageBody": "y", **group}]}),  # one invalid entry refuses the batch
        ("explicit.fifo", "send_message_batch", {"Entries": [
            {"Id": "a", "MessageBody": "x", "MessageDeduplicationId": "d2", **group},
            {"Id": "b", "MessageBody": "y", "MessageDeduplicationId": "d2", **group}]}),
        ("explicit.fifo", "set_queue_attributes", {"Attributes": {"ContentBasedDeduplication": "true"}}),
        ("explicit.fifo", "send_message", {"MessageBody": "by content now", **group}),
        ("explicit.fifo", "send_message", {"MessageBody": "by content now", **group}),
        ("dedup.fifo", "set_queue_attributes", {"Attributes": {"ContentBasedDeduplication": "false"}}),
        ("dedup.fifo", "send_message", {"MessageBody": "needs an id now", **group}),
    ]
    answers = []
    for queue, operation, params in calls:
        try:
            answer = getattr(sqs, operation)(QueueUrl=urls[queue], **params)
            answer.pop("ResponseMetadata")
            answers.append(answer)
        except ClientError as error:
            answers.append(error.response["Error"])
    from moto.sqs.models import sqs_backends

    backend = sqs_backends["123456789012"]["eu-central-1"]
    held = {name: [(m.id, m.body, m.deduplication_id, m.group_id, m.sequence_number, m.message_attributes)
                   for m in backend.get_queue(name)._messages] for name in QUEUES}
    return [answers, held]


def test_every_send_answers_as_motos_own():
    from moto.moto_api._internal import mock_random

    moto_sqs.install()
    runs = []
    for own in (False, True):
        with (motos_own_sends() if own else _nothing()), mock_aws():
            mock_random.seed(20)  # the same message ids and sequence numbers both times
            runs.append(_scenario(boto3.client("sqs", region_name="eu-central-1")))
    patched, motos = runs
    assert patched == motos
    answers, held = patched
    assert sum("MessageId" in a for a in answers) == 13 and sum(len(a.get("Successful", [])) for a in answers) == 7
    assert sum("Code" in a for a in answers) == 7  # refusals, as moto's
    assert [len(messages) for messages in held.values()] == [5, 4, 3, 1]  # the duplicates were not kept


@contextmanager
def _nothing():
    yield
