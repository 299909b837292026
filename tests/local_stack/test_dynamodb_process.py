"""DynamoDB's moto in a process of its own (infra/local_stack/dynamodb_process.py)."""
from __future__ import annotations

import os
from unittest import mock

from infra.local_stack.dynamodb_process import DynamoDbProcess
from infra.local_stack.fake_aws import apply_fake_aws_environment, aws_client

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@mock.patch.dict(os.environ)
def test_it_serves_dynamodb_in_another_process_until_stopped():
    apply_fake_aws_environment(os.environ)
    dynamodb = DynamoDbProcess(port=0, cwd=PROJECT_DIR)
    url = dynamodb.start()
    try:
        client = aws_client("dynamodb", url)
        client.create_table(TableName="probe", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        client.put_item(TableName="probe", Item={"pk": {"S": "a"}})
        assert client.get_item(TableName="probe", Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}
        from moto.dynamodb.models import dynamodb_backends

        assert "probe" not in dynamodb_backends["123456789012"]["eu-central-1"].tables  # not this process's moto
        process = dynamodb._process
    finally:
        assert dynamodb.stop() is True  # it ended when its standard input closed
    assert process.returncode == 0


def test_a_process_that_cannot_serve_is_reported():
    taken = DynamoDbProcess(port=0, cwd=PROJECT_DIR)
    url = taken.start()
    try:
        port = int(url.rsplit(":", 1)[1])
        second = DynamoDbProcess(port=port, cwd=PROJECT_DIR)
        try:
            second.start(timeout=5)
        except RuntimeError as error:
            assert "did not start" in str(error)
        else:
            second.stop()
            raise AssertionError("a second server on a taken port started")
    finally:
        taken.stop()
