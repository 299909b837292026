"""Notices and invitations on AWS terms: per 1,000 recipients and per 1,000 invitations, the cost of
one 10,000-recipient notice, and the budgets.

The real handlers run in-process on moto (mock_aws + chalice.test.Client; stock but for the kept
transaction and bulk-status fixes, as in bench/aws_calls.py), metered by bench/meter.py. Seeding goes through the
API and is not metered: a tenant, accounts (active) with ten contacts each in de, fr, it, en in
turn. Then, metered:
- a notice: POST /notices (outage, all accounts), POST …/publish, then every SQS-triggered
  function of the app is fed from its queue, as Lambda's poller would (its ReceiveMessage and
  DeleteMessageBatch are billed SQS requests and counted), until every queue is empty — once
  unpaced and once with SES allowing 14 mails a second (ROSTER_SES_MAX_SEND_RATE);
- invitations: POST …/invitations/batch (100 each), then the queues drained the same way.
SQS delays are recorded and not waited for; time.sleep called by chalicelib is recorded and
not slept. Figures are scaled linearly per 1,000 and to 10,000 (fixed costs included).

    python bench/pipeline.py [--recipients 1000] [--invitations 300] [--strict]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, apply_fake_aws, markdown_table, save  # noqa: E402
from bench.meter import Invocation, Meter  # noqa: E402

LANGUAGES = ("de", "fr", "it", "en")
CONTACTS_PER_ACCOUNT = 10
BULK_LIMIT = 50  # SES SendBulkTemplatedEmail destinations a call
PACED_RATE = 14.0  # mails a second: a new SES account's production quota
NOTICE_SIZE = 10_000  # recipients of the notice the cost table prices

# Public on-demand list prices, us-east-1 (aws.amazon.com/{ses,dynamodb,sqs,lambda,api-gateway}/pricing),
# as published in 2025 (DynamoDB's after its 2024-11-01 cut); the script does not fetch them.
PRICE_LIST = "us-east-1 on-demand list prices, 2025 (DynamoDB after the 2024-11-01 cut)"
SES_PER_MAIL = 0.10 / 1000
DYNAMODB_PER_WRU = 0.625 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6
SQS_PER_REQUEST = 0.40 / 1e6  # standard queue, beyond the free tier; a request of up to 64 KB
LAMBDA_PER_GB_S = 0.0000166667  # x86
LAMBDA_PER_REQUEST = 0.20 / 1e6
API_GATEWAY_PER_REQUEST = 3.50 / 1e6  # REST API, first 333 million
# Lambda bills wall time, so the time spent waiting on AWS counts; these latencies are assumed
# (typical in-region figures), not measured. A function gets memory/1,769 MB of a vCPU
# (Lambda docs), so CPU time measured here on a whole core is divided by that share.
ASSUMED_LATENCY_MS = {"DynamoDB": 5.0, "SQS": 10.0, "SES": 40.0}
FULL_VCPU_MB = 1769


def lambda_memory_mb() -> int:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return int(config["stages"]["dev"].get("lambda_memory_size", config.get("lambda_memory_size", 128)))


@dataclass
class Run:
    name: str
    units: int  # recipients mailed, or invitations
    invocations: list[Invocation] = field(default_factory=list)
    esm: list = field(default_factory=list)  # the SQS poller's calls
    languages: Counter = field(default_factory=Counter)

    @property
    def calls(self) -> list:
        return [c for i in self.invocations for c in i.calls] + self.esm

    def totals(self, meter: Meter) -> dict:
        totals = meter.totals(self.calls)
        totals["lambda_invocations"] = sum(i.function != "api" for i in self.invocations)
        totals["api_requests"] = sum(i.function == "api" for i in self.invocations)
        totals["cpu_ms"] = sum(i.cpu_ms for i in self.invocations)
        totals["sleep_s"] = sum(i.sleep_s for i in self.invocations)
        return totals


# --- driving the app -------------------------------------------------------------------------------
class Pipeline:
    def __init__(self, meter: Meter, client) -> None:
        import boto3

        import app

        self.meter, self.client, self.sqs = meter, client, boto3.client("sqs")
        from chalicelib.resources import RESOURCES

        self.sources = [s for s in app.app.event_sources if type(s).__name__ == "SQSEventConfig"]
        self.handlers = app.app.handler_map
        self.timeouts = {q.handler: q.consumer_timeout_seconds for q in RESOURCES.queues}
        self.urls = {s.queue: self.sqs.get_queue_url(QueueName=s.queue)["QueueUrl"] for s in self.sources}
        self.arns = {q: self.sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                     for q, u in self.urls.items()}

    def request(self, run: Run | None, method: str, path: str, key: str, body=None, status: int = 200):
        context = self.meter.invocation("api") if run else contextlib.nullcontext()
        with context as invocation:
            reply = self.client.http.request(method, path, body=json.dumps(body).encode() if body is not None else b"",
                                             headers={"content-type": "application/json",
                                                      "authorization": f"Bearer {key}"})
        if reply.status_code != status:
            raise RuntimeError(f"{method} {path} answered {reply.status_code}, not {status}: {reply.body[:500]!r}")
        if run:
            run.invocations.append(invocation)
        return json.loads(reply.body) if reply.body else None

    def context(self, function: str):
        """A Lambda context with the function's timeout, on a clock that counts the product's
        recorded sleeps as time gone by (as they would be on Lambda)."""
        from chalice.local import LambdaContext

        meter = self.meter

        class Clock:
            def time(self) -> float:
                return time.time() + meter.slept_s

        return LambdaContext(function, memory_size=lambda_memory_mb(), max_runtime_ms=self.timeouts[function] * 1000,
                             time_source=Clock())

    def drain(self, run: Run | None, max_rounds: int = 100_000) -> None:
        """Feeds each SQS-triggered function from its queue until all are empty."""
        from infra.local_stack.sqs_events import sqs_event

        metered = (lambda name: self.meter.invocation(name)) if run else (lambda name: contextlib.nullcontext())
        failures = 0
        for _ in range(max_rounds):
            busy = False
            for source in self.sources:
                url = self.urls[source.queue]
                with metered("esm") as poll:
                    messages = self.sqs.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10), AttributeNames=["All"],
                        MessageAttributeNames=["All"]).get("Messages", [])
                if not messages:
                    continue
                busy = True
                with metered(source.name) as invocation:
                    result = self.handlers[source.name](sqs_event(messages, self.arns[source.queue],
                                                                  self.sqs.meta.region_name), self.context(source.name))
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                done = [m for m in messages if m["MessageId"] not in failed]
                with metered("esm") as delete:
                    if done:
                        self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
                if failed:  # Lambda would wait for the visibility timeout; the figures do not depend on it
                    failures += 1
                    if failures > 200:
                        raise RuntimeError(f"{source.name} keeps failing: {result}")
                    with self.meter.muted():
                        self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                            for n, m in enumerate(messages) if m["MessageId"] in failed])
                if run:
                    run.invocations.append(invocation)
                    run.esm += poll.calls + delete.calls
            if not busy:
                return
        raise RuntimeError("the queues did not empty")


def seed(pipeline: Pipeline, platform_key: str, accounts: int) -> tuple[str, Counter]:
    """A tenant and `accounts` active accounts with ten contacts each; returns (api key, people per language)."""
    from bench.aws_calls import COMPLETE_ACCOUNT

    key = pipeline.request(None, "POST", "/tenants", platform_key, {"name": "Bench Telecom", "default_language": "de"},
                           201)["api_key"]
    languages: Counter = Counter()
    for a in range(accounts):
        aid = pipeline.request(None, "POST", "/accounts", key, {**COMPLETE_ACCOUNT, "name": f"Kunde {a}"}, 201)["account_id"]
        for c in range(CONTACTS_PER_ACCOUNT):
            language = LANGUAGES[(a * CONTACTS_PER_ACCOUNT + c) % len(LANGUAGES)]
            roles = ["caretaker"] if c == 0 else ["on_site_admin"] if c == 1 else []
            pipeline.request(None, "POST", f"/accounts/{aid}/contacts", key, {
                "email": f"p{a}-{c}@kunde.example", "language": language, "roles": roles,
                "notifications": ["outage", "maintenance"]}, 201)
            languages[language] += 1
        pipeline.request(None, "POST", f"/accounts/{aid}/onboarding/complete", key)
    pipeline.drain(None)  # whatever the seeding queued
    return key, languages


def notice(pipeline: Pipeline, key: str, languages: Counter, name: str) -> Run:
    texts = {"de": "Störung Telefonie", "fr": "Panne téléphonie", "it": "Guasto telefonia", "en": "Telephony outage"}
    run = Run(name, 0, languages=languages)
    notice_id = pipeline.request(run, "POST", "/notices", key, {
        "type": "outage", "title": texts, "body": {k: v + "." for k, v in texts.items()}, "affected": {"all": True}},
        201)["notice_id"]
    pipeline.request(run, "POST", f"/notices/{notice_id}/publish", key, status=202)
    pipeline.drain(run)
    run.units = sum(c.mails for c in run.calls)
    if run.units != sum(languages.values()):
        raise RuntimeError(f"{name}: {run.units} mails for {sum(languages.values())} recipients")
    sent = pipeline.request(None, "GET", f"/notices/{notice_id}", key)["events"][0]["deliveries"]["sent"]
    if sent != run.units:  # a mail SES accepted but Roster counted as failed would skip its writes
        raise RuntimeError(f"{name}: {sent} of {run.units} mails settled as sent")
    return run


def invitations(pipeline: Pipeline, key: str, count: int) -> Run:
    from bench.aws_calls import COMPLETE_ACCOUNT

    run = Run("invitations", count)
    for start in range(0, count, 100):
        aid = pipeline.request(None, "POST", "/accounts", key, {**COMPLETE_ACCOUNT, "name": f"Neu {start}"}, 201)["account_id"]
        size = min(100, count - start)
        reply = pipeline.request(run, "POST", f"/accounts/{aid}/invitations/batch", key, {"invitations": [
            {"email": f"i{start + n}@neu.example", "language": LANGUAGES[n % 4]} for n in range(size)]})
        if any(item["status"] != 201 for item in reply["items"]):
            raise RuntimeError(f"an invitation failed: {reply['items'][:3]}")
    pipeline.drain(run)
    mails = sum(c.mails for c in run.calls)
    if mails != count:
        raise RuntimeError(f"invitations: {mails} mails for {count} invitations")
    return run


# --- cost and budgets ------------------------------------------------------------------------------
def lambda_seconds(invocations: list[Invocation], memory_mb: int) -> dict[str, float]:
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return {"cpu": sum(i.cpu_ms for i in invocations) / 1000 / share,
            "sleep": sum(i.sleep_s for i in invocations),
            "waiting": sum(ASSUMED_LATENCY_MS.get(c.service, 10.0) for i in invocations for c in i.calls) / 1000}


def cost(run: Run, meter: Meter, memory_mb: int, scale_to: int = NOTICE_SIZE) -> dict[str, float]:
    """Dollars for `scale_to` units, scaled linearly from the run."""
    t, scale = run.totals(meter), scale_to / run.units
    functions = [i for i in run.invocations if i.function != "api"]
    api = [i for i in run.invocations if i.function == "api"]
    gb = memory_mb / 1024
    seconds = lambda_seconds(run.invocations, memory_mb)
    lines = {
        "SES mails": t["mails"] * SES_PER_MAIL,
        "DynamoDB writes (WRU)": t["wcu"] * DYNAMODB_PER_WRU,
        "DynamoDB reads (RRU)": t["rcu"] * DYNAMODB_PER_RRU,
        "SQS requests": t["sqs_requests"] * SQS_PER_REQUEST,
        "Lambda requests": len(functions) * LAMBDA_PER_REQUEST + len(api) * LAMBDA_PER_REQUEST,
        "Lambda GB-s: CPU": seconds["cpu"] * gb * LAMBDA_PER_GB_S,
        "Lambda GB-s: sleeping": seconds["sleep"] * gb * LAMBDA_PER_GB_S,
        "Lambda GB-s: waiting on AWS (assumed latencies)": seconds["waiting"] * gb * LAMBDA_PER_GB_S,
        "API Gateway requests": len(api) * API_GATEWAY_PER_REQUEST,
    }
    return {name: dollars * scale for name, dollars in lines.items()}


@dataclass
class Budget:
    what: str
    limit: str
    measured: str
    ok: bool


def budgets(notices: list[Run], meter: Meter, memory_mb: int) -> list[Budget]:
    unpaced = notices[0]
    t = unpaced.totals(meter)
    ses_limit = sum(math.ceil(n / BULK_LIMIT) for n in unpaced.languages.values())
    per = unpaced.units
    found = [Budget("SES calls of a notice", f"≤ Σ⌈n/50⌉ over languages = {ses_limit}", str(t["ses_calls"]),
                    t["ses_calls"] <= ses_limit),
             Budget("DynamoDB write requests per recipient", "≤ 1.1", f"{t['dynamodb_writes'] / per:.3f}",
                    t["dynamodb_writes"] / per <= 1.1),
             Budget("DynamoDB write units per recipient", "≤ 1.5", f"{t['wcu'] / per:.3f}", t["wcu"] / per <= 1.5)]
    for run in notices:
        lines = cost(run, meter, memory_mb)
        ratio = sum(lines.values()) / lines["SES mails"]
        found.append(Budget(f"all-in cost / SES's ({run.name})", "≤ 1.03", f"{ratio:.4f}", ratio <= 1.03))
    return found


# --- report ----------------------------------------------------------------------------------------
def per_thousand_table(runs: list[Run], meter: Meter) -> str:
    totals = [r.totals(meter) for r in runs]
    operations = sorted({op for t in totals for op in t["requests"]})

    def row(label, values, digits=2):
        return [label, *[f"{v:,.{digits}f}" for v in values]]

    rows = [row(f"requests: {op}", [t["requests"].get(op, 0) * 1000 / r.units for r, t in zip(runs, totals)])
            for op in operations]
    for op in sorted({c.operation for r in runs for c in r.calls if c.wcu}):
        rows.append(row(f"WCU of {op}", [sum(c.wcu for c in r.calls if c.operation == op) * 1000 / r.units
                                          for r in runs]))
    for label, key in (("DynamoDB read requests", "dynamodb_reads"), ("DynamoDB write requests", "dynamodb_writes"),
                       ("DynamoDB RCU", "rcu"), ("DynamoDB WCU", "wcu"), ("SES calls", "ses_calls"),
                       ("SES mails", "mails"), ("SQS requests (incl. the poller's)", "sqs_requests"),
                       ("SQS messages sent", "sqs_messages"), ("SQS delay asked for, s", "sqs_delay_seconds"),
                       ("Lambda invocations (SQS, schedules)", "lambda_invocations"),
                       ("API requests (the API function)", "api_requests"), ("product CPU ms", "cpu_ms"),
                       ("product sleeping, s", "sleep_s")):
        rows.append(row(label, [t[key] * 1000 / r.units for r, t in zip(runs, totals)]))
    header = ["per 1,000", *[f"{r.name} ({r.units:,} measured)" for r in runs]]
    return markdown_table(header, rows)


def cost_table(runs: list[Run], meter: Meter, memory_mb: int) -> str:
    costs = [cost(r, meter, memory_mb) for r in runs]
    rows = [[name, *[f"${c[name]:.4f}" for c in costs]] for name in costs[0]]
    rows.append(["**all-in**", *[f"**${sum(c.values()):.4f}**" for c in costs]])
    rows.append(["SES alone", *[f"${c['SES mails']:.4f}" for c in costs]])
    rows.append(["all-in / SES", *[f"{sum(c.values()) / c['SES mails']:.4f}" for c in costs]])
    return markdown_table([f"one {NOTICE_SIZE:,}-recipient notice", *[r.name for r in runs]], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=1000, help="audience of the measured notices")
    parser.add_argument("--invitations", type=int, default=300,
                        help="stock moto slows down with the table; the figures are per invitation")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    args = parser.parse_args(argv)
    apply_fake_aws(os.environ)
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                       "ROSTER_MAIL_REQUESTS_PER_MINUTE": "1000000"})
    meter, memory_mb = Meter(), lambda_memory_mb()
    with meter.installed(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from bench.aws_calls import app_on_moto
        from bench.common import PLATFORM_KEY
        from chalicelib import bootstrap

        with app_on_moto(meter) as client:
            pipeline = Pipeline(meter, client)
            # the invitations first: stock moto's index queries read the whole table, so they would
            # slow down with the notices' audience in it (DynamoDB's cost does not)
            first = pipeline.request(None, "POST", "/tenants", PLATFORM_KEY, {"name": "Neu", "default_language": "de"},
                                     201)["api_key"]
            invited = invitations(pipeline, first, args.invitations)
            print(f"invited {args.invitations}", file=sys.stderr)
            key, languages = seed(pipeline, PLATFORM_KEY, math.ceil(args.recipients / CONTACTS_PER_ACCOUNT))
            print(f"seeded {sum(languages.values())} recipients", file=sys.stderr)
            runs = [notice(pipeline, key, languages, "notice, unpaced")]
            os.environ["ROSTER_SES_MAX_SEND_RATE"] = str(PACED_RATE)
            bootstrap.reset()
            runs.append(notice(pipeline, key, languages, f"notice, SES at {PACED_RATE:g}/s"))
            print("notices done", file=sys.stderr)
            runs.append(invited)
    notices = runs[:2]
    found = budgets(notices, meter, memory_mb)
    save("pipeline", {"runs": {r.name: {**r.totals(meter), "units": r.units} for r in runs},
                      "cost": {r.name: cost(r, meter, memory_mb) for r in notices},
                      "budgets": [vars(b) for b in found]})
    print(f"### Per 1,000 notice recipients and per 1,000 invitations (moto in-process, {len(languages)} "
          f"languages: {dict(languages)})\n")
    print(per_thousand_table(runs, meter))
    print(f"\n### Cost of one {NOTICE_SIZE:,}-recipient notice ({PRICE_LIST}; Lambda {memory_mb} MB, "
          f"CPU time ÷ {memory_mb}/{FULL_VCPU_MB} vCPU; scaled linearly from the measured run)\n")
    print(cost_table(notices, meter, memory_mb))
    print("\n### Notice budgets\n")
    print(markdown_table(["budget", "limit", "measured", "pass"],
                         [[b.what, b.limit, b.measured, "pass" if b.ok else "FAIL"] for b in found]))
    return 1 if args.strict and not all(b.ok for b in found) else 0


if __name__ == "__main__":
    sys.exit(main())
