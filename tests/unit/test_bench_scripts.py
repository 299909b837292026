"""The cheap parts of the bench scripts (bench/): route coverage, call counting, parsing, sizing.

No timings are asserted here; `make bench` measures (docs/performance.md).
"""
import os
import zipfile

import pytest

from bench import aws_calls, cold_start, common, package_size, pipeline
from bench import meter as meter_module
from bench.meter import Call, Invocation, Meter


def test_every_route_has_an_aws_calls_scenario():
    import app

    missing, stale = aws_calls.coverage(app.app)
    assert missing == [], f"add a scenario to bench/aws_calls.py for {missing}"
    assert stale == [], f"scenarios for routes the app no longer has: {stale}"


def test_every_scenario_has_a_known_budget():
    assert {s.budget for s in aws_calls.SCENARIOS} <= set(aws_calls.BUDGETS)


def test_the_meter_counts_calls_and_bills_dynamodb_by_item_size_only_while_recording():
    import boto3
    from botocore.handlers import BUILTIN_HANDLERS
    from moto import mock_aws

    meter = Meter()
    with meter.installed(), mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-central-1")
        dynamodb.create_table(
            TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}])
        dynamodb.list_tables()  # not recording: not counted
        with meter.invocation("f") as invocation:
            dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "g": {"S": "x"}, "big": {"S": "y" * 1500}})
            dynamodb.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET g = :v",
                                 ExpressionAttributeValues={":v": {"S": "z"}})
            dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}}, ProjectionExpression="pk")
            dynamodb.query(TableName="t", KeyConditionExpression="pk = :p", ConsistentRead=True,
                           ExpressionAttributeValues={":p": {"S": "a"}})
            dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}}])
    assert [str(c) for c in invocation.calls] == ["PutItem", "UpdateItem", "GetItem", "Query", "TransactWriteItems"]
    # 1.5 KB put: 2 + its index entry 1; key change: 2 + index delete and put 2; small transaction: 2 × 1
    assert [c.wcu for c in invocation.calls] == [3, 4, 0, 0, 2]
    # an eventually consistent 1.5 KB read (the projection does not lower it): 0.5; a consistent query: 1
    assert [c.rcu for c in invocation.calls] == [0, 0, 0.5, 1, 0]
    assert invocation.cpu_ms >= 0
    assert all(entry not in BUILTIN_HANDLERS for entry in meter._entries)


def test_item_sizes_follow_dynamodbs_rules():
    assert meter_module.item_size({"ab": {"S": "xyz"}}) == 5
    assert meter_module.item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 + 1
    assert meter_module.item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert meter_module.write_units(None, {"a": {"S": "x" * 1100}}) == 2
    assert meter_module.read_units(4097, consistent=False) == 1.0


def test_the_meter_records_chalicelibs_sleeps_and_sqs_messages_without_waiting():
    import time

    import boto3
    from moto import mock_aws

    from chalicelib.domain.errors import Contention
    from chalicelib.repositories import notice_delivery

    class BusyTransaction:
        """Conflicts on every commit but the last: chalicelib pauses between the attempts."""
        commits = 0

        def commit(self):
            self.commits += 1
            if self.commits < notice_delivery.TRANSACTION_ATTEMPTS:
                raise Contention()

    meter = Meter()
    with meter.installed(), mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        started = time.monotonic()
        with meter.invocation("f") as invocation:
            assert notice_delivery._commit_unless_not_ours(BusyTransaction()) is True
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x", "DelaySeconds": 5},
                                                           {"Id": "2", "MessageBody": "y"}])
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 2  # no delay
    assert time.monotonic() - started < 5
    assert invocation.sleep_s > 0  # the pauses between the attempts, recorded and not slept
    assert meter.totals(invocation.calls)["sqs_messages"] == 2
    assert meter.totals(invocation.calls)["sqs_delay_seconds"] == 5


def test_route_budgets_in_dynamodb_terms():
    def calls(*operations):
        return [Call("route", "DynamoDB", op) for op in operations]

    assert aws_calls.over_budget("read", calls("GetItem")) == ""
    assert aws_calls.over_budget("read", calls("GetItem", "Query")) == "2 reads"
    assert aws_calls.over_budget("write", calls("GetItem", "TransactWriteItems")) == ""
    assert aws_calls.over_budget("write", calls("TransactWriteItems", "GetItem")) == "read after a write"
    assert aws_calls.over_budget("list", calls("Query")) == ""
    assert aws_calls.over_budget("list", calls("Scan")) == "Scan"
    assert aws_calls.over_budget("none", []) == ""
    assert aws_calls.over_budget("audience", calls("GetItem", "Query", "BatchGetItem", "Query")) == ""
    assert aws_calls.over_budget("audience", calls("Query", "UpdateItem")) == "writes: UpdateItem"
    batch = calls("GetItem", "BatchGetItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems")
    assert aws_calls.over_budget("batch", batch) == ""
    assert aws_calls.over_budget("batch", calls("GetItem", "Query", "BatchGetItem", "TransactWriteItems")) \
        == "more than 1 read for an item"
    assert aws_calls.over_budget("batch", calls("Query", "TransactWriteItems", "Query", "GetItem", "TransactWriteItems")) \
        == "more than 1 read for an item"
    assert aws_calls.over_budget("batch", calls("GetItem", "TransactWriteItems", "GetItem")) == "read after the last write"


def test_the_api_key_lookup_is_metered_as_auth_and_the_read_as_the_route():
    chosen = [s for s in aws_calls.SCENARIOS if s.key == ("GET", "/accounts/{account_id}") and not s.variant]
    meter = Meter()
    with meter.installed():
        [result] = aws_calls.run(meter, chosen)
    assert [str(c) for c in result.gate] == ["GetItem"]
    assert [str(c) for c in result.own] == ["GetItem"]
    assert result.problem == ""
    assert sum(c.rcu for c in result.calls) > 0
    assert "GET /accounts/{account_id}" in aws_calls.render([result])


def test_the_request_limits_counter_is_metered_with_the_gate_not_as_the_routes_write():
    chosen = [s for s in aws_calls.SCENARIOS if s.key == ("POST", "/notices/{notice_id}/resolve")]
    meter = Meter()
    with meter.installed():
        [result] = aws_calls.run(meter, chosen)
    assert [str(c) for c in result.gate] == ["GetItem", "UpdateItem"]  # the key, the limit's counter
    assert "UpdateItem" not in [c.operation for c in result.own]


def test_a_persons_membership_in_the_paths_account_is_metered_with_the_gate():
    chosen = [s for s in aws_calls.SCENARIOS
              if s.key == ("GET", "/accounts/{account_id}") and s.variant == "person token (member)"]
    meter = Meter()
    with meter.installed():
        [result] = aws_calls.run(meter, chosen)
    assert [str(c) for c in result.gate] == ["Query", "GetItem"]  # the person, their membership
    assert [str(c) for c in result.own] == ["GetItem"]  # the account
    assert result.problem == ""


def test_the_cost_of_a_notice_is_priced_from_the_meters_figures():
    run = pipeline.Run("notice", 100, languages={"de": 100})
    run.invocations = [Invocation("send_mail", cpu_ms=100.0, sleep_s=2.0, calls=[
        Call("send_mail", "SES", "SendBulkTemplatedEmail", mails=50),
        Call("send_mail", "SES", "SendBulkTemplatedEmail", mails=50),
        Call("send_mail", "DynamoDB", "TransactWriteItems", wcu=100.0)])]
    lines = pipeline.cost(run, Meter(), memory_mb=512, scale_to=100)
    assert lines["SES mails"] == pytest.approx(0.01)
    assert lines["DynamoDB writes (WRU)"] == pytest.approx(100 * 0.625e-6)
    assert lines["Lambda GB-s: sleeping"] == pytest.approx(2.0 * 0.5 * 0.0000166667)
    [ses, writes, units, *ratios] = pipeline.budgets([run, run], Meter(), 512)
    assert ses.ok and ses.measured == "2"
    assert writes.measured == "0.010" and units.measured == "1.000" and units.ok


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


def test_importtime_is_parsed_into_a_tree_and_chalicelibs_modules_found():
    roots = cold_start.parse_importtime(IMPORTTIME)
    assert [r.name for r in roots] == ["chalicelib.repositories.database", "json"]
    assert [c.name for c in roots[0].children] == ["botocore", "chalicelib.domain"]
    assert roots[0].children[0].children[0].name == "botocore.compat"
    own, pulled = cold_start.chalicelib_imports(roots, IMPORTTIME)
    assert own == [("chalicelib.repositories.database", 0.2, True), ("chalicelib.domain", 0.05, True)]
    assert pulled[0][:3] == ("botocore", 0.4, "chalicelib.repositories.database")


def test_busy_spins_its_processes_while_the_block_runs_and_stops_them():
    with cold_start.busy(2) as spinners:
        assert len(spinners) == 2 and all(spinner.poll() is None for spinner in spinners)
    assert all(spinner.poll() is not None for spinner in spinners)


def test_the_cold_start_budget_is_the_runs_median_cpu_ratio():
    def sample(cpu_ms):
        return cold_start.Sample(wall_ms=cpu_ms * 2, cpu_ms=cpu_ms, detail={"import_ms": 1.0, "request_ms": 1.0})

    rounds = [(sample(100), sample(120)), (sample(100), sample(124)), (sample(100), sample(160))]
    assert cold_start.render(rounds, [], [])[1] is True  # one slow round does not fail the run
    rounds.append((sample(100), sample(130)))
    rounds.append((sample(100), sample(131)))
    assert cold_start.render(rounds, [], [])[1] is False


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


def test_a_run_gives_back_the_environment_it_found(monkeypatch):
    """The scenarios trust a bench issuer; the tests after them must not (a stale ROSTER_OIDC_ISSUER
    made later tests fetch keys from it)."""
    monkeypatch.delenv("ROSTER_OIDC_ISSUER", raising=False)
    chosen = [s for s in aws_calls.SCENARIOS if s.key == ("GET", "/health")]
    meter = Meter()
    with meter.installed():
        aws_calls.run(meter, chosen)
    assert "ROSTER_OIDC_ISSUER" not in os.environ
