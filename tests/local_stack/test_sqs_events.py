"""How a handler's response maps to the records Lambda keeps on the queue (ReportBatchItemFailures)."""
from __future__ import annotations

import pytest

from infra.local_stack.sqs_events import failed_message_ids, sqs_record

BATCH = ["id-1", "id-2", "id-3"]


@pytest.mark.parametrize("response", [None, "ok", {}, {"batchItemFailures": []}, {"other": 1}, [{"itemIdentifier": "id-1"}]])
def test_responses_without_failures_mean_the_whole_batch_succeeded(response):
    assert failed_message_ids(response, BATCH) == []


def test_listed_items_fail_once_each():
    response = {"batchItemFailures": [{"itemIdentifier": "id-3"}, {"itemIdentifier": "id-1"}, {"itemIdentifier": "id-3"}]}

    assert failed_message_ids(response, BATCH) == ["id-3", "id-1"]


@pytest.mark.parametrize("failures", [
    [{"itemIdentifier": "unknown"}], [{"itemIdentifier": ""}], [{"itemIdentifier": None}], [{}], ["id-1"], "id-1",
])
def test_an_invalid_failure_entry_fails_the_whole_batch(failures):
    assert failed_message_ids({"batchItemFailures": failures}, BATCH) == BATCH


def test_binary_message_attributes_are_base64_like_in_lambda():
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": "b", "Attributes": {"ApproximateReceiveCount": "1"},
               "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}}

    record = sqs_record(message, "arn:aws:sqs:eu-central-1:123456789012:q", "eu-central-1")

    assert record["messageAttributes"]["blob"] == {"binaryValue": "AAE=", "stringListValues": [],
                                                   "binaryListValues": [], "dataType": "Binary"}
    assert "md5OfMessageAttributes" not in record
