"""The one definition of the AWS resources the app needs.

The local stack creates them from here (idempotently) and the CDK app in infra/ describes them
from here too; tests compare the synthesised template with this module, so nothing drifts.
Pure data: importing it does no I/O. The descriptions are NamedTuples, immutable like frozen
dataclasses and several times cheaper to define: the API imports this module on every cold start.
"""
from __future__ import annotations

from typing import NamedTuple

# The name of the function behind the REST API, as `senders`, `mail_senders` and
# `sender_verifiers` below write it; the others are the names of their chalice handlers.
API_FUNCTION = "api_handler"


class Index(NamedTuple):
    """A global secondary index of a table (every attribute projected)."""

    name: str
    hash_key: str
    hash_type: str = "S"
    range_key: str | None = None
    range_type: str = "S"


class Table(NamedTuple):
    """A DynamoDB table: string keys `pk` and `sk` unless named otherwise, and its indexes."""

    logical_id: str
    name_env: str
    default_name: str
    hash_key: str = "pk"
    range_key: str = "sk"
    indexes: tuple[Index, ...] = ()

    def attribute_types(self) -> dict[str, str]:
        types = {self.hash_key: "S", self.range_key: "S"}
        for index in self.indexes:
            types[index.hash_key] = index.hash_type
            if index.range_key:
                types[index.range_key] = index.range_type
        return types


class Queue(NamedTuple):
    """An SQS queue with its dead-letter queue, the handler that consumes it and who sends to it."""

    logical_id: str
    name_env: str
    default_name: str
    handler: str
    batch_size: int = 10
    consumer_timeout_seconds: int = 60
    max_receive_count: int = 5
    # Functions that send messages to it: only they get its name (`name_env`) and may send.
    senders: tuple[str, ...] = ()
    # At most this many concurrent invocations of the consumer (the event source mapping's
    # MaximumConcurrency, 2–1000); None = infra's default.
    max_concurrency: int | None = None

    @property
    def visibility_timeout_seconds(self) -> int:
        return 6 * self.consumer_timeout_seconds

    @property
    def dlq_default_name(self) -> str:
        return f"{self.default_name}-dlq"


class Secret(NamedTuple):
    """A generated secret (Secrets Manager): its value is made by infra, never kept in the repo."""

    logical_id: str
    name_env: str
    default_name: str


class Topic(NamedTuple):
    """An SNS topic whose messages go to the named queues (raw message delivery)."""

    logical_id: str
    name_env: str
    default_name: str
    subscribers: tuple[str, ...] = ()  # Queue.logical_id


class MailFeedback(NamedTuple):
    """Where SES reports bounces and complaints for an identity: a topic (of `topics`)."""

    identity: str
    topic: str  # Topic.logical_id
    notification_types: tuple[str, ...] = ("Bounce", "Complaint")


class Resources(NamedTuple):
    """Every resource of the app, as the local stack and infra create them."""

    tables: tuple[Table, ...]
    queues: tuple[Queue, ...] = ()
    secrets: tuple[Secret, ...] = ()
    email_identities: tuple[str, ...] = ()
    topics: tuple[Topic, ...] = ()
    mail_feedback: tuple[MailFeedback, ...] = ()
    # Whether SES holds the mail templates of chalicelib/mail/templates/ (catalog.ses_templates()).
    mail_templates: bool = False
    # Functions that send mail through SES (templated): they get the SES configuration set.
    mail_senders: tuple[str, ...] = ()
    # Functions that read the SES send rate (ROSTER_SES_MAX_SEND_RATE) without sending mail.
    send_rate_readers: tuple[str, ...] = ()
    # Functions that ask SES to verify a tenant's own sender address and read its status (T3).
    sender_verifiers: tuple[str, ...] = ()


# Warnings (N4) are found through numeric sort keys kept with atomic ADD/SET (warn_* indexes),
# so no write has to read first: accounts with caretaker_count = 0 are the no_caretaker ones.
MAIN_TABLE = Table(
    logical_id="RosterTable",
    name_env="ROSTER_TABLE_NAME",
    default_name="roster",
    indexes=(
        Index("by_list", "list_pk", range_key="list_sk"),
        Index("by_status", "status_pk", range_key="list_sk"),
        Index("by_email", "email_key"),
        Index("by_person", "person_key", range_key="person_sk"),
        Index("by_pending", "pending_pk", range_key="pending_sk"),
        Index("warn_caretaker", "warn_pk", range_key="caretaker_count", range_type="N"),
        Index("warn_on_site_admin", "warn_pk", range_key="on_site_admin_count", range_type="N"),
        Index("warn_technical", "warn_pk", range_key="has_technical", range_type="N"),
        Index("warn_administrative", "warn_pk", range_key="has_administrative", range_type="N"),
    ),
)

PLATFORM_KEY = Secret(
    logical_id="PlatformKey",
    name_env="ROSTER_PLATFORM_KEY_SECRET",
    default_name="roster/platform-key",
)

# Publishing a notice (or a schedule step) writes an event and hands it here; the fan-out reads
# the audience page by page and plans batches of ≤ 50 recipients, which go to the mail queue.
NOTICE_FANOUT_QUEUE = Queue(
    logical_id="NoticeFanoutQueue",
    name_env="ROSTER_NOTICE_FANOUT_QUEUE",
    default_name="roster-notice-fanout",
    handler="notice_fanout",
    batch_size=1,
    consumer_timeout_seconds=300,
    # the fan-out hands a paced notice on to a delayed continuation of itself (SQS delays ≤ 900 s)
    senders=(API_FUNCTION, "notice_schedule", "notice_fanout"),
)

# A notice's batches of ≤ 50, each message delayed until its batch is due (the SES send rate):
# no worker waits for the rate. Its own queue and function, apart from the outbox jobs.
NOTICE_BATCH_QUEUE = Queue(
    logical_id="NoticeBatchQueue",
    name_env="ROSTER_NOTICE_BATCH_QUEUE",
    default_name="roster-notice-batch",
    handler="send_notice_batch",
    batch_size=10,
    consumer_timeout_seconds=60,
    max_concurrency=4,
    senders=(NOTICE_FANOUT_QUEUE.handler, "notice_schedule"),
)

MAIL_QUEUE = Queue(
    logical_id="MailQueue",
    name_env="ROSTER_MAIL_QUEUE",
    default_name="roster-mail",
    handler="send_mail",
    batch_size=10,
    consumer_timeout_seconds=60,
    max_concurrency=4,
    # The API writes jobs (e.g. a contact's welcome mail) and dispatches them after the commit;
    # the sweeper re-queues jobs whose dispatch was lost.
    senders=(API_FUNCTION, "mail_sweeper"),
)

MAIL_FEEDBACK_QUEUE = Queue(
    logical_id="MailFeedbackQueue",
    name_env="ROSTER_MAIL_FEEDBACK_QUEUE",
    default_name="roster-mail-feedback",
    handler="mail_feedback",
    batch_size=10,
    consumer_timeout_seconds=30,
)

MAIL_FEEDBACK_TOPIC = Topic(
    logical_id="MailFeedbackTopic",
    name_env="ROSTER_MAIL_FEEDBACK_TOPIC",
    default_name="roster-mail-feedback",
    subscribers=(MAIL_FEEDBACK_QUEUE.logical_id,),
)

# The platform's sending domain. Tenants may send from their own verified address (T3);
# otherwise mail goes out as "<tenant display name> <no-reply@MAIL_DOMAIN>".
MAIL_DOMAIN = "mail.roster.test"

RESOURCES = Resources(
    tables=(MAIN_TABLE,),
    queues=(MAIL_QUEUE, NOTICE_FANOUT_QUEUE, NOTICE_BATCH_QUEUE, MAIL_FEEDBACK_QUEUE),
    secrets=(PLATFORM_KEY,),
    email_identities=(MAIL_DOMAIN,),
    topics=(MAIL_FEEDBACK_TOPIC,),
    mail_feedback=(MailFeedback(MAIL_DOMAIN, MAIL_FEEDBACK_TOPIC.logical_id),),
    mail_templates=True,
    mail_senders=(MAIL_QUEUE.handler, NOTICE_BATCH_QUEUE.handler),
    # the fan-out plans each batch's delay from the SES send rate
    send_rate_readers=(NOTICE_FANOUT_QUEUE.handler,),
    sender_verifiers=(API_FUNCTION,),
)
