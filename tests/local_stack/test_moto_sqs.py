"""moto's ReceiveMessage with the cheap retention check (infra/local_stack/moto_sqs.py)."""
from __future__ import annotations

import time

import boto3
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
