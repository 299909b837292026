"""Mail events: the mail queue worker, SES feedback, the outbox sweeper, and GET /mail-jobs."""
from __future__ import annotations

from typing import Callable

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.domain import json_input
from chalicelib.handlers import render
from chalicelib.handlers.http import route
from chalicelib.handlers.responses import MAIL_JOB
from chalicelib.handlers.schema import PAGE, Schema
from chalicelib.resources import MAIL_FEEDBACK_QUEUE, MAIL_QUEUE

bp = Blueprint(__name__)

VIEW = Schema(PAGE)

# The string fields of each kind of job message (the app's own senders write them).
MAIL_JOB_FIELDS = ("tenant_id", "job_id")
NOTICE_BATCH = ("tenant_id", "notice_id", "batch")
FANOUT_JOB = ("tenant_id", "notice_id", "event_key")


class MalformedMessage(ValueError):
    """A message no attempt can handle (not JSON, too deep, not the expected object). It fails
    its record like any error: the redrive policy moves it to the DLQ after maxReceiveCount
    attempts, and the rest of its batch is handled (docs/mail.md)."""


def _object(text, what: str = "body") -> dict:
    try:
        value = json_input.parse(text)
    except json_input.MalformedJSON as error:
        raise MalformedMessage(f"{what} {error.problem}") from None
    if not isinstance(value, dict):
        raise MalformedMessage(f"{what} is not a JSON object")
    return value


def _job(text: str, fields_of: Callable[[dict], tuple[str, ...]]) -> dict:
    """The job in a message body, with each of `fields_of(job)` a string; else MalformedMessage."""
    job = _object(text)
    wrong = [name for name in fields_of(job) if not isinstance(job.get(name), str)]
    if wrong:
        raise MalformedMessage(f"{', '.join(wrong)}: missing or not a string")
    return job


def _partial_batch(event, handle_record) -> dict:
    """Runs `handle_record` per SQS record with Powertools' BatchProcessor; failed records are
    reported in batchItemFailures (infra sets ReportBatchItemFailures) and come back later.
    A batch whose every record failed is reported the same way rather than raised: SQS retries
    exactly those messages, and the function does not count as crashed."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def handle(record) -> None:
        try:
            handle_record(record)
        except MalformedMessage as error:
            bootstrap.get_logger().error("malformed message", extra={
                "message_id": record.message_id, "queue": record.event_source_arn.rsplit(":", 1)[-1],
                "problem": str(error)})
            raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event.to_dict(), record_handler=handle, processor=processor,
                                    context=event.context)


def _jobs(event, queue, fields_of: Callable[[dict], tuple[str, ...]], run) -> dict:
    """`_partial_batch` over job messages: `run(job, last_attempt)` per record, where
    last_attempt says the queue will send the message to its DLQ if this attempt fails."""
    def handle(record) -> None:
        job = _job(record.body, fields_of)
        run(job, int(record.attributes.approximate_receive_count) >= queue.max_receive_count)

    return _partial_batch(event, handle)


@bp.on_sqs_message(queue=MAIL_QUEUE.default_name, batch_size=MAIL_QUEUE.batch_size, name=MAIL_QUEUE.handler)
def send_mail(event):
    """Outbox jobs (services/mail.py). Notice batches have their own queue and handler."""
    service = bootstrap.get_mail_service()
    return _jobs(event, MAIL_QUEUE, lambda job: MAIL_JOB_FIELDS,
                 lambda job, last_attempt: service.process(job["tenant_id"], job["job_id"], last_attempt=last_attempt))


@bp.on_sqs_message(queue=MAIL_FEEDBACK_QUEUE.default_name, batch_size=MAIL_FEEDBACK_QUEUE.batch_size,
                   name=MAIL_FEEDBACK_QUEUE.handler)
def mail_feedback(event):
    """SES bounce/complaint notifications, via SNS (raw delivery or the SNS envelope)."""
    router = bootstrap.get_mail_feedback()

    def handle(record) -> None:
        body = _object(record.body)
        if body.get("Type") == "Notification" and "Message" in body:
            if not isinstance(body["Message"], str):
                raise MalformedMessage("Message is not a string")
            body = _object(body["Message"], "Message")
        router.record(body)

    return _partial_batch(event, handle)


@bp.schedule("rate(1 minute)", name="mail_sweeper")
def mail_sweeper(event):
    return {"requeued": bootstrap.get_mail_service().sweep()}


@route(bp, "/mail-jobs/{job_id}", query=VIEW, responses={200: MAIL_JOB})
def get_mail_job(call, job_id):
    q = call.query
    view, next_cursor = bootstrap.get_mail_service().view(call.tenant_id, job_id, q.get("limit", 100), q.get("cursor"))
    return render.mail_job(view, next_cursor)
