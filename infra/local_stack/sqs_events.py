"""Lambda-shaped SQS events built from ReceiveMessage results (the shape Lambda delivers)."""
from __future__ import annotations

import base64
from typing import Any

_SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp",
    "MessageGroupId", "MessageDeduplicationId", "SequenceNumber", "AWSTraceHeader",
)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The `{"Records": [...]}` event Lambda's SQS poller would pass for these messages."""
    return {"Records": [sqs_record(message, queue_arn, region) for message in messages]}


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record: ids, body, system attributes, message attributes in Lambda's camelCase form."""
    attributes = message.get("Attributes", {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {name: attributes[name] for name in _SYSTEM_ATTRIBUTES if name in attributes},
        "messageAttributes": {name: _message_attribute(value)
                              for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def failed_message_ids(response: Any, batch_ids: list[str]) -> list[str]:
    """The ids Lambda would keep on the queue given the handler's response.

    Like Lambda with ReportBatchItemFailures: a `batchItemFailures` entry without a valid
    `itemIdentifier` of this batch fails the whole batch; anything else means full success.
    """
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return []
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return list(batch_ids)
    failed: list[str] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in batch_ids:
            return list(batch_ids)
        if identifier not in failed:
            failed.append(identifier)
    return failed
