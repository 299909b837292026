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
CONFIGURATION_SET_ENV = "ROSTER_SES_CONFIGURATION_SET"
SES_MAX_SEND_RATE_ENV = "ROSTER_SES_MAX_SEND_RATE"
MAIL_WORKER_CONCURRENCY_ENV = "ROSTER_MAIL_WORKER_CONCURRENCY"
REGION = "eu-central-1"  # tests/infra/conftest.py synthesises there

# The grants, written out again here on purpose: the test is the specification.
TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                 "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                 "dynamodb:ConditionCheckItem"}
QUEUE_SEND_ACTIONS = {"sqs:SendMessage", "sqs:GetQueueUrl"}
QUEUE_CONSUME_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                         "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"}
MAIL_SEND_ACTIONS = {"ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"}
SENDER_VERIFY_ACTIONS = {"ses:VerifyEmailIdentity", "ses:GetIdentityVerificationAttributes",
                         "ses:VerifyDomainDkim", "ses:GetIdentityDkimAttributes"}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


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
    """(queue, dead-letter queue) logical ids of a declared queue: the one its consumer reads."""
    consumer = sam.function_id(queue.handler)
    reads = [props["Queue"] for f, _, props in sam.sqs_event_sources_raw(template) if f == consumer]
    assert len(reads) == 1 and "Fn::GetAtt" in reads[0], f"{consumer} should read {queue.logical_id}: {reads}"
    logical_id = reads[0]["Fn::GetAtt"][0]
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


def check_queue_senders(template: dict, declared: Resources) -> None:
    """A queue's name reaches exactly the functions that send to it (`Queue.senders`)."""
    functions = sam.functions(template)
    for queue in declared.queues:
        logical_id = queue_ids(template, queue)[0]
        senders = {sam.function_id(name) for name in queue.senders}
        assert senders <= set(functions), f"{queue.logical_id}.senders names a missing function"
        for fid, function in functions.items():
            value = env_of(function).get(queue.name_env)
            if fid in senders:
                assert value == {"Fn::GetAtt": [logical_id, "QueueName"]}, f"{fid} {queue.name_env}={value!r}"
            else:
                assert value is None, f"{fid} gets {queue.name_env} but does not send to {queue.logical_id}"


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
        if queue.max_concurrency is not None:
            assert concurrency == queue.max_concurrency, f"{where}: declared {queue.max_concurrency}"
        timeout = template["Resources"][function_id]["Properties"]["Timeout"]
        assert timeout == queue.consumer_timeout_seconds, f"{function_id} timeout {timeout}"
        consumed.add(queue.logical_id)
    assert consumed == {q.logical_id for q in declared.queues}, "a declared queue has no consumer"


def check_mail_pacing(template: dict, declared: Resources, send_rate: str) -> None:
    """Each mail sender, and each function that plans the pacing (the notice fan-out), gets the
    SES account's send rate; no other function does, and none a worker concurrency (no worker
    paces itself)."""
    readers = {sam.function_id(name) for name in (*declared.mail_senders, *declared.send_rate_readers)}
    for fid, function in sam.functions(template).items():
        env = env_of(function)
        assert MAIL_WORKER_CONCURRENCY_ENV not in env, fid
        if fid in readers:
            assert env.get(SES_MAX_SEND_RATE_ENV) == send_rate, f"{fid} {SES_MAX_SEND_RATE_ENV}"
        else:
            assert SES_MAX_SEND_RATE_ENV not in env, fid


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
        if function_id == sam.API_HANDLER:  # mail is never sent from the request thread
            assert not any(a.startswith("ses:Send") for s in statements_of(template, function_id)
                           for a in actions(s)), "the API handler may send mail"
        logs = granted(template, function_id, "logs:PutLogEvents")
        assert len(logs) == 1 and "Fn::GetAtt" in logs[0], f"{function_id} logs: {logs}"
        group = template["Resources"][logs[0]["Fn::GetAtt"][0]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["LogGroupName"]["Fn::Sub"][1] == {function_id: {"Ref": function_id}}
    for function_id, _event, props in sam.sqs_event_sources_raw(template):
        queue_arn = props["Queue"]
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert queue_arn in granted(template, function_id, action), f"{function_id} {action}"


def arn_text(value: Any) -> str:
    """A resource of a statement as text: `${Logical.Attr}` for GetAtt, `${Name}` for Ref."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${%s}" % value["Ref"]
    if "Fn::GetAtt" in value:
        return "${%s}" % ".".join(value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(arn_text(part) for part in parts)
    raise AssertionError(f"unexpected resource expression {value!r}")


def identity_grants(template: dict, function_id: str) -> set[tuple[str, str]]:
    """(action, resource) of every Allow of the function's role policy (logs are checked apart)."""
    role_id = sam.role_of(sam.functions(template)[function_id])
    return {(action, arn_text(resource))
            for role, policy in resources(template, "AWS::IAM::Role").items() if role == role_id
            for p in policy["Properties"].get("Policies", [])
            for statement in p["PolicyDocument"]["Statement"]
            for action in actions(statement) for resource in _as_list(statement["Resource"])}


def _product(actions_: set[str], resources_: list[str]) -> set[tuple[str, str]]:
    return {(action, resource) for action in actions_ for resource in resources_}


def ses_arn(resource: str) -> str:
    return "arn:${AWS::Partition}:ses:%s:${AWS::AccountId}:%s" % (REGION, resource)


def expected_grants(template: dict, declared: Resources, fid: str, tracing: bool) -> set[tuple[str, str]]:
    """Everything the function may do, derived from the declaration: nothing else is granted."""
    grants = set()
    for table in declared.tables:
        arn = "${%s.Arn}" % referenced_resource(template, table.name_env, None)
        grants |= _product(TABLE_ACTIONS, [arn, arn + "/index/*"])
    if fid == sam.API_HANDLER:
        grants |= _product({"secretsmanager:GetSecretValue"},
                           ["${%s}" % referenced_resource(template, s.name_env, None) for s in declared.secrets])
    for queue in declared.queues:
        arn = "${%s.Arn}" % queue_ids(template, queue)[0]
        if fid in {sam.function_id(name) for name in queue.senders}:
            grants |= _product(QUEUE_SEND_ACTIONS, [arn])
        if fid == sam.function_id(queue.handler):
            grants |= _product(QUEUE_CONSUME_ACTIONS, [arn])
    if fid in {sam.function_id(name) for name in declared.mail_senders} and declared.email_identities:
        if declared.sender_verifiers:  # tenants' own verified addresses (T3) are identities too
            identities = [ses_arn("identity/*")]
        else:
            identities = [ses_arn(f"identity/{i}") for i in declared.email_identities]
        made = sorted(resources(template, "AWS::SES::Template"))
        templates = [ses_arn("template/${%s}" % t) for t in made] or [ses_arn("template/*")]
        sets = [ses_arn("configuration-set/${%s}" % c) for c in resources(template, "AWS::SES::ConfigurationSet")]
        grants |= _product(MAIL_SEND_ACTIONS, identities + templates + sets)
    if fid in {sam.function_id(name) for name in declared.sender_verifiers}:
        grants |= _product(SENDER_VERIFY_ACTIONS, [ses_arn("identity/*")])
    if tracing:
        grants |= _product(XRAY_ACTIONS, ["*"])
    return grants


def check_exact_grants(template: dict, declared: Resources, tracing: bool) -> None:
    """Each function's role grants exactly what the declaration implies: no more, no less."""
    for fid in sam.functions(template):
        got, expected = identity_grants(template, fid), expected_grants(template, declared, fid, tracing)
        assert got == expected, (f"{fid}: granted but not declared {sorted(got - expected)}; "
                                 f"declared but not granted {sorted(expected - got)}")


# --- SNS topics, SES feedback, identities and templates -----------------------------------------
def topic_ids(template: dict, declared: Resources) -> dict[str, str]:
    """Declared topic logical id -> template logical id, found through its subscriptions."""
    subscriptions = resources(template, "AWS::SNS::Subscription")
    found = {}
    for topic in declared.topics:
        queue_arns = {json.dumps({"Fn::GetAtt": [queue_ids(template, q)[0], "Arn"]})
                      for q in declared.queues if q.logical_id in topic.subscribers}
        topics = {s["Properties"]["TopicArn"]["Ref"] for s in subscriptions.values()
                  if json.dumps(s["Properties"]["Endpoint"]) in queue_arns}
        assert len(topics) == 1, f"{topic.logical_id}: its subscribers are subscribed to {topics}"
        found[topic.logical_id] = topics.pop()
    return found


def check_topics(template: dict, declared: Resources) -> None:
    """Every topic, each subscriber queue subscribed with raw delivery, and allowed to receive."""
    ids = topic_ids(template, declared)
    topics = resources(template, "AWS::SNS::Topic")
    alarms = 1 if declared.queues else 0
    assert len(topics) == len(declared.topics) + alarms, "a topic that resources.py does not declare"
    subscriptions = resources(template, "AWS::SNS::Subscription")
    assert len(subscriptions) == sum(len(t.subscribers) for t in declared.topics)
    policies = resources(template, "AWS::SQS::QueuePolicy")
    for topic in declared.topics:
        topic_id = ids[topic.logical_id]
        assert topics[topic_id]["Type"] == "AWS::SNS::Topic"
        for subscriber in topic.subscribers:
            queue_id = queue_ids(template, next(q for q in declared.queues if q.logical_id == subscriber))[0]
            [subscription] = [s["Properties"] for s in subscriptions.values()
                              if s["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
            assert subscription["Protocol"] == "sqs" and subscription["RawMessageDelivery"] is True, subscriber
            allowed = [st for p in policies.values() if {"Ref": queue_id} in p["Properties"]["Queues"]
                       for st in p["Properties"]["PolicyDocument"]["Statement"]
                       if st["Effect"] == "Allow" and st["Principal"] == {"Service": "sns.amazonaws.com"}]
            assert [(st["Action"], st["Condition"]) for st in allowed] == [
                ("sqs:SendMessage", {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}})], subscriber


def check_mail_feedback(template: dict, declared: Resources) -> None:
    """Bounces and complaints: SES event publishing through one configuration set to the topics."""
    sets = resources(template, "AWS::SES::ConfigurationSet")
    destinations = resources(template, "AWS::SES::ConfigurationSetEventDestination")
    mail_senders = {sam.function_id(name) for name in declared.mail_senders}
    if not declared.mail_feedback:
        assert sets == {} and destinations == {}
        assert not any(CONFIGURATION_SET_ENV in env_of(f) for f in sam.functions(template).values())
        return
    [set_id] = sets
    ids = topic_ids(template, declared)
    wanted = {}
    for feedback in declared.mail_feedback:
        wanted.setdefault(ids[feedback.topic], set()).update(t.lower() for t in feedback.notification_types)
    got = {}
    for destination in destinations.values():
        props = destination["Properties"]
        assert props["ConfigurationSetName"] == {"Ref": set_id}
        event = props["EventDestination"]
        assert event["Enabled"] is True
        got[event["SnsDestination"]["TopicARN"]["Ref"]] = set(event["MatchingEventTypes"])
    assert got == wanted
    topic_policies = resources(template, "AWS::SNS::TopicPolicy")
    for topic_id in wanted:
        [statement] = [st for p in topic_policies.values() if {"Ref": topic_id} in p["Properties"]["Topics"]
                       for st in p["Properties"]["PolicyDocument"]["Statement"]]
        assert statement["Principal"] == {"Service": "ses.amazonaws.com"} and statement["Action"] == "sns:Publish"
        source = arn_text(statement["Condition"]["StringEquals"]["AWS:SourceArn"])
        assert source == ses_arn("configuration-set/${%s}" % set_id)
    for identity in resources(template, "AWS::SES::EmailIdentity").values():
        assert identity["Properties"]["ConfigurationSetAttributes"] == {"ConfigurationSetName": {"Ref": set_id}}
    for fid, function in sam.functions(template).items():
        value = env_of(function).get(CONFIGURATION_SET_ENV)
        assert value == ({"Ref": set_id} if fid in mail_senders else None), f"{fid} {CONFIGURATION_SET_ENV}"


def check_email_identities(template: dict, declared: Resources) -> None:
    identities = resources(template, "AWS::SES::EmailIdentity")
    assert sorted(r["Properties"]["EmailIdentity"] for r in identities.values()) == \
        sorted(declared.email_identities)


def check_mail_templates(template: dict, declared: Resources, ses_templates) -> None:
    """One AWS::SES::Template per catalog template, same name and parts (when declared)."""
    made = {r["Properties"]["Template"]["TemplateName"]: r["Properties"]["Template"]
            for r in resources(template, "AWS::SES::Template").values()}
    if not declared.mail_templates:
        assert made == {}
        return
    catalog = {t.name: t for t in ses_templates}
    assert sorted(made) == sorted(catalog)
    for name, t in catalog.items():
        assert made[name] == {"TemplateName": name, "SubjectPart": t.subject, "TextPart": t.text,
                              "HtmlPart": t.html}, name


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
