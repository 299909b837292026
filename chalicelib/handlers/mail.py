"""Mail events: the mail queue worker, SES feedback, the outbox sweeper, and GET /mail-jobs."""
from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.handlers import render
from chalicelib.handlers.http import route
from chalicelib.handlers.responses import MAIL_JOB
from chalicelib.handlers.schema import PAGE, Schema
from chalicelib.resources import MAIL_FEEDBACK_QUEUE, MAIL_QUEUE

bp = Blueprint(__name__)

VIEW = Schema(PAGE)


def _partial_batch(event, handle_record) -> dict:
    """Runs `handle_record` per SQS record with Powertools' BatchProcessor; failed records are
    reported in batchItemFailures (infra sets ReportBatchItemFailures) and come back later.
    A batch whose every record failed is reported the same way rather than raised: SQS retries
    exactly those messages, and the function does not count as crashed."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=handle_record, processor=processor,
                                    context=event.context)


def _jobs(event, queue, run) -> dict:
    """`_partial_batch` over JSON messages: `run(job, last_attempt)` per record, where
    last_attempt says the queue will send the message to its DLQ if this attempt fails."""
    def handle(record) -> None:
        run(json.loads(record.body), int(record.attributes.approximate_receive_count) >= queue.max_receive_count)

    return _partial_batch(event, handle)


@bp.on_sqs_message(queue=MAIL_QUEUE.default_name, batch_size=MAIL_QUEUE.batch_size, name=MAIL_QUEUE.handler)
def send_mail(event):
    service = bootstrap.get_mail_service()
    notice_batches = _notice_batches(event)
    following = dict(zip(notice_batches, notice_batches[1:]))  # each batch → the one this worker sends next
    if following:
        bootstrap.get_notice_delivery().begin(notice_batches)

    def run(job: dict, last_attempt: bool) -> None:
        if job.get("kind") == "notice_batch":  # a notice's batch of ≤ 50 (services/notice_delivery.py)
            delivery = bootstrap.get_notice_delivery()
            paced = delivery.seconds_per_batch()
            if _seconds_left(event) < paced:  # no time for one more
                delivery.defer(job["tenant_id"], job["notice_id"], job["batch"])
                return
            then = following.get(_batch_key(job)) if _seconds_left(event) >= 2 * paced else None
            delivery.send_batch(*_batch_key(job), last_attempt=last_attempt, then=then)
        else:
            service.process(job["tenant_id"], job["job_id"], last_attempt=last_attempt)

    try:
        return _jobs(event, MAIL_QUEUE, run)
    finally:
        if following:
            bootstrap.get_notice_delivery().release_held()


def _batch_key(job: dict) -> tuple[str, str, str]:
    return job["tenant_id"], job["notice_id"], job["batch"]


def _notice_batches(event) -> list[tuple[str, str, str]]:
    """The notice batches of this SQS batch, in order: each one's send_batch claims the one after
    it ahead. Records that are not notice batches are passed over."""
    batches = []
    for record in event:
        try:
            job = json.loads(record.body)
            if job.get("kind") == "notice_batch":
                batches.append(_batch_key(job))
        except (ValueError, AttributeError, KeyError):
            continue  # its own handling reports it
    return batches


def _seconds_left(event) -> float:
    remaining = getattr(event.context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else float("inf")


@bp.on_sqs_message(queue=MAIL_FEEDBACK_QUEUE.default_name, batch_size=MAIL_FEEDBACK_QUEUE.batch_size,
                   name=MAIL_FEEDBACK_QUEUE.handler)
def mail_feedback(event):
    """SES bounce/complaint notifications, via SNS (raw delivery or the SNS envelope)."""
    service = bootstrap.get_mail_service()

    def handle(record) -> None:
        body = json.loads(record.body)
        if body.get("Type") == "Notification" and "Message" in body:
            body = json.loads(body["Message"])
        service.record_feedback(body)

    return _partial_batch(event, handle)


@bp.schedule("rate(1 minute)", name="mail_sweeper")
def mail_sweeper(event):
    return {"requeued": bootstrap.get_mail_service().sweep()}


@route(bp, "/mail-jobs/{job_id}", query=VIEW, responses={200: MAIL_JOB})
def get_mail_job(call, job_id):
    q = call.query
    view, next_cursor = bootstrap.get_mail_service().view(call.tenant_id, job_id, q.get("limit", 100), q.get("cursor"))
    return render.mail_job(view, next_cursor)
