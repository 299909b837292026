"""Peeks at the messages sitting in dead-letter queues, without receiving them.

Reads moto's in-process SQS backend directly: a ReceiveMessage would bump the receive count
and hide the messages for a while.
"""
from __future__ import annotations

from typing import Any

from infra.local_stack.fake_aws import ACCOUNT_ID, REGION


def dead_letter_messages(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[dict[str, Any]]:
    """Every message of every queue that some RedrivePolicy targets, oldest first per queue."""
    from moto.sqs.models import sqs_backends

    queues = list(sqs_backends[account_id][region].queues.values())
    sources_by_dead_letter_arn: dict[str, list[str]] = {}
    for queue in queues:
        target = (queue.redrive_policy or {}).get("deadLetterTargetArn")
        if target:
            sources_by_dead_letter_arn.setdefault(target, []).append(queue.name)
    entries = []
    for queue in queues:
        if queue.queue_arn not in sources_by_dead_letter_arn:
            continue
        for message in list(queue._messages):  # noqa: SLF001 — all messages, in flight or not
            entries.append({
                "queue": queue.name,
                "source_queues": sources_by_dead_letter_arn[queue.queue_arn],
                "message_id": message.id,
                "body": message.body,
                "message_attributes": _message_attributes(message.message_attributes),
                "receive_count": message.approximate_receive_count,
                "sent_timestamp": message.sent_timestamp,
            })
    return entries


def _message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: value.get("StringValue", value.get("string_value")) for name, value in attributes.items()}
