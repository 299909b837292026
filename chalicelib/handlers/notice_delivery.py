"""The notice fan-out worker: one event a message (docs/notices.md). Its batches go on to the
mail queue, where `send_mail` hands them to NoticeDelivery.send_batch."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib import bootstrap
from chalicelib.handlers.mail import FANOUT_JOB, _jobs
from chalicelib.resources import NOTICE_FANOUT_QUEUE

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=NOTICE_FANOUT_QUEUE.default_name, batch_size=NOTICE_FANOUT_QUEUE.batch_size,
                   name=NOTICE_FANOUT_QUEUE.handler)
def notice_fanout(event):
    service = bootstrap.get_notice_delivery()
    return _jobs(event, NOTICE_FANOUT_QUEUE, lambda job: FANOUT_JOB, lambda job, last_attempt: service.fan_out(
        job["tenant_id"], job["notice_id"], job["event_key"], last_attempt=last_attempt))
