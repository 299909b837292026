"""Hands a mail job to the mail queue (SQS). Only the ids travel; the job is in DynamoDB."""
from __future__ import annotations

import json


class SqsJobQueue:
    def __init__(self, client, queue_name: str):
        self._client = client
        self._name = queue_name
        self._url: str | None = None

    def send(self, tenant_id: str, job_id: str) -> None:
        if self._url is None:
            self._url = self._client.get_queue_url(QueueName=self._name)["QueueUrl"]
        self._client.send_message(QueueUrl=self._url, MessageBody=json.dumps({"tenant_id": tenant_id, "job_id": job_id}))
