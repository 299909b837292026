"""SQS queues: only ids travel (the job, event or batch itself is in DynamoDB)."""
from __future__ import annotations

import json

SEND_BATCH_LIMIT = 10  # SQS SendMessageBatch


class SqsMessages:
    """Sends JSON messages to one queue, looked up by name on first use."""

    def __init__(self, client, queue_name: str):
        self._client = client
        self._name = queue_name
        self._url: str | None = None

    def _queue_url(self) -> str:
        if self._url is None:
            self._url = self._client.get_queue_url(QueueName=self._name)["QueueUrl"]
        return self._url

    def send(self, body: dict, delay: int = 0) -> None:
        """`delay`: seconds before the message becomes visible (SQS DelaySeconds, ≤ 900)."""
        self._client.send_message(QueueUrl=self._queue_url(), MessageBody=json.dumps(body),
                                  **({"DelaySeconds": delay} if delay else {}))

    def send_many(self, bodies: list[dict], delays: list[int] | None = None) -> None:
        """SendMessageBatch, 10 a request, each with its delay (seconds, ≤ 900); raises if SQS
        refused any of them (the caller retries)."""
        delays = delays or [0] * len(bodies)
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            chunk = bodies[start:start + SEND_BATCH_LIMIT]
            response = self._client.send_message_batch(QueueUrl=self._queue_url(), Entries=[
                {"Id": str(i), "MessageBody": json.dumps(body),
                 **({"DelaySeconds": delays[start + i]} if delays[start + i] else {})}
                for i, body in enumerate(chunk)])
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} messages: {response['Failed'][0]}")

    def of_arn(self, queue_arn: str) -> "SqsMessages":
        """The queue an event source ARN names (its last part), through the same client."""
        name = queue_arn.rsplit(":", 1)[-1]
        return self if name == self._name else SqsMessages(self._client, name)

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """A received message comes back after `seconds` (its visibility timeout, from now)."""
        self._client.change_message_visibility(QueueUrl=self._queue_url(), ReceiptHandle=receipt_handle,
                                               VisibilityTimeout=seconds)


class SqsJobQueue:
    """The mail queue's outbox jobs."""

    def __init__(self, client, queue_name: str):
        self._messages = SqsMessages(client, queue_name)

    def send(self, tenant_id: str, job_id: str) -> None:
        self._messages.send({"tenant_id": tenant_id, "job_id": job_id})
