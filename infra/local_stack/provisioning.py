"""Creates everything in a `Resources` definition, idempotently: existing resources are left alone.

Driven only by chalicelib.resources, so the local stack cannot drift from what infra deploys.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping

from chalicelib.resources import Queue, Resources, Secret, Table, Topic

from infra.local_stack.fake_aws import REGION, aws_client
from infra.local_stack.resource_names import dead_letter_queue_name, physical_name


@dataclass
class ProvisioningReport:
    """What one provisioning run did, as `kind:name` entries."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def create_resources(
    resources: Resources,
    endpoint_url: str,
    secret_values: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    region: str = REGION,
    dynamodb_url: str | None = None,
) -> ProvisioningReport:
    """Creates the tables, queues (each with its DLQ), secrets and SES identities of `resources`.

    `secret_values` maps a Secret's logical_id to its value; a secret without one gets a random
    value when created. The tables go to `dynamodb_url` when given (the stack's DynamoDB process),
    else to `endpoint_url`. Running it again against the same servers changes nothing.
    """
    report = ProvisioningReport()
    dynamodb, sqs = aws_client("dynamodb", dynamodb_url or endpoint_url, region), aws_client("sqs", endpoint_url, region)
    secretsmanager, ses = aws_client("secretsmanager", endpoint_url, region), aws_client("ses", endpoint_url, region)
    for table in resources.tables:
        _ensure_table(dynamodb, table, physical_name(table, environ), report)
    for queue in resources.queues:
        _ensure_queue_with_dead_letter_queue(sqs, queue, environ, report)
    for secret in resources.secrets:
        _ensure_secret(secretsmanager, secret, physical_name(secret, environ), (secret_values or {}).get(secret.logical_id), report)
    _ensure_email_identities(ses, resources.email_identities, report)
    sns = aws_client("sns", endpoint_url, region)
    topic_arns = {topic.logical_id: _ensure_topic(sns, sqs, topic, resources, environ, report)
                  for topic in resources.topics}
    for feedback in resources.mail_feedback:
        for notification_type in feedback.notification_types:
            ses.set_identity_notification_topic(Identity=feedback.identity, NotificationType=notification_type,
                                                SnsTopic=topic_arns[feedback.topic])
    if resources.mail_templates:
        _ensure_email_templates(ses, report)
    return report


def _ensure_topic(sns: Any, sqs: Any, topic: Topic, resources: Resources, environ: Mapping[str, str] | None,
                  report: ProvisioningReport) -> str:
    """The topic (CreateTopic is idempotent) and a raw-delivery subscription per subscriber queue."""
    arn = sns.create_topic(Name=physical_name(topic, environ))["TopicArn"]
    existing = {s["Endpoint"] for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
                for s in page["Subscriptions"]}
    queues = {q.logical_id: q for q in resources.queues}
    for subscriber in topic.subscribers:
        url = sqs.get_queue_url(QueueName=physical_name(queues[subscriber], environ))["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if queue_arn in existing:
            report.unchanged.append(f"subscription:{topic.default_name}->{subscriber}")
            continue
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
        report.created.append(f"subscription:{topic.default_name}->{subscriber}")
    return arn


def _ensure_email_templates(ses: Any, report: ProvisioningReport) -> None:
    """Every SES template of chalicelib/mail/templates/, created or brought up to date."""
    from chalicelib.mail.catalog import ses_templates

    existing = {t["Name"] for page in ses.get_paginator("list_templates").paginate() for t in page["TemplatesMetadata"]}
    for template in ses_templates():
        if template.name not in existing:
            ses.create_template(Template=template.as_ses())
            report.created.append(f"template:{template.name}")
        elif ses.get_template(TemplateName=template.name)["Template"] != template.as_ses():
            ses.update_template(Template=template.as_ses())
            report.updated.append(f"template:{template.name}")
        else:
            report.unchanged.append(f"template:{template.name}")


def table_definition(table: Table, name: str) -> dict[str, Any]:
    """The CreateTable request for `table`: on-demand, every GSI projecting ALL."""
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": attribute, "AttributeType": kind}
                                 for attribute, kind in table.attribute_types().items()],
        "KeySchema": _key_schema(table.hash_key, table.range_key),
    }
    if table.indexes:
        definition["GlobalSecondaryIndexes"] = [
            {"IndexName": index.name, "KeySchema": _key_schema(index.hash_key, index.range_key),
             "Projection": {"ProjectionType": "ALL"}}
            for index in table.indexes
        ]
    return definition


def queue_attributes(queue: Queue, dead_letter_queue_arn: str) -> dict[str, str]:
    """The queue attributes infra deploys: visibility timeout and redrive to the DLQ."""
    return {
        "VisibilityTimeout": str(queue.visibility_timeout_seconds),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_letter_queue_arn,
                                     "maxReceiveCount": queue.max_receive_count}),
    }


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _ensure_table(client: Any, table: Table, name: str, report: ProvisioningReport) -> None:
    try:
        client.describe_table(TableName=name)
        report.unchanged.append(f"table:{name}")
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    try:
        client.create_table(**table_definition(table, name))
        report.created.append(f"table:{name}")
    except client.exceptions.ResourceInUseException:  # created concurrently
        report.unchanged.append(f"table:{name}")


def _ensure_queue_with_dead_letter_queue(client: Any, queue: Queue, environ: Mapping[str, str] | None,
                                         report: ProvisioningReport) -> None:
    dead_letter_url = _ensure_queue(client, dead_letter_queue_name(queue, environ), {}, report)
    dead_letter_arn = client.get_queue_attributes(
        QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    _ensure_queue(client, physical_name(queue, environ), queue_attributes(queue, dead_letter_arn), report)


def _ensure_queue(client: Any, name: str, attributes: dict[str, str], report: ProvisioningReport) -> str:
    try:
        url = client.get_queue_url(QueueName=name)["QueueUrl"]
        report.unchanged.append(f"queue:{name}")
        return url
    except client.exceptions.QueueDoesNotExist:
        pass
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    report.created.append(f"queue:{name}")
    return url


def _ensure_secret(client: Any, secret: Secret, name: str, value: str | None, report: ProvisioningReport) -> None:
    try:
        client.describe_secret(SecretId=name)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=value or secrets.token_urlsafe(32))
        report.created.append(f"secret:{name}")
        return
    if value is not None and client.get_secret_value(SecretId=name)["SecretString"] != value:
        client.put_secret_value(SecretId=name, SecretString=value)
        report.updated.append(f"secret:{name}")
    else:
        report.unchanged.append(f"secret:{name}")


def _ensure_email_identities(client: Any, identities: tuple[str, ...], report: ProvisioningReport) -> None:
    existing = {identity for page in client.get_paginator("list_identities").paginate()
                for identity in page["Identities"]}
    for identity in identities:
        if identity in existing:
            report.unchanged.append(f"identity:{identity}")
        elif "@" in identity:
            client.verify_email_identity(EmailAddress=identity)
            report.created.append(f"identity:{identity}")
        else:
            client.verify_domain_identity(Domain=identity)
            report.created.append(f"identity:{identity}")
