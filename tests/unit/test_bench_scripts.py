"""The cheap parts of the bench scripts (bench/): route coverage, call counting, parsing, sizing.

No timings are asserted here; `make bench` measures (docs/performance.md).
"""
import os
import zipfile

import pytest

from bench import aws_calls, cold_start, common, mail_pipeline, notices, package_size


def test_every_route_has_an_aws_calls_scenario():
    import app

    missing, stale = aws_calls.coverage(app.app)
    assert missing == [], f"add a scenario to bench/aws_calls.py for {missing}"
    assert stale == [], f"scenarios for routes the app no longer has: {stale}"


def test_every_scenario_has_a_known_budget():
    assert {s.budget for s in aws_calls.SCENARIOS} <= set(aws_calls.BUDGETS)


def test_the_counter_counts_moto_calls_per_service_and_operation_only_while_recording():
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS
    from moto import mock_aws

    counter = aws_calls.CallCounter()
    with counter.installed(), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-central-1")
        secrets = boto3.client("secretsmanager", region_name="eu-central-1")
        dynamodb.list_tables()  # not recording: not counted
        with counter.recording() as calls:
            dynamodb.list_tables()
            with counter.phase("auth"):
                secrets.list_secrets()
            dynamodb.list_tables()
    assert [(c.phase, str(c)) for c in calls] == [
        ("route", "ListTables"), ("auth", "SecretsManager.ListSecrets"), ("route", "ListTables")]
    assert {c.service for c in calls} == {"DynamoDB", "SecretsManager"}
    assert all(entry[1] != counter._on_before_call for entry in BUILTIN_HANDLERS)


def test_the_api_key_lookup_is_counted_as_auth_and_the_read_as_the_route():
    chosen = [s for s in aws_calls.SCENARIOS if s.key == ("GET", "/accounts/{account_id}") and not s.variant]
    [result] = aws_calls.run(chosen)
    assert [str(c) for c in result.auth] == ["GetItem"]
    assert [str(c) for c in result.own] == ["GetItem"]
    assert result.within_budget
    assert "GET /accounts/{account_id}" in aws_calls.render([result])


def test_statistics():
    values = [float(v) for v in range(1, 16)]
    assert common.median(values) == 8
    assert common.median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert common.percentile(values, 0.9) == 14
    with pytest.raises(ValueError):
        common.median([])


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |     botocore.compat
import time:       300 |        400 |   botocore
import time:        50 |         50 |   chalicelib.domain
import time:       200 |        650 | chalicelib.repositories.database
import time:        20 |         20 | json
"""


def test_importtime_is_parsed_into_a_tree_and_summed_per_package():
    roots = cold_start.parse_importtime(IMPORTTIME)
    assert [r.name for r in roots] == ["chalicelib.repositories.database", "json"]
    assert [c.name for c in roots[0].children] == ["botocore", "chalicelib.domain"]
    assert roots[0].children[0].children[0].name == "botocore.compat"
    assert cold_start.self_time_by_package(roots) == {"chalicelib": 0.25, "botocore": 0.4, "json": 0.02}
    added = cold_start.outermost_not_in(roots, known={"botocore", "botocore.compat", "json"})
    assert [r.name for r in added] == ["chalicelib.repositories.database"]
    assert cold_start.added_us(added[0], {"botocore", "botocore.compat", "json"}) == 250


def test_the_cold_start_event_carries_the_key_and_the_account():
    event = cold_start.get_account_event("acc_0123456789abcdef", "rk_secret")
    assert event["httpMethod"] == "GET" and event["path"] == "/accounts/acc_0123456789abcdef"
    assert event["pathParameters"] == {"account_id": "acc_0123456789abcdef"}
    assert event["headers"]["Authorization"] == "Bearer rk_secret"
    assert event["multiValueHeaders"]["Authorization"] == ["Bearer rk_secret"]


def test_the_child_environment_is_fake_aws_with_the_stage_variables(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = cold_start.child_environment("http://127.0.0.1:5999")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert env["AWS_ACCESS_KEY_ID"] == "testing" and "AWS_PROFILE" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env  # both children run with bytecode caches
    assert env["ROSTER_TABLE_NAME"] == common.stage_environment()["ROSTER_TABLE_NAME"]


def test_zip_entries_are_grouped_by_top_level_name(tmp_path):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("botocore/data/a.json", "x" * 5000)
        archive.writestr("botocore/client.py", "y" * 100)
        archive.writestr("app.py", "print()")
        archive.writestr("boto3-1.0.dist-info/METADATA", "m")
        archive.writestr("pip-1.0.dist-info/RECORD", "r")
    entries = {e.name: e for e in package_size.top_level_entries(path)}
    assert set(entries) == {"botocore", "app.py", "*.dist-info (metadata)"}
    assert entries["botocore"].files == 2 and entries["botocore"].uncompressed == 5100
    assert entries["*.dist-info (metadata)"].files == 2
    assert package_size.top_level_entries(path)[0].name == "botocore"


def test_the_package_copy_leaves_out_deployment_caches(tmp_path):
    copy = package_size.copy_project(tmp_path / "roster")
    assert (copy / "app.py").exists() and (copy / "chalicelib" / "bootstrap.py").exists()
    assert (copy / ".chalice" / "config.json").exists()
    assert not (copy / ".chalice" / "deployments").exists()
    assert not list(copy.rglob("__pycache__"))


def test_mail_pipeline_counts_calls_per_service_and_per_invitation():
    calls = [aws_calls.AwsCall("route", "DynamoDB", "GetItem"), aws_calls.AwsCall("route", "DynamoDB", "Query"),
             aws_calls.AwsCall("route", "SQS", "SendMessage"), aws_calls.AwsCall("auth", "SecretsManager", "GetSecretValue")]
    assert mail_pipeline.per_service(calls) == {"DynamoDB": 2, "SQS": 1, "SES": 0, "SecretsManager": 1}
    assert mail_pipeline.per_invitation(calls, 2) == {"DynamoDB": 1.0, "SQS": 0.5, "SES": 0.0, "SecretsManager": 0.5}
    assert mail_pipeline.per_operation(calls)["DynamoDB.GetItem"] == 1
    assert [len(c) for c in mail_pipeline.chunks(list(range(250)), 100)] == [100, 100, 50]


def test_mail_pipeline_reads_the_ready_line_and_counts_the_runs_mails():
    log = 'starting\nROSTER_LOCAL_READY {"api": "http://127.0.0.1:1", "console": "http://127.0.0.1:2"}\n'
    assert mail_pipeline.parse_ready("starting\n") is None
    assert mail_pipeline.parse_ready(log)["console"] == "http://127.0.0.1:2"
    mails = [{"to": ["a@run1.bench.example"]}, {"to": ["b@run2.bench.example"]}, {"to": ["c@x.run1.bench.example"]}]
    assert mail_pipeline.count_outbox(mails, "run1.bench.example") == 1


def test_notices_counts_the_stacks_calls_by_thread_and_writes_them(tmp_path):
    """bench/notices.py's counter, as the stack loads it: calls by the thread's role, items written."""
    import threading

    import boto3
    from botocore.handlers import BUILTIN_HANDLERS
    from moto import mock_aws

    path = tmp_path / "calls.json"
    with mock_aws():
        stop = notices.install_stack_counter(str(path), interval=0.01)
        try:
            dynamodb = boto3.client("dynamodb", region_name="eu-central-1")
            dynamodb.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")

            def worker():
                dynamodb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": str(i)}}}}
                                                              for i in range(3)]})
                dynamodb.get_item(TableName="t", Key={"pk": {"S": "1"}})

            thread = threading.Thread(target=worker, name="sqs-send_mail")
            thread.start()
            thread.join()
        finally:
            stop()
    assert not [handler for event, handler, *_ in BUILTIN_HANDLERS if getattr(handler, "__name__", "") == "count"]
    counts = notices.read_counts(path, 0)
    assert counts["calls"] == {"api|DynamoDB|CreateTable": 1, "send_mail|DynamoDB|BatchWriteItem": 1,
                               "send_mail|DynamoDB|GetItem": 1}
    assert counts["items"]["send_mail|DynamoDB|BatchWriteItem"] == 3
    summary = notices.summarize(counts, ("send_mail",))
    assert (summary["dynamodb_reads"], summary["dynamodb_writes"], summary["dynamodb_item_writes"]) == (1, 1, 3)


def test_notices_roles_items_budgets_and_report():
    assert [notices.role_of(name) for name in ("sqs-notice_fanout", "sqs-notice_fanout_3", "scheduler",
                                               "Thread-7 (process_request_thread)")] \
        == ["notice_fanout", "notice_fanout", "schedules", "api"]
    assert notices.items_of("TransactWriteItems", {"TransactItems": [{"Update": {}}, {"ConditionCheck": {}},
                                                                     {"Put": {}}]}) == 2
    assert notices.items_of("SendBulkTemplatedEmail", {"Destinations": [{}] * 50}) == 50
    assert notices.items_of("Query", {}) == 0 and notices.items_of("UpdateItem", {}) == 1
    assert notices.ses_call_budget({"de": 2500, "fr": 2500, "it": 2499, "en": 1}) == 50 + 50 + 50 + 1
    assert [notices.language_of(i) for i in range(5)] == ["de", "fr", "it", "en", "de"]
    counts = {"calls": {"send_mail|SES|SendBulkTemplatedEmail": 2, "send_mail|DynamoDB|BatchWriteItem": 4,
                        "send_mail|SQS|ReceiveMessage": 9, "notice_fanout|DynamoDB|Query": 3,
                        "notice_fanout|SQS|SendMessageBatch": 1},
              "items": {"send_mail|SES|SendBulkTemplatedEmail": 100, "send_mail|DynamoDB|BatchWriteItem": 100}}
    empty = notices.summarize({"calls": {}, "items": {}}, ("api",))
    part = {"request_path": empty, "fanout": notices.summarize(counts, ("notice_fanout",)),
            "mail_worker": notices.summarize(counts, ("send_mail",)), "schedules": empty}
    assert "send_mail SQS.ReceiveMessage" not in part["mail_worker"]["operations"]  # Lambda's part
    result = {"recipients": 100, "accounts": 10, "per_language": {"de": 50, "fr": 50}, "seed_seconds": 1.0,
              "warm_up": {"accounts": 2, "seconds": 0.7},
              "roster": {**part, "wall_seconds": 2.0, "settled": True, "published_after_seconds": 0.5,
                         "fanned_out_after_seconds": 1.0, "event": {"deliveries": {"queued": 0, "sent": 100}}},
              "baseline": {"wall_seconds": 12.0, "ses_calls": 100, "mails_per_second": 8.3},
              "fanout_memory": {"batches": 2, "peak_mib": 1.5, "retained_mib": 0.1}}
    checks = notices.budgets(result)
    assert {name: (c["value"], c["within"]) for name, c in checks.items()} == {
        "speed": (6.0, True), "ses_calls": (2, True), "write_requests_per_recipient": (0.04, True)}
    report = notices.render_report(result)
    assert "| speed | 6.0 | >= 5.0x | yes |" in report and "1.5 MiB" in report
    assert "a warm-up notice to 2 accounts 0.7 s, not measured" in report


def test_a_run_gives_back_the_environment_it_found(monkeypatch):
    """The scenarios trust a bench issuer; the tests after them must not (a stale ROSTER_OIDC_ISSUER
    made later tests fetch keys from it)."""
    monkeypatch.delenv("ROSTER_OIDC_ISSUER", raising=False)
    chosen = [s for s in aws_calls.SCENARIOS if s.key == ("GET", "/health")]
    aws_calls.run(chosen)
    assert "ROSTER_OIDC_ISSUER" not in os.environ
