"""Provisioning creates exactly what a Resources definition says, and a second run changes nothing."""
from __future__ import annotations

import json

from chalicelib.resources import Index, Queue, Resources, Secret, Table

from infra.local_stack.fake_aws import aws_client
from infra.local_stack.provisioning import create_resources


def definition(unique: str) -> Resources:
    return Resources(
        tables=(Table("Main", "TEST_TABLE", f"main-{unique}", indexes=(
            Index("by_email", "email_key"),
            Index("by_count", "warn_pk", range_key="count", range_type="N"),
        )),),
        queues=(Queue("Jobs", "TEST_QUEUE", f"jobs-{unique}", "work", consumer_timeout_seconds=30, max_receive_count=4),),
        secrets=(Secret("Key", "TEST_SECRET", f"key-{unique}"), Secret("Other", "TEST_OTHER", f"other-{unique}")),
        email_identities=(f"noreply-{unique}@example.com", f"{unique}.example.org"),
    )


def test_creates_tables_queues_secrets_and_identities_from_the_definition(aws_url, unique):
    report = create_resources(definition(unique), aws_url, {"Key": "the-key"}, environ={})

    table = aws_client("dynamodb", aws_url).describe_table(TableName=f"main-{unique}")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "pk": "S", "sk": "S", "email_key": "S", "warn_pk": "S", "count": "N"}
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert indexes["by_email"]["KeySchema"] == [{"AttributeName": "email_key", "KeyType": "HASH"}]
    assert indexes["by_count"]["KeySchema"] == [{"AttributeName": "warn_pk", "KeyType": "HASH"},
                                                {"AttributeName": "count", "KeyType": "RANGE"}]
    assert {index["Projection"]["ProjectionType"] for index in indexes.values()} == {"ALL"}

    sqs = aws_client("sqs", aws_url)
    attributes = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=f"jobs-{unique}")["QueueUrl"],
                                          AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:eu-central-1:123456789012:jobs-{unique}-dlq", "maxReceiveCount": 4}

    secrets = aws_client("secretsmanager", aws_url)
    assert secrets.get_secret_value(SecretId=f"key-{unique}")["SecretString"] == "the-key"
    assert len(secrets.get_secret_value(SecretId=f"other-{unique}")["SecretString"]) >= 32

    identities = aws_client("ses", aws_url).list_identities()["Identities"]
    assert {f"noreply-{unique}@example.com", f"{unique}.example.org"} <= set(identities)
    assert len(report.created) == 7 and report.unchanged == []


def test_a_second_run_changes_nothing(aws_url, unique):
    create_resources(definition(unique), aws_url, {"Key": "the-key"}, environ={})
    generated = aws_client("secretsmanager", aws_url).get_secret_value(SecretId=f"other-{unique}")["SecretString"]

    again = create_resources(definition(unique), aws_url, {"Key": "the-key"}, environ={})

    assert again.created == [] and again.updated == [] and len(again.unchanged) == 7
    assert aws_client("secretsmanager", aws_url).get_secret_value(SecretId=f"other-{unique}")["SecretString"] == generated


def test_names_come_from_the_environment_when_set(aws_url, unique):
    environ = {"TEST_TABLE": f"renamed-{unique}", "TEST_QUEUE": f"renamed-jobs-{unique}"}

    report = create_resources(definition(unique), aws_url, {"Key": "k"}, environ=environ)

    assert f"table:renamed-{unique}" in report.created
    assert f"queue:renamed-jobs-{unique}" in report.created and f"queue:renamed-jobs-{unique}-dlq" in report.created


def test_a_new_platform_key_replaces_the_secret_value(aws_url, unique):
    create_resources(definition(unique), aws_url, {"Key": "old"}, environ={})

    report = create_resources(definition(unique), aws_url, {"Key": "new"}, environ={})

    assert report.updated == [f"secret:key-{unique}"]
    assert aws_client("secretsmanager", aws_url).get_secret_value(SecretId=f"key-{unique}")["SecretString"] == "new"
