"""Checks of a synthesised template against a `Resources` declaration (runs in the main venv).

Each declared resource is found the way the functions find it: through the environment
variable it declares (`name_env`), so a table, queue or secret that is not wired into the
functions is as much a failure as one that is missing.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from chalicelib.resources import Queue, Resources, Table
from infra import sam

MIN_MAX_RECEIVE_COUNT = 5
MAX_CONSUMER_CONCURRENCY = 50  # "bounded": well below an account's default 1000


def resources(template: dict, type_: str) -> dict[str, dict]:
    return sam.resources_of_type(template, type_)


def env_of(function: dict) -> dict[str, Any]:
    return function["Properties"].get("Environment", {}).get("Variables", {})


def env_values(template: dict, name: str) -> list[Any]:
    """The value of one environment variable in every function (each must have it)."""
    functions = sam.functions(template)
    assert functions, "the template has no functions"
    missing = sorted(f for f, spec in functions.items() if name not in env_of(spec))
    assert not missing, f"{name} is not set for {missing}"
    return [env_of(spec)[name] for spec in functions.values()]


def referenced_resource(template: dict, name_env: str, attribute: str | None) -> str:
    """Logical id of the resource every function gets through `name_env` (Ref or GetAtt)."""
    values = env_values(template, name_env)
    assert all(v == values[0] for v in values), f"functions disagree about {name_env}: {values}"
    value = values[0]
    if attribute is None:
        assert isinstance(value, dict) and set(value) == {"Ref"}, f"{name_env} is {value!r}, not a Ref"
        logical_id = value["Ref"]
    else:
        assert isinstance(value, dict) and "Fn::GetAtt" in value, f"{name_env} is {value!r}, not a GetAtt"
        logical_id, got = value["Fn::GetAtt"]
        assert got == attribute, f"{name_env} reads {got}, not {attribute}"
    assert logical_id in template["Resources"], f"{name_env} refers to a missing {logical_id}"
    return logical_id


# --- tables ------------------------------------------------------------------------------------
def key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def table_resource(template: dict, table: Table) -> dict:
    logical_id = referenced_resource(template, table.name_env, None)
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::DynamoDB::Table", f"{table.name_env} names a {resource['Type']}"
    return resource


def check_tables(template: dict, declared: Resources) -> None:
    assert len(resources(template, "AWS::DynamoDB::Table")) == len(declared.tables), \
        "the template has tables that chalicelib/resources.py does not declare (or the reverse)"
    for table in declared.tables:
        resource = table_resource(template, table)
        props = resource["Properties"]
        assert props["KeySchema"] == key_schema(table.hash_key, table.range_key), table.logical_id
        assert props["BillingMode"] == "PAY_PER_REQUEST", table.logical_id
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["DeletionProtectionEnabled"] is True
        assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
        assert "TableName" not in props, "a fixed table name would collide between stages"
        attributes = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert attributes == table.attribute_types(), table.logical_id
        indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
        assert sorted(indexes) == sorted(i.name for i in table.indexes), f"{table.logical_id} GSIs drifted"
        for index in table.indexes:
            got = indexes[index.name]
            assert got["KeySchema"] == key_schema(index.hash_key, index.range_key), index.name
            assert got["Projection"] == {"ProjectionType": "ALL"}, index.name


# --- secrets -----------------------------------------------------------------------------------
def check_secrets(template: dict, declared: Resources) -> None:
    assert len(resources(template, "AWS::SecretsManager::Secret")) == len(declared.secrets)
    for secret in declared.secrets:
        logical_id = referenced_resource(template, secret.name_env, None)
        resource = template["Resources"][logical_id]
        assert resource["Type"] == "AWS::SecretsManager::Secret"
        assert resource["Properties"]["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 48}
        assert "SecretString" not in resource["Properties"], "a secret's value must not be in the template"


# --- queues ------------------------------------------------------------------------------------
def queue_ids(template: dict, queue: Queue) -> tuple[str, str]:
    """(queue, dead-letter queue) logical ids of a declared queue."""
    logical_id = referenced_resource(template, queue.name_env, "QueueName")
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::SQS::Queue"
    redrive = resource["Properties"]["RedrivePolicy"]
    dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
    assert dlq[1] == "Arn" and template["Resources"][dlq[0]]["Type"] == "AWS::SQS::Queue"
    return logical_id, dlq[0]


def check_queues(template: dict, declared: Resources) -> None:
    assert len(resources(template, "AWS::SQS::Queue")) == 2 * len(declared.queues), \
        "every declared queue and its dead-letter queue, nothing else"
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    for queue in declared.queues:
        logical_id, dlq = queue_ids(template, queue)
        props = template["Resources"][logical_id]["Properties"]
        assert props["RedrivePolicy"]["maxReceiveCount"] == queue.max_receive_count >= MIN_MAX_RECEIVE_COUNT
        assert props["VisibilityTimeout"] == queue.visibility_timeout_seconds == 6 * queue.consumer_timeout_seconds
        assert "QueueName" not in props
        watching = [a["Properties"] for a in alarms.values()
                    if a["Properties"].get("Dimensions") == [
                        {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]]
        assert len(watching) == 1, f"no alarm on the dead-letter queue of {queue.logical_id}"
        alarm = watching[0]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0
        assert alarm.get("AlarmActions"), "the alarm tells nobody"


def check_sqs_event_sources(template: dict, declared: Resources) -> None:
    sources = sam.sqs_event_sources_raw(template)
    by_queue = {queue_ids(template, q)[0]: q for q in declared.queues}
    consumed = set()
    for function_id, event, props in sources:
        where = f"{function_id}.Events.{event}"
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], where
        concurrency = props.get("ScalingConfig", {}).get("MaximumConcurrency")
        assert concurrency is not None and 2 <= concurrency <= MAX_CONSUMER_CONCURRENCY, where
        queue_ref = props["Queue"]
        assert isinstance(queue_ref, dict) and queue_ref.get("Fn::GetAtt", [None])[0] in by_queue, \
            f"{where} reads {queue_ref!r}, not a queue of the stack"
        queue = by_queue[queue_ref["Fn::GetAtt"][0]]
        assert props["BatchSize"] == queue.batch_size, where
        timeout = template["Resources"][function_id]["Properties"]["Timeout"]
        assert timeout == queue.consumer_timeout_seconds, f"{function_id} timeout {timeout}"
        consumed.add(queue.logical_id)
    assert consumed == {q.logical_id for q in declared.queues}, "a declared queue has no consumer"


# --- functions and IAM ------------------------------------------------------------------------
def check_function_environment(template: dict) -> None:
    for function_id, function in sam.functions(template).items():
        env = env_of(function)
        assert env.get("POWERTOOLS_SERVICE_NAME"), function_id
        assert env.get("POWERTOOLS_METRICS_NAMESPACE") == "Roster", function_id


def check_tracing_off(template: dict) -> None:
    for function_id, function in sam.functions(template).items():
        assert "ROSTER_TRACING" not in env_of(function), function_id
        assert function["Properties"].get("Tracing", "PassThrough") == "PassThrough", function_id
    assert not any(a.startswith("xray:") for _, s in identity_statements(template) for a in actions(s))


def identity_statements(template: dict) -> Iterator[tuple[str, dict]]:
    """(role logical id, statement) of every identity policy in the template."""
    for role_id, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                yield role_id, statement
    for policy in resources(template, "AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                yield role["Ref"], statement


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def actions(statement: dict) -> list[str]:
    return _as_list(statement["Action"])


def statements_of(template: dict, function_id: str) -> list[dict]:
    role_id = sam.role_of(sam.functions(template)[function_id])
    assert role_id, f"{function_id} has no role of its own"
    return [s for r, s in identity_statements(template) if r == role_id]


def granted(template: dict, function_id: str, action: str) -> list[Any]:
    """Every resource the function's role may do `action` on."""
    return [r for s in statements_of(template, function_id) if s["Effect"] == "Allow" and action in actions(s)
            for r in _as_list(s["Resource"])]


def check_least_privilege(template: dict, declared: Resources) -> None:
    for role_id, statement in identity_statements(template):
        where = f"{role_id}: {json.dumps(statement)}"
        assert statement["Effect"] == "Allow", where
        assert not any("*" in a for a in actions(statement)), f"wildcard action in {where}"
        assert "dynamodb:Scan" not in actions(statement), where
        if "*" in _as_list(statement["Resource"]):
            # X-Ray has no resource-level permissions: the only "*" AWS requires.
            assert all(a.startswith("xray:") for a in actions(statement)), f"'*' resource in {where}"

    functions = sam.functions(template)
    roles = {sam.role_of(f) for f in functions.values()}
    assert None not in roles and len(roles) == len(functions), "each function has a role of its own"
    for function_id in functions:
        for table in declared.tables:
            table_id = referenced_resource(template, table.name_env, None)
            arn = {"Fn::GetAtt": [table_id, "Arn"]}
            index_arn = {"Fn::Join": ["", [arn, "/index/*"]]}
            for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query",
                           "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem"):
                assert arn in granted(template, function_id, action), f"{function_id} {action}"
            assert index_arn in granted(template, function_id, "dynamodb:Query"), function_id
        secret_arns = [{"Ref": referenced_resource(template, s.name_env, None)} for s in declared.secrets]
        readable = granted(template, function_id, "secretsmanager:GetSecretValue")
        if function_id == sam.API_HANDLER:
            assert all(arn in readable for arn in secret_arns), function_id
        else:
            assert readable == [], f"{function_id} may read secrets"
        for queue in declared.queues:
            queue_arn = {"Fn::GetAtt": [queue_ids(template, queue)[0], "Arn"]}
            assert queue_arn in granted(template, function_id, "sqs:SendMessage"), function_id
        mail = granted(template, function_id, "ses:SendTemplatedEmail")
        if function_id == sam.API_HANDLER or not declared.email_identities:
            assert mail == [], f"{function_id} may send mail"
        else:
            assert len(mail) == len(declared.email_identities) + 1, function_id  # + templates
        logs = granted(template, function_id, "logs:PutLogEvents")
        assert len(logs) == 1 and "Fn::GetAtt" in logs[0], f"{function_id} logs: {logs}"
        group = template["Resources"][logs[0]["Fn::GetAtt"][0]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["LogGroupName"]["Fn::Sub"][1] == {function_id: {"Ref": function_id}}
    for function_id, _event, props in sam.sqs_event_sources_raw(template):
        queue_arn = props["Queue"]
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert queue_arn in granted(template, function_id, action), f"{function_id} {action}"


# --- API Gateway -------------------------------------------------------------------------------
def check_gateway_responses(template: dict) -> None:
    body = template["Resources"][sam.REST_API]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    for response_type, response in responses.items():
        assert response["responseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
        rendered = render_gateway_template(response["responseTemplates"]["application/json"])
        error = rendered["error"]
        assert set(error) == {"code", "message", "details"} and error["details"] == [], response_type
        assert isinstance(error["code"], str) and isinstance(error["message"], str), response_type


def render_gateway_template(template: str, message: str = "Forbidden") -> dict:
    """What API Gateway sends: `$context.error.messageString` is a quoted JSON string."""
    return json.loads(template.replace("$context.error.messageString", json.dumps(message)))
