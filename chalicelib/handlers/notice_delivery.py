"""The notice queues: the fan-out (one event a message) and the batches of ≤ 50 it plans, each
message due when the SES send rate allows (docs/notices.md)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.handlers.mail import FANOUT_JOB, NOTICE_BATCH, _job, _jobs, _partial_batch
from chalicelib.resources import NOTICE_BATCH_QUEUE, NOTICE_FANOUT_QUEUE

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=NOTICE_FANOUT_QUEUE.default_name, batch_size=NOTICE_FANOUT_QUEUE.batch_size,
                   name=NOTICE_FANOUT_QUEUE.handler)
def notice_fanout(event):
    service = bootstrap.get_notice_delivery()
    return _jobs(event, NOTICE_FANOUT_QUEUE, lambda job: FANOUT_JOB, lambda job, last_attempt: service.fan_out(
        job["tenant_id"], job["notice_id"], job["event_key"], last_attempt=last_attempt,
        from_seq=job["from_seq"] if isinstance(job.get("from_seq"), int) else None))


@bp.on_sqs_message(queue=NOTICE_BATCH_QUEUE.default_name, batch_size=NOTICE_BATCH_QUEUE.batch_size,
                   name=NOTICE_BATCH_QUEUE.handler)
def send_notice_batch(event):
    """Each batch once (services/notice_delivery.py). A batch SES throttled comes back after the
    delay the service names (its message's visibility), not at once."""
    from chalicelib.services.notice_delivery import RetryLater

    service = bootstrap.get_notice_delivery()

    def handle(record) -> None:
        job = _job(record.body, lambda job: NOTICE_BATCH)
        receives = int(record.attributes.approximate_receive_count)
        try:
            service.send_batch(job["tenant_id"], job["notice_id"], job["batch"],
                               last_attempt=receives >= NOTICE_BATCH_QUEUE.max_receive_count, receive_count=receives)
        except RetryLater as later:
            service.retry_later(record.event_source_arn, record.receipt_handle, later.seconds)
            raise

    return _partial_batch(event, handle)
