"""The running local stack holds exactly what chalicelib/resources.py defines, checked with live describe calls."""
from __future__ import annotations

import json

import pytest

from chalicelib.resources import RESOURCES

from infra.local_stack.fake_aws import aws_client
from infra.local_stack.resource_names import dead_letter_queue_name, physical_name

pytestmark = pytest.mark.e2e
CREATED_BY_TESTS = "e2e-"  # other e2e tests create their own queues and identities with this prefix


def not_from_tests(names):
    return {name for name in names if not name.startswith(CREATED_BY_TESTS)}


def key_schema(hash_key, range_key):
    return [{"AttributeName": hash_key, "KeyType": "HASH"}] + (
        [{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else [])


def test_tables_and_indexes(local_stack):
    dynamodb = aws_client("dynamodb", local_stack.dynamodb_url)

    assert set(dynamodb.list_tables()["TableNames"]) == {physical_name(t, local_stack.environ) for t in RESOURCES.tables}
    for table in RESOURCES.tables:
        live = dynamodb.describe_table(TableName=physical_name(table, local_stack.environ))["Table"]
        assert live["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert live["KeySchema"] == key_schema(table.hash_key, table.range_key)
        assert {a["AttributeName"]: a["AttributeType"] for a in live["AttributeDefinitions"]} == table.attribute_types()
        indexes = {index["IndexName"]: index for index in live.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {index.name for index in table.indexes}
        for index in table.indexes:
            assert indexes[index.name]["KeySchema"] == key_schema(index.hash_key, index.range_key)
            assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}


def test_queues_and_their_dead_letter_queues(local_stack):
    sqs = aws_client("sqs", local_stack.aws_url)
    live = {url.rsplit("/", 1)[-1] for page in sqs.get_paginator("list_queues").paginate() for url in page.get("QueueUrls", [])}

    assert not_from_tests(live) == {name for queue in RESOURCES.queues for name in (
        physical_name(queue, local_stack.environ), dead_letter_queue_name(queue, local_stack.environ))}
    for queue in RESOURCES.queues:
        dead_letter = dead_letter_queue_name(queue, local_stack.environ)
        dead_letter_arn = sqs.get_queue_attributes(QueueUrl=sqs.get_queue_url(QueueName=dead_letter)["QueueUrl"],
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=sqs.get_queue_url(QueueName=physical_name(queue, local_stack.environ))["QueueUrl"],
            AttributeNames=["All"])["Attributes"]
        assert attributes["VisibilityTimeout"] == str(queue.visibility_timeout_seconds)
        assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dead_letter_arn,
                                                           "maxReceiveCount": queue.max_receive_count}


def test_secrets(local_stack):
    secrets = aws_client("secretsmanager", local_stack.aws_url)
    live = {secret["Name"] for page in secrets.get_paginator("list_secrets").paginate() for secret in page["SecretList"]}

    assert live == {physical_name(secret, local_stack.environ) for secret in RESOURCES.secrets}


def test_email_identities(local_stack):
    # the definition's identities are domains; addresses are tenants' senders that the app asked SES
    # to verify (POST /tenant/sender/verify, which the OpenAPI fuzz calls with addresses it makes up)
    identities = aws_client("ses", local_stack.aws_url).list_identities(IdentityType="Domain")["Identities"]

    assert not_from_tests(identities) == set(RESOURCES.email_identities)


def test_topics_and_their_raw_delivery_subscriptions(local_stack):
    sns, sqs = aws_client("sns", local_stack.aws_url), aws_client("sqs", local_stack.aws_url)
    topics = {arn.rsplit(":", 1)[1]: arn for page in sns.get_paginator("list_topics").paginate()
              for arn in (t["TopicArn"] for t in page["Topics"])}
    queues = {q.logical_id: q for q in RESOURCES.queues}

    assert not_from_tests(topics) == {physical_name(t, local_stack.environ) for t in RESOURCES.topics}
    for topic in RESOURCES.topics:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topics[physical_name(topic, local_stack.environ)])
        endpoints = {s["Endpoint"]: s["SubscriptionArn"] for s in subscriptions["Subscriptions"] if s["Protocol"] == "sqs"}
        for subscriber in topic.subscribers:
            url = sqs.get_queue_url(QueueName=physical_name(queues[subscriber], local_stack.environ))["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes = sns.get_subscription_attributes(SubscriptionArn=endpoints[arn])["Attributes"]
            assert attributes["RawMessageDelivery"] == "true"


def test_email_templates(local_stack):
    from chalicelib.mail.catalog import ses_templates

    ses = aws_client("ses", local_stack.aws_url)
    live = {t["Name"] for page in ses.get_paginator("list_templates").paginate() for t in page["TemplatesMetadata"]}

    assert not_from_tests(live) == ({t.name for t in ses_templates()} if RESOURCES.mail_templates else set())
    for template in ses_templates():
        assert ses.get_template(TemplateName=template.name)["Template"] == template.as_ses()
