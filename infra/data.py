"""CDK constructs for what chalicelib/resources.py declares: tables, secrets, queues, topics,
SES identities, the SES configuration set for mail feedback, and the SES templates.

Each maker takes one declaration from chalicelib.resources and nothing else, so the template
follows that module (tests/infra compares the two).
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager, aws_ses as ses, aws_sns as sns
from aws_cdk import aws_sns_subscriptions as sns_subscriptions, aws_sqs as sqs
from constructs import Construct

from chalicelib.resources import MailFeedback, Queue, Secret, Table, Topic

MIN_MAX_RECEIVE_COUNT = 5
DLQ_RETENTION = Duration.days(14)  # the maximum: time to look at and redrive what failed
SECRET_LENGTH = 48

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _attribute(name: str, type_: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[type_])


def make_table(scope: Construct, table: Table) -> dynamodb.Table:
    """On-demand table with point-in-time recovery and deletion protection, kept on stack delete.

    No physical name: CloudFormation picks one, the Lambdas get it through `table.name_env`,
    so two stages can live in one account.
    """
    types = table.attribute_types()
    cdk_table = dynamodb.Table(
        scope, table.logical_id,
        partition_key=_attribute(table.hash_key, types[table.hash_key]),
        sort_key=_attribute(table.range_key, types[table.range_key]) if table.range_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index in table.indexes:
        cdk_table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.hash_key, index.hash_type),
            sort_key=_attribute(index.range_key, index.range_type) if index.range_key else None,
            projection_type=dynamodb.ProjectionType.ALL,
        )
    return cdk_table


def make_secret(scope: Construct, secret: Secret) -> secretsmanager.Secret:
    """A secret whose value Secrets Manager generates at deploy time: never in the repo."""
    return secretsmanager.Secret(
        scope, secret.logical_id,
        description=f"Roster {secret.default_name}: generated, read by the API ({secret.name_env}).",
        generate_secret_string=secretsmanager.SecretStringGenerator(
            password_length=SECRET_LENGTH, exclude_punctuation=True),
        removal_policy=RemovalPolicy.RETAIN,
    )


class QueueWithDeadLetters(Construct):
    """An SQS queue, its dead-letter queue, and an alarm when anything lands in the latter.

    The visibility timeout is 6x the consumer's timeout (AWS's advice for Lambda consumers),
    and a message is moved to the DLQ after `max_receive_count` (>= 5) failed receives.
    """

    def __init__(self, scope: Construct, queue: Queue) -> None:
        super().__init__(scope, queue.logical_id)
        if queue.max_receive_count < MIN_MAX_RECEIVE_COUNT:
            raise ValueError(
                f"{queue.logical_id}: max_receive_count {queue.max_receive_count} < {MIN_MAX_RECEIVE_COUNT}; "
                "Lambda's poller can receive a message more than once even when nothing failed.")
        if queue.visibility_timeout_seconds < 6 * queue.consumer_timeout_seconds:
            raise ValueError(f"{queue.logical_id}: visibility timeout must be >= 6x the consumer's timeout")
        self.declaration = queue
        self.dead_letters = sqs.Queue(
            self, "DeadLetters",
            retention_period=DLQ_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self, "Queue",
            visibility_timeout=Duration.seconds(queue.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=queue.max_receive_count),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.alarm = cloudwatch.Alarm(
            self, "DeadLettersAlarm",
            alarm_description=f"Messages of {queue.default_name} failed {queue.max_receive_count} times "
                              "and wait in its dead-letter queue.",
            metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


def make_email_identity(scope: Construct, identity: str,
                        configuration_set: ses.ConfigurationSet | None = None) -> ses.EmailIdentity:
    """An SES identity (domain or address). A domain needs its DKIM records published.

    With a configuration set, it is the identity's default one: mail from it reports feedback
    even if a sender left out ConfigurationSetName (SesMailer always passes it).
    """
    logical_id = "EmailIdentity" + "".join(part.capitalize() for part in _words(identity))
    return ses.EmailIdentity(scope, logical_id, identity=ses.Identity.email(identity) if "@" in identity
                             else ses.Identity.domain(identity), configuration_set=configuration_set)


def make_topic(scope: Construct, topic: Topic, queues: dict[str, sqs.IQueue]) -> sns.Topic:
    """An SNS topic and, per subscriber queue (by logical id), an SQS subscription with raw
    message delivery (the queue gets the message itself, not SNS's envelope) and the queue
    policy statement that lets this topic (only) send to the queue."""
    cdk_topic = sns.Topic(scope, topic.logical_id, display_name=f"Roster {topic.default_name}")
    for subscriber in topic.subscribers:
        if subscriber not in queues:
            raise ValueError(f"topic {topic.logical_id} names subscriber {subscriber!r}, which is not a "
                             "queue of chalicelib/resources.py (Queue.logical_id)")
        cdk_topic.add_subscription(sns_subscriptions.SqsSubscription(queues[subscriber], raw_message_delivery=True))
    return cdk_topic


def make_mail_feedback(scope: Construct, feedback: tuple[MailFeedback, ...],
                       topics: dict[str, sns.Topic]) -> ses.ConfigurationSet:
    """The SES configuration set that publishes bounces and complaints to the feedback topics.

    CloudFormation cannot set an identity's notification topics (SetIdentityNotificationTopic,
    what the local stack uses with moto), so in AWS feedback is *event publishing*: an event
    destination of this configuration set, which every send names (ROSTER_SES_CONFIGURATION_SET)
    and which is the default of the platform's identities. Its messages carry `eventType`
    where identity notifications carry `notificationType`; the feedback handler reads both.
    CDK adds the topic policy that lets SES (this configuration set, this account) publish.
    """
    configuration_set = ses.ConfigurationSet(scope, "MailConfigurationSet")
    destinations: dict[str, set[str]] = {}
    for entry in feedback:
        if entry.topic not in topics:
            raise ValueError(f"mail_feedback for {entry.identity} names topic {entry.topic!r}, which is not "
                             "declared in chalicelib/resources.py (Topic.logical_id)")
        destinations.setdefault(entry.topic, set()).update(entry.notification_types)
    for topic_id, types in destinations.items():
        ses.ConfigurationSetEventDestination(
            scope, f"MailConfigurationSet{topic_id}",
            configuration_set=configuration_set,
            destination=ses.EventDestination.sns_topic(topics[topic_id]),
            events=[getattr(ses.EmailSendingEvent, kind.upper()) for kind in sorted(types)],
        )
    return configuration_set


def make_email_templates(scope: Construct, templates) -> dict[str, ses.CfnTemplate]:
    """One SES template per `chalicelib.mail.catalog.ses_templates()` entry, under its name
    (the app sends by that name; the local stack creates the same ones)."""
    made = {}
    for template in templates:
        logical_id = "MailTemplate" + "".join(part.capitalize() for part in _words(template.name))
        made[template.name] = ses.CfnTemplate(scope, logical_id, template=ses.CfnTemplate.TemplateProperty(
            template_name=template.name, subject_part=template.subject, text_part=template.text,
            html_part=template.html))
    return made


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
