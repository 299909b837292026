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

    def send(self, body: dict) -> None:
        self._client.send_message(QueueUrl=self._queue_url(), MessageBody=json.dumps(body))

    def send_many(self, bodies: list[dict]) -> None:
        """SendMessageBatch, 10 a request; raises if SQS refused any of them (the caller retries)."""
        for start in range(0, len(bodies), SEND_BATCH_LIMIT):
            chunk = bodies[start:start + SEND_BATCH_LIMIT]
            response = self._client.send_message_batch(QueueUrl=self._queue_url(), Entries=[
                {"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(chunk)])
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} messages: {response['Failed'][0]}")


class SqsJobQueue:
    """The mail queue's outbox jobs."""

    def __init__(self, client, queue_name: str):
        self._messages = SqsMessages(client, queue_name)

    def send(self, tenant_id: str, job_id: str) -> None:
        self._messages.send({"tenant_id": tenant_id, "job_id": job_id})
