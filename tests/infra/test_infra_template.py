"""The synthesised CloudFormation template matches chalicelib/resources.py and our rules.

Two stacks are synthesised once per run (see conftest.py): the real app with RESOURCES (mail:
queues, the feedback topic, the SES configuration set and templates), and a fake app
(tests/infra/fake_app: a route, an SQS consumer, a schedule) with FAKE_RESOURCES (a queue and
an SES identity, no topics, no feedback, no templates; tracing on).
"""
from __future__ import annotations

import subprocess

import pytest

from chalicelib.mail.catalog import ses_templates
from chalicelib.resources import MAIL_QUEUE, NOTICE_FANOUT_QUEUE, RESOURCES
from infra import sam
from tests.infra import infra_checks as checks
from tests.infra.conftest import ROOT, INFRA_BIN, REGION, infra_python, load_template, offline_env, run_synth
from tests.infra.fake_resources import FAKE_RESOURCES

pytestmark = pytest.mark.infra

DECLARED = {"real": RESOURCES, "fake": FAKE_RESOURCES}
TRACING = {"real": False, "fake": True}
# SES send rate: the real app synthesises with the default, the fake one with a context value
# (tests/infra/fake_stack.py).
SEND_RATE = {"real": "14", "fake": "3.5"}

# cfn-lint rules we do not apply, each with the reason it does not apply to this template.
# (None so far: the templates pass every error and warning rule.)
CFN_LINT_IGNORED: dict[str, str] = {}


@pytest.fixture(params=["real", "fake"])
def stack(request):
    path, template = load_template(request.getfixturevalue(f"{request.param}_synth"))
    return request.param, path, template


def test_template_is_a_sam_template_with_the_app(stack):
    _, _, template = stack
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    assert sam.API_HANDLER in sam.functions(template)
    assert sam.REST_API in template["Resources"]


def test_every_declared_table_and_index_with_pitr_and_deletion_protection(stack):
    name, _, template = stack
    checks.check_tables(template, DECLARED[name])


def test_every_declared_secret_is_generated(stack):
    name, _, template = stack
    checks.check_secrets(template, DECLARED[name])


def test_every_declared_queue_has_dead_letters_redrive_and_alarm(stack):
    name, _, template = stack
    checks.check_queues(template, DECLARED[name])


def test_every_sqs_event_source_reports_batch_item_failures(stack):
    name, _, template = stack
    checks.check_sqs_event_sources(template, DECLARED[name])


def test_mail_workers_get_the_ses_send_rate_and_their_concurrency_bound(stack):
    name, _, template = stack
    checks.check_mail_pacing(template, DECLARED[name], SEND_RATE[name])


def test_real_app_mail_worker_concurrency_is_bounded_as_declared(real_synth):
    """The mail queue's consumer runs at most MAIL_QUEUE.max_concurrency (4) at a time, and knows it."""
    _, template = load_template(real_synth)
    [(function_id, props)] = [(f, p) for f, _, p in sam.sqs_event_sources_raw(template)
                              if p["Queue"]["Fn::GetAtt"][0] == checks.queue_ids(template, MAIL_QUEUE)[0]]
    assert function_id == "SendMail"
    assert props["ScalingConfig"] == {"MaximumConcurrency": MAIL_QUEUE.max_concurrency} == {"MaximumConcurrency": 4}
    env = checks.env_of(sam.functions(template)["SendMail"])
    assert "ROSTER_MAIL_WORKER_CONCURRENCY" not in env and env["ROSTER_SES_MAX_SEND_RATE"] == "14"
    fanout = checks.env_of(sam.functions(template)["NoticeFanout"])
    assert fanout["ROSTER_SES_MAX_SEND_RATE"] == "14"  # it plans each batch's delay


def test_real_app_has_the_notice_fanout_queue_and_schedule(real_synth):
    """Issue 4: the fan-out queue (with its dead letters) feeds notice_fanout, and notice_schedule
    runs every minute."""
    _, template = load_template(real_synth)
    queue_id, dlq_id = checks.queue_ids(template, NOTICE_FANOUT_QUEUE)
    assert template["Resources"][queue_id]["Properties"]["VisibilityTimeout"] == 6 * 300
    [props] = [p for f, _, p in sam.sqs_event_sources_raw(template) if f == "NoticeFanout"]
    assert props["BatchSize"] == 1 and props["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    events = sam.functions(template)["NoticeSchedule"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"] == ["rate(1 minute)"]
    senders = {f for f in sam.functions(template)
               if {"Fn::GetAtt": [queue_id, "Arn"]} in checks.granted(template, f, "sqs:SendMessage")}
    assert senders == {sam.API_HANDLER, "NoticeSchedule", "NoticeFanout"}  # the fan-out: its continuations


def test_real_app_has_the_notice_batch_queue_fed_by_the_fan_out(real_synth):
    """Issue 15 §5: notice batches have their own queue (with its dead letters) and function, which
    sends mail; the fan-out and the schedule's sweep send to it, nothing else."""
    from chalicelib.resources import NOTICE_BATCH_QUEUE

    _, template = load_template(real_synth)
    queue_id, dlq_id = checks.queue_ids(template, NOTICE_BATCH_QUEUE)
    [(function_id, props)] = [(f, p) for f, _, p in sam.sqs_event_sources_raw(template)
                              if p["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
    assert function_id == "SendNoticeBatch" and props["BatchSize"] == NOTICE_BATCH_QUEUE.batch_size
    senders = {f for f in sam.functions(template)
               if {"Fn::GetAtt": [queue_id, "Arn"]} in checks.granted(template, f, "sqs:SendMessage")}
    assert senders == {"NoticeFanout", "NoticeSchedule"}
    assert checks.env_of(sam.functions(template)["SendNoticeBatch"])["ROSTER_SES_MAX_SEND_RATE"] == "14"


def test_queue_names_reach_only_the_functions_that_send_to_them(stack):
    name, _, template = stack
    checks.check_queue_senders(template, DECLARED[name])


def test_every_topic_and_its_raw_delivery_subscriptions(stack):
    name, _, template = stack
    checks.check_topics(template, DECLARED[name])


def test_mail_feedback_is_published_by_a_configuration_set_to_the_topic(stack):
    name, _, template = stack
    checks.check_mail_feedback(template, DECLARED[name])


def test_email_identities_are_created(stack):
    name, _, template = stack
    checks.check_email_identities(template, DECLARED[name])


def test_every_ses_template_of_the_catalog(stack):
    name, _, template = stack
    checks.check_mail_templates(template, DECLARED[name], ses_templates())


def test_functions_get_powertools_settings(stack):
    _, _, template = stack
    checks.check_function_environment(template)


def test_roles_grant_only_the_declared_resources(stack):
    name, _, template = stack
    checks.check_least_privilege(template, DECLARED[name])


def test_roles_grant_exactly_what_the_declaration_implies(stack):
    name, _, template = stack
    checks.check_exact_grants(template, DECLARED[name], TRACING[name])


def test_real_app_mail_permissions_by_function(real_synth):
    """The mail pipeline's grants, spelled out (the generic checks derive them from resources.py)."""
    _, template = load_template(real_synth)
    mail_queue = {"Fn::GetAtt": [checks.queue_ids(template, MAIL_QUEUE)[0], "Arn"]}
    senders = {f for f in sam.functions(template) if mail_queue in checks.granted(template, f, "sqs:SendMessage")}
    assert senders == {sam.API_HANDLER, "MailSweeper"}
    assert {f for f in sam.functions(template) if checks.granted(template, f, "ses:SendBulkTemplatedEmail")} \
        == {"SendMail", "SendNoticeBatch"}
    for action in ("ses:VerifyEmailIdentity", "ses:VerifyDomainDkim", "ses:GetIdentityDkimAttributes"):
        assert {f for f in sam.functions(template) if checks.granted(template, f, action)} == {sam.API_HANDLER}
    assert {a for s in checks.statements_of(template, "MailFeedback") for a in checks.actions(s)
            if not a.startswith(("dynamodb:", "logs:"))} == checks.QUEUE_CONSUME_ACTIONS
    sends = checks.granted(template, "SendMail", "ses:SendTemplatedEmail")
    assert len(sends) == 1 + len(ses_templates()) + 1  # identities, each template, the configuration set


def test_api_gateway_errors_use_the_api_error_format(stack):
    _, _, template = stack
    checks.check_gateway_responses(template)


def test_template_passes_cfn_lint(stack):
    _, path, _ = stack
    ignored = [f"--ignore-checks={rule}" for rule in CFN_LINT_IGNORED]
    proc = subprocess.run([str(INFRA_BIN / "cfn-lint"), "--regions", REGION, *ignored, "--", str(path)],
                          env=offline_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_real_app_has_tracing_off(real_synth):
    _, template = load_template(real_synth)
    checks.check_tracing_off(template)


def test_fake_app_has_one_consumer_overridden_by_its_event_source_name(fake_synth):
    _, template = load_template(fake_synth)
    sources = sam.sqs_event_sources_raw(template)
    # chalice names the event `<Function>SqsEventSource`: the override paths are derived
    # from the template, and landed on the event chalice generated (not on a new one).
    assert [(function, event) for function, event, _ in sources] == [("SendMail", "SendMailSqsEventSource")]
    events = template["Resources"]["SendMail"]["Properties"]["Events"]
    assert list(events) == ["SendMailSqsEventSource"]


def test_fake_app_tracing_on_adds_xray_only_then(fake_synth):
    _, template = load_template(fake_synth)
    for function_id, function in sam.functions(template).items():
        assert function["Properties"]["Tracing"] == "Active", function_id
        assert checks.env_of(function)["ROSTER_TRACING"] == "true", function_id
        assert checks.granted(template, function_id, "xray:PutTraceSegments") == ["*"], function_id


def test_a_queue_the_app_reads_but_resources_does_not_declare_fails_synth(tmp_path):
    script = str(ROOT / "tests" / "infra" / "fake_stack.py")
    result = run_synth([infra_python(), script, "--undeclared-queue"], tmp_path / "cdk.out")
    assert result["returncode"] != 0
    assert "subscribes to queue 'fake-mail', which chalicelib/resources.py does not declare" in result["output"]


def test_a_declared_queue_nobody_consumes_fails_synth(tmp_path):
    script = str(ROOT / "tests" / "infra" / "fake_stack.py")
    result = run_synth([infra_python(), script, "--unconsumed-queue"], tmp_path / "cdk.out")
    assert result["returncode"] != 0
    assert "queue 'fake-unused' is declared in chalicelib/resources.py but no function" in result["output"]
