"""The Roster stack: the resources of chalicelib/resources.py plus the chalice app, least privilege.

chalice.cdk.Chalice runs `chalice package` on the project and includes the SAM template it
writes; this stack then fixes what chalice cannot express (see docs/deploy.md):
- one role per function (autogen_policy off) whose only statements are written here;
- the resources' physical names reach the functions through the env vars resources.py names
  (a queue's only the functions that send to it);
- mail: SNS topics with their SQS subscriptions, the SES configuration set that publishes
  bounces and complaints to the feedback topic, and the SES templates of chalicelib/mail;
- each SQS event source reads the queue made here, reports partial batch failures and runs at
  most MaximumConcurrency consumers; mail senders get the SES send rate and that bound;
- API Gateway's own error responses use the API's error format.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import tempfile
import warnings
from typing import Any, Iterator

from aws_cdk import CfnOutput, Fn, RemovalPolicy, Stack, aws_iam as iam, aws_logs as logs, aws_sns as sns
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from chalicelib.resources import Resources

from . import sam
from .identity import make_portal_identity
from .data import (
    QueueWithDeadLetters, make_email_identity, make_email_templates, make_mail_feedback, make_secret, make_table,
    make_topic,
)

STAGE = "dev"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Upper bound of concurrent Lambda invocations per SQS event source (the smallest allowed is 2).
# Bounds the load on SES and DynamoDB without reserving account concurrency; a Queue
# declaration can override it with a `max_concurrency` attribute.
DEFAULT_MAX_CONCURRENCY = 5
# The SES account's maximum send rate (mails per second; the sandbox allows 1, a new production
# account 14). CDK context `roster:ses_max_send_rate` sets it; the notice fan-out delays each
# batch's message until it is due at that rate (docs/deploy.md), so no worker waits for it.
DEFAULT_SES_MAX_SEND_RATE = 14
SES_MAX_SEND_RATE_ENV = "ROSTER_SES_MAX_SEND_RATE"

TABLE_ACTIONS = [
    # Items and queries (transactions are authorised per item: TransactWriteItems needs
    # PutItem/UpdateItem/DeleteItem/ConditionCheckItem, TransactGetItems needs GetItem).
    # Deliberately no Scan, no table management.
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
]
QUEUE_SEND_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueUrl"]
# What Lambda's SQS poller needs on the consumer's role (the event source mapping checks it
# on creation), plus ChangeMessageVisibility (and the URL, from its name) for a consumer that
# backs off a message.
QUEUE_CONSUME_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                         "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl"]
# SesMailer sends templated mail only (SES v1: SendTemplatedEmail, SendBulkTemplatedEmail).
SES_ACTIONS = ["ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"]
# Tenant senders (T3): the API asks SES to verify an address, or a domain through Easy DKIM, and
# reads its status.
SES_VERIFY_ACTIONS = ["ses:VerifyEmailIdentity", "ses:GetIdentityVerificationAttributes",
                      "ses:VerifyDomainDkim", "ses:GetIdentityDkimAttributes"]
CONFIGURATION_SET_ENV = "ROSTER_SES_CONFIGURATION_SET"
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]


class RosterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str = STAGE, *, resources: Resources,
                 source_dir: str, tracing: bool = False, **kwargs: Any) -> None:
        # chalice.cdk.Chalice packages the chalice stage named like the construct's scope,
        # so the stack's id is the stage ("dev"); its CloudFormation name is set apart.
        kwargs.setdefault("stack_name", f"roster-{construct_id}")
        super().__init__(scope, construct_id, **kwargs)
        self.resources = resources
        self.tracing = tracing
        self.ses_max_send_rate = ses_max_send_rate(self.node.try_get_context("roster:ses_max_send_rate"))

        self.tables = {t.logical_id: make_table(self, t) for t in resources.tables}
        self.secrets = {s.logical_id: make_secret(self, s) for s in resources.secrets}
        self.queues = {q.default_name: QueueWithDeadLetters(self, q) for q in resources.queues}
        queues_by_id = {q.declaration.logical_id: q.queue for q in self.queues.values()}
        self.topics = {t.logical_id: make_topic(self, t, queues_by_id) for t in resources.topics}
        self.configuration_set = (make_mail_feedback(self, resources.mail_feedback, self.topics)
                                  if resources.mail_feedback else None)
        if self.configuration_set is not None:
            CfnOutput(self, "MailConfigurationSetName", value=self.configuration_set.configuration_set_name)
        self.identities = {i: make_email_identity(self, i, self.configuration_set)
                           for i in resources.email_identities}
        self.templates = {}
        if resources.mail_templates:
            from chalicelib.mail.catalog import ses_templates

            self.templates = make_email_templates(self, ses_templates())
        for name, identity in self.identities.items():
            if "@" not in name:  # a domain is verified through these DKIM CNAME records
                for n, record in enumerate(identity.dkim_records, start=1):
                    CfnOutput(self, f"{identity.node.id}Dkim{n}",
                              value=Fn.join(" CNAME ", [record.name, record.value]))
        if self.queues:
            self.alarm_topic = sns.Topic(self, "Alarms", display_name="Roster alarms")
            for queue in self.queues.values():
                queue.alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
            CfnOutput(self, "AlarmTopicArn", value=self.alarm_topic.topic_arn,
                      description="Subscribe to be told about dead letters.")

        self.identity = make_portal_identity(self)  # people's sign-in: Cognito, or an issuer from context
        self.chalice = self._package(source_dir)
        self.template = self._sam_template()
        self._wire_sqs_event_sources()
        self._wire_functions()
        self._add_gateway_responses()
        for logical_id, table in self.tables.items():
            CfnOutput(self, f"{logical_id}Name", value=table.table_name)

    # --- chalice ---------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = {"POWERTOOLS_METRICS_NAMESPACE": "Roster"}
        for table in self.resources.tables:
            env[table.name_env] = self.tables[table.logical_id].table_name
        for secret in self.resources.secrets:
            # The ARN: GetSecretValue takes it as SecretId, and it is unambiguous.
            env[secret.name_env] = self.secrets[secret.logical_id].secret_arn
        # Queue names and the configuration set go only to the functions that use them
        # (_wire_functions), like the permissions.
        env.update(self.identity.environment)  # ROSTER_OIDC_*: issuer, audience, JWKS URL, tenant claim
        if self.tracing:
            env["ROSTER_TRACING"] = "true"
        return env

    def _package(self, source_dir: str) -> Chalice:
        workdir = tempfile.mkdtemp(prefix="roster-chalice-")
        atexit.register(shutil.rmtree, workdir, True)  # after app.synth() has copied the assets
        # With autogen_policy off chalice wants a policy file for each role; its statements
        # are replaced in _wire_functions, so an empty document will do.
        policy_file = os.path.join(workdir, "policy-placeholder.json")
        with open(policy_file, "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": []}, f)
        stage_config = {
            "autogen_policy": False,
            "iam_policy_file": policy_file,  # absolute: os.path.join keeps it as is
            "environment_variables": self._environment(),
            "xray": self.tracing,
        }
        with _cwd(workdir):  # the construct writes chalice.out/ into the working directory
            return Chalice(self, "Chalice", source_dir=source_dir, stage_config=stage_config)

    def _sam_template(self) -> sam.Template:
        # The template chalice wrote (before CDK tokens are resolved): the list of functions,
        # roles, log groups and event sources is read from it, never hard-coded.
        with open(os.path.join(self.chalice._sam_package_dir, "sam.json")) as f:
            return json.load(f)

    # --- SQS consumers -----------------------------------------------------------------------
    def _wire_sqs_event_sources(self) -> None:
        self.consumed: dict[str, list[QueueWithDeadLetters]] = {}
        self.max_concurrency: dict[str, int] = {}  # function id -> its event sources' MaximumConcurrency, summed
        for source in sam.sqs_event_sources(self.template):
            # As the local stack does: by the queue name the app uses (the declared
            # default_name), else by the declared consumer (`Queue.handler`, a function name).
            queue = self.queues.get(source.queue_name) or next(
                (q for q in self.queues.values()
                 if q.declaration.handler and to_cfn_resource_name(q.declaration.handler) == source.function), None)
            if queue is None:
                raise ValueError(
                    f"{source.function} subscribes to queue {source.queue_name!r}, which "
                    "chalicelib/resources.py does not declare (by default_name or handler)")
            declared = queue.declaration
            if declared.handler and to_cfn_resource_name(declared.handler) != source.function:
                warnings.warn(f"{declared.logical_id}.handler is {declared.handler!r} but "
                              f"{source.function} consumes {source.queue_name!r}")
            function = self.chalice.get_resource(source.function)
            event = self.template["Resources"][source.function]["Properties"]["Events"][source.event]
            concurrency = (getattr(declared, "max_concurrency", None)
                           or event["Properties"].get("ScalingConfig", {}).get("MaximumConcurrency")
                           or DEFAULT_MAX_CONCURRENCY)
            # The queue made here (CloudFormation names it), not the name the app used.
            function.add_property_override(source.override_path("Queue"), queue.queue.queue_arn)
            function.add_property_override(source.override_path("BatchSize"), declared.batch_size)
            # Chalice 1.34 cannot set this: without it Lambda ignores the handler's
            # batchItemFailures and deletes every message of a batch that returned normally.
            function.add_property_override(source.override_path("FunctionResponseTypes"),
                                           ["ReportBatchItemFailures"])
            function.add_property_override(source.override_path("ScalingConfig"),
                                           {"MaximumConcurrency": concurrency})
            # The queue's visibility timeout is 6x this: a message is not redelivered while
            # a consumer may still be working on it.
            function.add_property_override("Timeout", declared.consumer_timeout_seconds)
            self.consumed.setdefault(source.function, []).append(queue)
            self.max_concurrency[source.function] = self.max_concurrency.get(source.function, 0) + concurrency
        consumed_names = {q.declaration.default_name for qs in self.consumed.values() for q in qs}
        for name in self.queues:
            if name not in consumed_names:
                raise ValueError(f"queue {name!r} is declared in chalicelib/resources.py but no "
                                 "function of the app consumes it (@app.on_sqs_message)")

    # --- functions: environment and least-privilege roles ------------------------------------
    def _function_ids(self, names: tuple[str, ...], what: str) -> set[str]:
        """Logical ids of the functions named in a declaration; an unknown name fails the synth."""
        functions = sam.functions(self.template)
        ids = {sam.function_id(name) for name in names}
        unknown = sorted(name for name in names if sam.function_id(name) not in functions)
        if unknown:
            raise ValueError(f"{what} names {unknown}, which the app has no function for")
        return ids

    def _wire_functions(self) -> None:
        app_name = self.node.try_get_context("roster:app_name") or "roster"
        self.sends_to = {}  # function id -> the queues it may send to
        for queue in self.queues.values():
            for function_id in self._function_ids(queue.declaration.senders,
                                                  f"{queue.declaration.logical_id}.senders"):
                self.sends_to.setdefault(function_id, []).append(queue)
        self.mail_senders = self._function_ids(self.resources.mail_senders, "mail_senders")
        self.send_rate_readers = self._function_ids(self.resources.send_rate_readers, "send_rate_readers")
        self.sender_verifiers = self._function_ids(self.resources.sender_verifiers, "sender_verifiers")
        for function_id, function in sam.functions(self.template).items():
            cfn_function = self.chalice.get_resource(function_id)
            cfn_function.add_property_override("Environment.Variables.POWERTOOLS_SERVICE_NAME",
                                               sam.service_name(app_name, function_id))
            for queue in self.sends_to.get(function_id, []):
                cfn_function.add_property_override(f"Environment.Variables.{queue.declaration.name_env}",
                                                   queue.queue.queue_name)
            if function_id in self.mail_senders and self.configuration_set is not None:
                cfn_function.add_property_override(f"Environment.Variables.{CONFIGURATION_SET_ENV}",
                                                   self.configuration_set.configuration_set_name)
            if function_id in self.mail_senders or function_id in self.send_rate_readers:
                # SES pacing: the fan-out delays each notice batch's message by the account's rate
                cfn_function.add_property_override(f"Environment.Variables.{SES_MAX_SEND_RATE_ENV}",
                                                   self.ses_max_send_rate)
            role_id = sam.role_of(function)
            if role_id is None:
                raise ValueError(f"{function_id} has no role of its own; set autogen_policy off")
            role = self.chalice.get_resource(role_id)
            document = iam.PolicyDocument(statements=self._statements(function_id))
            role.add_property_override("Policies", [{
                "PolicyName": f"{role_id}Policy",
                "PolicyDocument": self.resolve(document.to_json()),
            }])
            self._grant_logs(function_id, role_id)

    def _statements(self, function_id: str) -> list[iam.PolicyStatement]:
        statements = []
        table_arns = [arn for t in self.tables.values() for arn in (t.table_arn, f"{t.table_arn}/index/*")]
        if table_arns:
            statements.append(iam.PolicyStatement(sid="Tables", actions=TABLE_ACTIONS, resources=table_arns))
        if function_id == sam.API_HANDLER and self.secrets:
            statements.append(iam.PolicyStatement(
                sid="ReadSecrets", actions=["secretsmanager:GetSecretValue"],
                resources=[s.secret_arn for s in self.secrets.values()]))
        if function_id in self.sends_to:
            statements.append(iam.PolicyStatement(
                sid="SendToQueues", actions=QUEUE_SEND_ACTIONS,
                resources=[q.queue.queue_arn for q in self.sends_to[function_id]]))
        if function_id in self.consumed:
            statements.append(iam.PolicyStatement(
                sid="ConsumeQueues", actions=QUEUE_CONSUME_ACTIONS,
                resources=[q.queue.queue_arn for q in self.consumed[function_id]]))
        if function_id in self.mail_senders and self.identities:
            statements.append(iam.PolicyStatement(sid="SendMail", actions=SES_ACTIONS,
                                                  resources=self._mail_resources()))
        if function_id in self.sender_verifiers:
            # A tenant's sender address (T3) is any address (or domain) the tenant chooses, so it
            # is not known when the stack is made: SES's resource for these actions is the
            # identity, hence every identity of this account and region, and no other action.
            statements.append(iam.PolicyStatement(
                sid="VerifySenders", actions=SES_VERIFY_ACTIONS,
                resources=[self.format_arn(service="ses", resource="identity", resource_name="*")]))
        if self.tracing:
            # X-Ray has no resource-level permissions: AWS requires "*" here.
            statements.append(iam.PolicyStatement(sid="Tracing", actions=XRAY_ACTIONS, resources=["*"]))
        return statements

    def _mail_resources(self) -> list[str]:
        """What SES authorises a templated send on: the From identity, the template and the
        configuration set named in the call."""
        if self.sender_verifiers:
            # Mail goes out from a tenant's own verified address (T3) when it has one: that
            # address is an identity of its own, unknown here. SES refuses any From that is not
            # a verified identity of this account, so identity/* means exactly those.
            identities = [self.format_arn(service="ses", resource="identity", resource_name="*")]
        else:
            identities = [self.format_arn(service="ses", resource="identity", resource_name=i)
                          for i in self.identities]
        if self.templates:
            templates = [self.format_arn(service="ses", resource="template", resource_name=t.ref)
                         for t in self.templates.values()]
        else:  # templates made outside this stack
            templates = [self.format_arn(service="ses", resource="template", resource_name="*")]
        configuration_sets = [] if self.configuration_set is None else [self.format_arn(
            service="ses", resource="configuration-set",
            resource_name=self.configuration_set.configuration_set_name)]
        return identities + templates + configuration_sets

    def _grant_logs(self, function_id: str, role_id: str) -> None:
        """The function's log group, made here, and the right to write to it (only).

        Made here rather than by chalice (`log_retention_in_days`): chalice 1.34 names the API
        handler's group after `ApiHandler` while the function is `APIHandler`. As the group
        exists before the function runs, the role needs no logs:CreateLogGroup. A separate
        policy: the group's name refers to the function, which refers to the role, so the
        role's own policy cannot name the group without a cycle.
        """
        group = logs.LogGroup(
            self, f"{function_id}LogGroup",
            log_group_name=Fn.sub("/aws/lambda/${%s}" % function_id,
                                  {function_id: self.chalice.get_resource(function_id).ref}),
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        iam.CfnPolicy(
            self, f"{function_id}Logs",
            policy_name=f"{function_id}Logs",
            roles=[self.chalice.get_resource(role_id).ref],
            policy_document=iam.PolicyDocument(statements=[
                iam.PolicyStatement(actions=LOG_ACTIONS, resources=[group.log_group_arn])]),
        )

    # --- API Gateway ---------------------------------------------------------------------------
    def _add_gateway_responses(self) -> None:
        if sam.REST_API not in self.template["Resources"]:
            return
        # In the OpenAPI body rather than as AWS::ApiGateway::GatewayResponse resources: SAM
        # hashes the body into the deployment, so a change to them is deployed to the stage.
        self.chalice.get_resource(sam.REST_API).add_property_override(
            "DefinitionBody.x-amazon-apigateway-gateway-responses", sam.gateway_responses())


def ses_max_send_rate(value: Any) -> str:
    """The context value (or the default) as the environment variable's text; a rate that is not a
    positive number fails the synth."""
    if value is None or value == "":
        value = DEFAULT_SES_MAX_SEND_RATE
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = 0.0
    if not rate > 0 or rate != rate or rate == float("inf"):
        raise ValueError(f"context roster:ses_max_send_rate must be a positive number of mails per second, not {value!r}")
    return str(int(rate)) if rate == int(rate) else str(rate)


@contextlib.contextmanager
def _cwd(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
