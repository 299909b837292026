"""CDK constructs for what chalicelib/resources.py declares: tables, secrets, queues, identities.

Each maker takes one declaration from chalicelib.resources and nothing else, so the template
follows that module (tests/infra compares the two).
"""
from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, aws_cloudwatch as cloudwatch, aws_dynamodb as dynamodb
from aws_cdk import aws_secretsmanager as secretsmanager, aws_ses as ses, aws_sqs as sqs
from constructs import Construct

from chalicelib.resources import Queue, Secret, Table

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


def make_email_identity(scope: Construct, identity: str) -> ses.EmailIdentity:
    """An SES identity (domain or address). A domain needs its DKIM records published."""
    logical_id = "EmailIdentity" + "".join(part.capitalize() for part in _words(identity))
    return ses.EmailIdentity(scope, logical_id, identity=ses.Identity.email(identity) if "@" in identity
                             else ses.Identity.domain(identity))


def _words(text: str) -> list[str]:
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w]
