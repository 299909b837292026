"""Driving the mail pipeline in-process: drain a queue into its handler like Lambda would."""
from __future__ import annotations

import boto3

from infra.local_stack.sqs_events import sqs_event

REGION = "eu-central-1"


def queue_url(name: str) -> str:
    return boto3.client("sqs", region_name=REGION).get_queue_url(QueueName=name)["QueueUrl"]


def receive(name: str, max_messages: int = 10, visibility: int = 30) -> list[dict]:
    sqs = boto3.client("sqs", region_name=REGION)
    return sqs.receive_message(QueueUrl=queue_url(name), MaxNumberOfMessages=max_messages, VisibilityTimeout=visibility,
                               AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])


def deliver(chalice_client, function: str, queue: str, messages: list[dict], delete: bool = True) -> dict:
    """Invokes the SQS handler with these messages; deletes the ones it did not report failed."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = queue_url(queue)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    result = chalice_client.lambda_.invoke(function, sqs_event(messages, arn, REGION)).payload
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    if delete:
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return result


def drain(chalice_client, function: str, queue: str, rounds: int = 10) -> int:
    handled = 0
    for _ in range(rounds):
        messages = receive(queue)
        if not messages:
            return handled
        deliver(chalice_client, function, queue, messages)
        handled += len(messages)
    return handled


def sent_mails() -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
