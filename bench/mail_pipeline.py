"""The mail pipeline: AWS requests per invitation, and the mail worker's throughput on the local stack.

1. Requests per invitation (in-process, moto + chalice.test.Client, counted with the botocore
   `before-call` hook of bench/aws_calls.py): N invitations one request each, and N in one
   `POST …/invitations/batch`; then the mail queue is drained through the real `send_mail` handler
   (batches of the queue's batch size, as Lambda would). DynamoDB / SQS / SES requests are reported
   per invitation for the request path and the worker path. The worker's own receive and delete
   are Lambda's event source mapping (not the function's calls) and are not counted.
2. Throughput (the local stack as a subprocess, real HTTP, the queue runner): M invitations in
   batches of 100, wall time from the first request until every invitation is `invited` (SES
   accepted the mail and the worker settled it; polled through the API every 2 s), then the
   console outbox is read once to check it holds all M mails. Also the worker's rate once the
   requests are done (the mails settled after that / the time they took).

    python bench/mail_pipeline.py [--count 50] [--mails 1000] [--timeout 600] [--skip-stack]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.aws_calls import Api, AwsCall, CallCounter, World  # noqa: E402
from bench.common import PLATFORM_KEY, ROOT, apply_fake_aws, markdown_table, save  # noqa: E402

SERVICES = ("DynamoDB", "SQS", "SES")
MAIL_QUEUE = "roster-mail"
BATCH_LIMIT = 100  # POST …/invitations/batch takes up to 100 (docs/api.md)
READY_MARKER = "ROSTER_LOCAL_READY "


# --- counting ------------------------------------------------------------------------------------
def per_service(calls: Iterable[AwsCall]) -> dict[str, int]:
    """Calls per service (DynamoDB, SQS, SES; anything else under its own name)."""
    counts = Counter(call.service for call in calls)
    return {**{service: counts.get(service, 0) for service in SERVICES},
            **{service: n for service, n in counts.items() if service not in SERVICES}}


def per_operation(calls: Iterable[AwsCall]) -> dict[str, int]:
    return dict(sorted(Counter(f"{c.service}.{c.operation}" for c in calls).items()))


def per_invitation(calls: list[AwsCall], invitations: int) -> dict[str, float]:
    return {service: round(n / invitations, 2) for service, n in per_service(calls).items()}


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


# --- 1. requests per invitation (in-process) ------------------------------------------------------
def count_requests(n: int) -> dict[str, Any]:
    from chalice.test import Client
    from moto import mock_aws

    import app
    from chalicelib import bootstrap
    from chalicelib.resources import MAIL_QUEUE as QUEUE, RESOURCES
    from infra.local_stack.provisioning import create_resources
    import boto3

    from infra.local_stack.sqs_events import sqs_event
    from tests.functional.mail_helpers import REGION, queue_url, receive

    from infra.local_stack import moto_queries, moto_transactions

    moto_transactions.install()  # as the local stack and the tests: no whole-table copy per transaction,
    moto_queries.install()  # no whole-table sort per Query

    counter = CallCounter()
    result: dict[str, Any] = {"invitations": n, "worker_batch_size": QUEUE.batch_size}
    with counter.installed(), mock_aws():
        create_resources(RESOURCES, endpoint_url=None, secret_values={"PlatformKey": PLATFORM_KEY})
        bootstrap.reset()
        try:
            with Client(app.app, stage_name="dev") as client:
                world = World(client.http)
                world.api.must("GET", "/tenant")  # warm: the key is authenticated on every request anyway
                sqs = boto3.client("sqs", region_name=REGION)
                arn = sqs.get_queue_attributes(QueueUrl=queue_url(MAIL_QUEUE),
                                               AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                for label, invite in (("single", _invite_one_by_one), ("batch", _invite_in_batches)):
                    aid = world.account(name=f"Bench {label} AG")
                    with counter.recording() as request_calls:
                        invite(world.api, aid, n)
                    request_calls = list(request_calls)
                    worker_calls, handled, worker_seconds = [], 0, 0.0
                    while True:
                        messages = receive(MAIL_QUEUE, max_messages=min(10, QUEUE.batch_size))
                        if not messages:
                            break
                        event = sqs_event(messages, arn, REGION)  # Lambda's part: not counted
                        began = time.perf_counter()
                        with counter.recording() as calls:
                            reply = client.lambda_.invoke("send_mail", event).payload
                        worker_seconds += time.perf_counter() - began
                        worker_calls.extend(calls)
                        if (reply or {}).get("batchItemFailures"):
                            raise RuntimeError(f"send_mail failed records: {reply}")
                        _delete(messages)
                        handled += len(messages)
                    invited = _count_invited(world.api, aid)
                    result[label] = {
                        "requests": n if label == "single" else len(chunks(list(range(n)), BATCH_LIMIT)),
                        "messages_handled": handled, "invited_after_drain": invited,
                        "worker_seconds": round(worker_seconds, 2),
                        "worker_mails_per_second": round(handled / worker_seconds, 1) if worker_seconds else None,
                        "request_path": {"total": per_service(request_calls), "operations": per_operation(request_calls),
                                         "per_invitation": per_invitation(request_calls, n)},
                        "worker_path": {"total": per_service(worker_calls), "operations": per_operation(worker_calls),
                                        "per_invitation": per_invitation(worker_calls, n)},
                    }
        finally:
            bootstrap.reset()
    return result


def _invite_one_by_one(api: Api, aid: str, n: int) -> None:
    for i in range(n):
        api.must("POST", f"/accounts/{aid}/invitations", {"email": f"one{i}@bench.example"}, 201)


def _invite_in_batches(api: Api, aid: str, n: int) -> None:
    for part in chunks(list(range(n)), BATCH_LIMIT):
        reply = api.must("POST", f"/accounts/{aid}/invitations/batch",
                         {"invitations": [{"email": f"many{i}@bench.example"} for i in part]}, 200)
        failed = [item for item in reply["items"] if item["status"] != 201]
        if failed:
            raise RuntimeError(f"batch items failed: {failed[:3]}")


def _delete(messages: list[dict]) -> None:
    """Lambda's event source mapping deletes the handled messages: not the function's calls."""
    import boto3

    from tests.functional.mail_helpers import REGION, queue_url

    sqs = boto3.client("sqs", region_name=REGION)
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url(MAIL_QUEUE), ReceiptHandle=message["ReceiptHandle"])


def _count_invited(api: Api, aid: str) -> int:
    total, cursor = 0, None
    while True:
        path = f"/accounts/{aid}/invitations?status=invited&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = api.must("GET", path)
        total += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return total


# --- 2. throughput on the local stack --------------------------------------------------------------
class LocalStack:
    """`python -m infra.local_stack` on free ports, like the e2e fixture (tests/e2e/conftest.py)."""

    def __init__(self, start_timeout: float = 60):
        self.log = Path(tempfile.mkdtemp(prefix="roster-bench-")) / "stack.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.urls: dict[str, str] = {}

    def __enter__(self) -> "LocalStack":
        from chalicelib.resources import RESOURCES

        names = {r.name_env for r in (*RESOURCES.tables, *RESOURCES.queues, *RESOURCES.secrets)}
        environ = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("AWS_")}
        environ.update(ROSTER_PLATFORM_KEY=PLATFORM_KEY, PYTHONUNBUFFERED="1", POWERTOOLS_LOG_LEVEL="WARNING")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local_stack", "--api-port", "0", "--console-port", "0", "--aws-port", "0", "--dynamodb-port", "0"],
                cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            ready = parse_ready(self.log.read_text(errors="replace"))
            if ready:
                self.urls = ready
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited early; see {self.log}")
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the local stack was not ready in {self.start_timeout}s; see {self.log}")

    def __exit__(self, *exc: Any) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def parse_ready(log_text: str) -> dict[str, str] | None:
    """The URLs of the stack's `ROSTER_LOCAL_READY {json}` line, or None before it is printed."""
    for line in log_text.splitlines():
        if line.startswith(READY_MARKER):
            return json.loads(line[len(READY_MARKER):])
    return None


def count_outbox(mails: list[dict], domain: str) -> int:
    """Mails of the outbox addressed to `domain` (this run's invitees)."""
    return sum(1 for mail in mails if any(address.endswith("@" + domain) for address in mail.get("to", [])))


def measure_throughput(total: int, timeout: float) -> dict[str, Any]:
    import requests

    from chalicelib.resources import MAIL_QUEUE as QUEUE

    session = requests.Session()
    session.trust_env = False
    domain = f"tp{uuid.uuid4().hex[:6]}.bench.example"
    with LocalStack() as stack:
        api, console = stack.urls["api"], stack.urls["console"]

        def call(method: str, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
            reply = session.request(method, api + path, json=body, timeout=300,
                                    headers={"Authorization": f"Bearer {key}"})
            if reply.status_code != expect:
                raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
            return reply.json()

        tenant = call("POST", "/tenants", stack.urls["platform_key"], {"name": "Bench Telecom"}, expect=201)
        key = tenant["api_key"]
        accounts = [call("POST", "/accounts", key, {"name": f"Bench {i} AG"}, expect=201)["account_id"]
                    for i in range(len(chunks(list(range(total)), BATCH_LIMIT)))]
        start, failed_batches = time.monotonic(), []
        for aid, part in zip(accounts, chunks(list(range(total)), BATCH_LIMIT)):
            try:
                reply = call("POST", f"/accounts/{aid}/invitations/batch", key,
                             {"invitations": [{"email": f"p{i}@{domain}"} for i in part]})
            except RuntimeError as error:  # recorded, not retried: the items before the failure exist
                failed_batches.append(str(error)[:200])
                continue
            if any(item["status"] != 201 for item in reply["items"]):
                failed_batches.append("some items of the batch were refused")
        requests_done = time.monotonic() - start
        created = sum(_listed_over_http(call, key, aid, "") for aid in accounts)
        total_asked, total = total, created
        invited_at_requests_done = invited = sum(_listed_over_http(call, key, aid, "invited") for aid in accounts)
        polls = 0
        # Poll the API (a few Queries), not the console's outbox: rendering every mail of the
        # outbox each second would cost the stack more CPU than the worker it measures.
        while invited < total and time.monotonic() - start < timeout:
            time.sleep(2)
            invited = sum(_listed_over_http(call, key, aid, "invited") for aid in accounts)
            polls += 1
        settled = time.monotonic() - start
        outboxed = count_outbox(session.get(console + "/outbox", timeout=120).json(), domain)
    drained = invited - invited_at_requests_done
    return {"invitations_asked": total_asked, "invitations": total, "failed_batches": failed_batches,
            "batches": len(accounts), "queue_batch_size": QUEUE.batch_size,
            "requests_seconds": round(requests_done, 2), "settled_seconds": round(settled, 2),
            "mails_in_outbox": outboxed, "invited": invited, "invited_when_requests_done": invited_at_requests_done,
            "mails_per_second": round(invited / settled, 1) if settled else None,
            "worker_alone_mails_per_second": (round(drained / (settled - requests_done), 1)
                                              if drained and settled > requests_done else None),
            "complete": invited >= total and outboxed >= total and not failed_batches,
            "timeout_seconds": timeout, "polls": polls}


def _listed_over_http(call, key: str, aid: str, status: str) -> int:
    total, cursor = 0, None
    while True:
        page = call("GET", f"/accounts/{aid}/invitations?limit=100" + (f"&status={status}" if status else "")
                    + (f"&cursor={cursor}" if cursor else ""), key)
        total += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return total


# --- report ----------------------------------------------------------------------------------------
def render(counts: dict[str, Any] | None, throughput: dict[str, Any] | None) -> str:
    out = []
    if counts:
        rows = []
        for label in ("single", "batch"):
            part = counts[label]
            for path in ("request_path", "worker_path"):
                per = part[path]["per_invitation"]
                rows.append([f"{'one request each' if label == 'single' else 'batches of ≤ 100'}",
                             path.replace("_", " "), *(per.get(s, 0) for s in SERVICES),
                             ", ".join(f"{op} {n}" for op, n in part[path]["operations"].items())])
        out += [f"### AWS requests per invitation ({counts['invitations']} invitations, moto in-process; "
                f"worker batches of {counts['worker_batch_size']})", "",
                markdown_table(["invited by", "path", "DynamoDB", "SQS", "SES", f"all calls for {counts['invitations']}"],
                               rows), "",
                "send_mail alone, in-process on moto (one thread, no HTTP): " + ", ".join(
                    f"{counts[label]['messages_handled']} mails in {counts[label]['worker_seconds']} s = "
                    f"{counts[label]['worker_mails_per_second']} mails/s" for label in ("single", "batch")), ""]
    if throughput:
        t = throughput
        out += ["### Mail worker throughput (local stack, queue runner)", "",
                markdown_table(["invitations", "queue batch size", "requests done", "invited then", "all invited",
                                "in outbox", "mails/s end to end", "mails/s after the requests", "complete"],
                               [[f"{t['invitations']} of {t['invitations_asked']}", t["queue_batch_size"],
                                 f"{t['requests_seconds']} s", t["invited_when_requests_done"], f"{t['settled_seconds']} s",
                                 t["mails_in_outbox"], t["mails_per_second"], t["worker_alone_mails_per_second"],
                                 "yes" if t["complete"] else f"NO ({t['invited']} invited)"]])]
        if t["failed_batches"]:
            out += ["", "Failed batches: " + "; ".join(t["failed_batches"])]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50, help="invitations for the request counts")
    parser.add_argument("--mails", type=int, default=200,
                        help="invitations for the throughput run")
    parser.add_argument("--timeout", type=float, default=600, help="seconds the throughput run may take")
    parser.add_argument("--skip-stack", action="store_true", help="only the in-process counts")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the throughput run is incomplete")
    args = parser.parse_args(argv)
    saved_environ = dict(os.environ)
    apply_fake_aws(os.environ)  # before anything creates a botocore client
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = count_requests(args.count)
    throughput = None
    if not args.skip_stack:
        os.environ.clear()
        os.environ.update(saved_environ)
        throughput = measure_throughput(args.mails, args.timeout)
    save("mail_pipeline", {"counts": counts, "throughput": throughput})
    print(render(counts, throughput))
    return 1 if args.strict and throughput is not None and not throughput["complete"] else 0


if __name__ == "__main__":
    sys.exit(main())
