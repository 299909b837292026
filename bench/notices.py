"""Notices at scale (issue 4 §6): one outage to every recipient of a tenant, on the local stack,
against a baseline of one SES SendEmail per recipient from one loop, in the same run.

1. The local stack starts as a subprocess (as bench/mail_pipeline.py and the e2e fixture start it),
   with a call counter loaded at interpreter start (a `sitecustomize` on its PYTHONPATH that calls
   `install_stack_counter`): botocore's `before-parameter-build` event, one per API call (retries
   not counted), attributed to the thread that made it — `sqs-<function>` threads of the queue
   runner are that function (Lambda's own ReceiveMessage/DeleteMessage are left out), `scheduler`
   is the schedules, everything else is the API. A daemon thread writes the counts to a file.
2. Seeding (not measured): a tenant through the API, then N accounts (active), M people with their
   e-mail claims, and one active membership each with notifications ["outage"] (languages de, fr,
   it, en in turn), written straight into DynamoDB with the app's PynamoDB models and repositories
   through BatchWriteItem.
3. Warm-up (not measured): an outage to the first WARM_UP_ACCOUNTS accounts, mailed and settled
   like the measured one, so the function processes have imported and built what the notice path
   uses, as the containers of a stack in service have (the baseline's client is built before
   its clock starts too). Its 40 batches arrive as four SQS batches of ten, one for each of the
   mail function's four processes (the local stack runs each function in processes of its own,
   as many as its concurrency); then the coverage of an outage to all accounts (a dry run of a draft,
   deleted after), so moto has built its map of the members index that the measured notice
   reads (moto_queries builds it at the first query; DynamoDB keeps its indexes always).
4. Roster (measured): POST /notices (outage, all accounts) + POST /notices/{id}/publish, then
   GET /notices/{id} every quarter second until the event is fanned out and every recipient settled (sent,
   failed, suppressed, …). The wall time runs from the first request to that answer.
5. Baseline (measured, same stack, same moto): one SES SendEmail per recipient, one after the
   other from one loop, each with the same rendered subject, text and HTML (the first recipient's
   mail, rendered from the stack's SES template with the data the worker sends).
6. Peak memory of the fan-out (tracemalloc around one `NoticeDelivery.fan_out` call in this
   process, against the stack's moto): a copy of the event, whose batches go nowhere.

    python bench/notices.py [--recipients 10000] [--accounts 1000] [--timeout 1800] [--strict]
"""
from __future__ import annotations

import argparse
import json
import math
import re
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, apply_fake_aws, markdown_table, save  # noqa: E402

LANGUAGES = ("de", "fr", "it", "en")
BULK_LIMIT = 50  # SES SendBulkTemplatedEmail destinations a call
SPEEDUP_BUDGET = 5.0
POLL_SECONDS = 0.25  # how often Roster's figures are read: the wall time's resolution
WRITE_BUDGET = 1.1  # DynamoDB write requests per recipient
MEMORY_EVENT = "bench-memory"
WARM_UP_ACCOUNTS = 200  # the warm-up notice: 2,000 of the 10,000 recipients, 40 batches (4 SQS batches of 10)
COUNTS_ENV = "ROSTER_BENCH_CALLS"
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
LAMBDA_SQS = {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
              "ChangeMessageVisibilityBatch", "GetQueueAttributes"}  # the event source mapping's part
SITECUSTOMIZE = f"""# written by bench/notices.py: counts the local stack's AWS calls
import sys
sys.path.insert(0, {str(ROOT)!r})
from bench.notices import install_stack_counter
install_stack_counter()
"""


# --- the call counter inside the stack --------------------------------------------------------
def role_of(thread_name: str) -> str:
    """Whose call it is, by the thread: the queue runner's `sqs-<function>`, the scheduler, the API."""
    if thread_name.startswith("sqs-"):
        return re.sub(r"_\d+$", "", thread_name[4:])  # a handler's helper threads: <its name>_<n>
    return "schedules" if thread_name == "scheduler" else "api"


def items_of(operation: str, params: dict) -> int:
    """Items a write writes (a BatchWriteItem's requests, a transaction's Put/Update/Delete), or the
    destinations of an SES bulk send; 0 otherwise."""
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in (params.get("RequestItems") or {}).values())
    if operation == "TransactWriteItems":
        return sum(1 for item in params.get("TransactItems") or () if {"Put", "Update", "Delete"} & set(item))
    if operation in WRITES:
        return 1
    if operation == "SendBulkTemplatedEmail":
        return len(params.get("Destinations") or ())
    return 1 if operation in ("SendEmail", "SendTemplatedEmail") else 0


def install_stack_counter(path: str | None = None, interval: float = 0.2):
    """Counts every botocore call of this process (sessions made from now on) by (role, service,
    operation) and writes `{"calls": {...}, "items": {...}, "written_at": t}` to `<path>.<pid>`
    (path default: $ROSTER_BENCH_CALLS) every `interval` seconds and when it stops (at exit too;
    then with `"final": true`): the stack and each of its function processes, which all load the
    sitecustomize, write their own file. Returns a function that stops it."""
    path = path or os.environ.get(COUNTS_ENV)
    if not path:
        return lambda: None
    import atexit

    from botocore.handlers import BUILTIN_HANDLERS

    path = f"{path}.{os.getpid()}"

    lock, calls, items, stopping = threading.Lock(), Counter(), Counter(), threading.Event()

    def count(model=None, params=None, **_: Any) -> None:
        if model is None:
            return
        key = "|".join((role_of(threading.current_thread().name),
                        str(model.service_model.service_id).replace(" ", ""), model.name))
        n = items_of(model.name, params or {})
        with lock:
            calls[key] += 1
            items[key] += n

    def write(final: bool = False) -> None:
        with lock:
            data = {"calls": dict(calls), "items": dict(items), "written_at": time.time(), "final": final}
        Path(path + ".tmp").write_text(json.dumps(data))
        os.replace(path + ".tmp", path)

    def write_forever() -> None:
        while not stopping.wait(interval):
            write()

    entry = ("before-parameter-build", count)
    BUILTIN_HANDLERS.append(entry)
    writer = threading.Thread(target=write_forever, name="bench-call-counter", daemon=True)
    writer.start()

    def stop() -> None:
        if stopping.is_set():
            return
        BUILTIN_HANDLERS.remove(entry)
        stopping.set()
        writer.join()
        write(final=True)

    atexit.register(stop)  # a function process that ended still counts
    return stop


def read_counts(path: Path, after: float) -> dict:
    """The counts of every process of the stack summed (their files `<path>.<pid>`), once each
    process still running wrote after `after` (time.time()); one that ended counts as it last wrote."""
    def ended(pid: int, data: dict) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # running, as another user
            pass
        return bool(data.get("final"))

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        files = [file for file in path.parent.glob(path.name + ".*") if file.suffix[1:].isdigit()]
        try:
            parts = [(int(file.suffix[1:]), json.loads(file.read_text())) for file in files]
        except (FileNotFoundError, json.JSONDecodeError):
            parts = []
        if parts and all(data["written_at"] > after or ended(pid, data) for pid, data in parts):
            calls, items = Counter(), Counter()
            for _, data in parts:
                calls.update(data["calls"])
                items.update(data["items"])
            return {"calls": dict(calls), "items": dict(items),
                    "written_at": max(data["written_at"] for _, data in parts)}
        time.sleep(0.05)
    raise RuntimeError(f"the stack's call counter did not write {path}.<pid> for every process")


def difference(later: dict, earlier: dict) -> dict:
    return {part: {k: v - earlier[part].get(k, 0) for k, v in later[part].items() if v - earlier[part].get(k, 0)}
            for part in ("calls", "items")}


def summarize(counts: dict, roles: tuple[str, ...]) -> dict:
    """Calls of these roles by service and operation, and the DynamoDB reads/writes and SES totals."""
    out = {"operations": {}, "dynamodb_reads": 0, "dynamodb_writes": 0, "dynamodb_item_writes": 0,
           "ses_calls": 0, "ses_recipients": 0, "sqs_sends": 0}
    for key, n in sorted(counts["calls"].items()):
        role, service, operation = key.split("|")
        if role not in roles or (service == "SQS" and operation in LAMBDA_SQS):
            continue
        out["operations"][f"{role} {service}.{operation}"] = n
        items = counts["items"].get(key, 0)
        if service == "DynamoDB" and operation in READS:
            out["dynamodb_reads"] += n
        elif service == "DynamoDB" and operation in WRITES:
            out["dynamodb_writes"] += n
            out["dynamodb_item_writes"] += items
        elif service == "SES" and operation.startswith("Send"):
            out["ses_calls"] += n
            out["ses_recipients"] += items
        elif service == "SQS" and operation.startswith("SendMessage"):
            out["sqs_sends"] += n
    return out


def ses_call_budget(per_language: dict[str, int]) -> int:
    """Σ over languages ⌈n / 50⌉."""
    return sum(math.ceil(n / BULK_LIMIT) for n in per_language.values() if n)


# --- seeding (not measured) ---------------------------------------------------------------------
def language_of(index: int) -> str:
    return LANGUAGES[index % len(LANGUAGES)]


def seed(tenant_id: str, accounts: int, recipients: int) -> tuple[dict[str, int], list[str]]:
    """Active accounts and people with one active membership each (notifications: outage), written
    with BatchWriteItem through the app's models; returns the recipients per language and the
    account ids."""
    from chalicelib import bootstrap
    from chalicelib.adapters.clock import iso
    from chalicelib.domain.entities import Account, Address, Membership, Person
    from chalicelib.domain.ids import new_id
    from chalicelib.models.entities import AccountItem, EmailClaimItem, MembershipItem, PersonItem

    db = bootstrap.get_database()
    now = iso(bootstrap.get_clock().now())
    account_ids = [new_id("account") for _ in range(accounts)]
    per_account = Counter(i % accounts for i in range(recipients))
    with AccountItem.batch_write() as batch:
        for n, account_id in enumerate(account_ids):
            item = db.accounts.new_item(Account(tenant_id, account_id, f"Kunde {n:04d} AG", Address(), "it_services",
                                                None, [], "active", now, now, 1, None, None, None, 1, 1,
                                                per_account[n]))
            item.member_count, item.caretaker_count, item.on_site_admin_count = per_account[n], 1, 1
            batch.save(item)
    per_language: Counter = Counter()
    with PersonItem.batch_write() as people, EmailClaimItem.batch_write() as claims, \
            MembershipItem.batch_write() as memberships:
        for i in range(recipients):
            person_id, email, language = new_id("person"), f"p{i:05d}@bench.example", language_of(i)
            people.save(db.people.new_person_item(Person(tenant_id, person_id, email, f"Person{i}", "Bench", None,
                                                         language, now, now, 1)))
            claims.save(db.people.claim_item(tenant_id, email, person_id))
            roles = ["caretaker", "on_site_admin"] if i < accounts else []
            memberships.save(db.people.new_membership_item(Membership(
                tenant_id, account_ids[i % accounts], person_id, "customer", roles, [], ["outage"], "active", now,
                now, 1)))
            per_language[language] += 1
    return dict(sorted(per_language.items())), account_ids


# --- the runs ------------------------------------------------------------------------------------
class Http:
    def __init__(self, base: str, key: str):
        import requests

        self.base, self.session = base, requests.Session()
        self.session.trust_env = False
        self.session.headers.update({"Authorization": f"Bearer {key}"})

    def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        reply = self.session.request(method, self.base + path, json=body, timeout=600)
        if reply.status_code != expect:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply.json() if reply.content else None


def warm_up(api: Http, account_ids: list[str], timeout: float) -> float:
    """An outage to these accounts, published and waited for until settled, then a dry run of
    one to all accounts (its draft deleted); the seconds both took."""
    started = time.monotonic()
    draft = {"type": "outage", "severity": "minor", "title": {"de": "Aufwärmen"}, "body": {"de": "Nicht gemessen."}}
    notice = api.call("POST", "/notices", {**draft, "affected": {"account_ids": account_ids}}, expect=201)
    api.call("POST", f"/notices/{notice['notice_id']}/publish", expect=202)
    while True:
        [event] = api.call("GET", f"/notices/{notice['notice_id']}")["events"]
        if event["fanout"] == "failed":
            raise RuntimeError(f"the warm-up notice failed: {event}")
        if event["fanout"] == "planned" and event["deliveries"]["queued"] == 0:
            break
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the warm-up notice did not settle within {timeout} s")
        time.sleep(POLL_SECONDS)
    everyone = api.call("POST", "/notices", {**draft, "affected": {"all": True}}, expect=201)
    api.call("POST", f"/notices/{everyone['notice_id']}/publish?dry_run=true", expect=200)
    api.call("DELETE", f"/notices/{everyone['notice_id']}", expect=204)
    return round(time.monotonic() - started, 2)


def run_roster(api: Http, recipients: int, timeout: float, counts_path: Path) -> dict:
    before = read_counts(counts_path, time.time())
    started = time.monotonic()
    notice = api.call("POST", "/notices", {
        "type": "outage", "severity": "major", "affected": {"all": True},
        "title": {language: f"Telefonie gestört ({language})" for language in LANGUAGES},
        "body": {language: f"Anrufe schlagen fehl. ({language})" for language in LANGUAGES}}, expect=201)
    published = api.call("POST", f"/notices/{notice['notice_id']}/publish", expect=202)
    published_after = time.monotonic() - started
    requests_done = read_counts(counts_path, time.time())
    event, polls, fanned_out_after = None, 0, None
    while time.monotonic() - started < timeout:
        view = api.call("GET", f"/notices/{notice['notice_id']}")
        polls += 1
        [event] = view["events"]
        if event["fanout"] != "planning" and fanned_out_after is None:
            fanned_out_after = time.monotonic() - started
        if event["fanout"] == "failed" or (event["fanout"] == "planned" and event["deliveries"]["queued"] == 0):
            break
        time.sleep(POLL_SECONDS)
    wall = time.monotonic() - started
    after = read_counts(counts_path, time.time())
    delivery = difference(after, before)  # the workers' roles: from the first request on
    return {"notice_id": notice["notice_id"], "tenant_coverage": published["coverage"]["recipients"],
            "wall_seconds": round(wall, 2), "published_after_seconds": round(published_after, 2),
            "fanned_out_after_seconds": round(fanned_out_after, 2) if fanned_out_after else None,
            "event": event, "polls": polls,
            "settled": bool(event) and event["fanout"] == "planned" and event["deliveries"]["queued"] == 0
            and event["recipients"] == recipients,
            "request_path": summarize(difference(requests_done, before), ("api",)),
            "fanout": summarize(delivery, ("notice_fanout",)),
            "mail_worker": summarize(delivery, ("send_mail",)),
            "schedules": summarize(delivery, ("schedules",))}


def rendered_mail(tenant_id: str, notice_id: str) -> tuple[str, str, str, str]:
    """(source, subject, text, html) of the first recipient's mail: the worker's own template data,
    rendered from the stack's SES template like the console's outbox renders it."""
    import boto3

    from chalicelib import bootstrap
    from chalicelib.models import keys
    from chalicelib.models.base import plain
    from chalicelib.models.notices import NoticeBatchItem
    from infra.local_stack.ses_templates import render

    [batch] = list(NoticeBatchItem.query(keys.notice_batches(tenant_id, notice_id), limit=1))
    recipient = plain(batch.recipients[0])
    source, _reply_to, template_name, data, [(_, replacement)] = (
        bootstrap.get_notice_delivery()._render(batch, [recipient]))
    template = boto3.client("ses").get_template(TemplateName=template_name)["Template"]
    merged = {**data, **replacement}
    return (source, render(template["SubjectPart"], merged), render(template["TextPart"], merged),
            render(template["HtmlPart"], merged, escape_html=True))


def run_baseline(recipients: int, mail: tuple[str, str, str, str]) -> dict:
    """One SendEmail per recipient, one after the other."""
    import boto3

    source, subject, text, html = mail
    ses = boto3.client("ses")
    message = {"Subject": {"Data": subject, "Charset": "UTF-8"},
               "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}}}
    started = time.monotonic()
    for i in range(recipients):
        ses.send_email(Source=source, Destination={"ToAddresses": [f"p{i:05d}@baseline.bench.example"]},
                       Message=message)
    wall = time.monotonic() - started
    return {"wall_seconds": round(wall, 2), "ses_calls": recipients, "mails_per_second": round(recipients / wall, 1)}


class _Nowhere:
    """A mail queue that takes the fan-out's batch messages and drops them."""

    def __init__(self):
        self.messages = 0

    def send_many(self, bodies: list[dict]) -> None:
        self.messages += len(bodies)

    def send(self, body: dict) -> None:
        self.messages += 1


def fanout_memory(tenant_id: str, notice_id: str) -> dict:
    """tracemalloc's peak around one fan_out of a copy of the event (its batches go nowhere)."""
    import tracemalloc

    from chalicelib import bootstrap
    from chalicelib.models import keys
    from chalicelib.models.base import plain
    from chalicelib.models.notices import NoticeEventItem
    from chalicelib.services.notice_delivery import NoticeDelivery

    pk = keys.notice(tenant_id, notice_id)
    source = NoticeEventItem.get(pk, keys.notice_event("published"), consistent_read=True)
    copied = {name: getattr(source, name) for name in ("tenant_id", "notice_id", "seq", "kind", "notice_type",
                                                       "severity", "notice_status", "starts_at", "ends_at",
                                                       "created_at")}
    maps = {name: plain(getattr(source, name)) for name in ("title", "body", "affected", "detail")}
    NoticeEventItem(pk, keys.notice_event(MEMORY_EVENT), event_key=MEMORY_EVENT, fanout="planning",
                    **copied, **{k: v or None for k, v in maps.items()}).save()  # not pending: no sweep sees it
    nowhere = _Nowhere()
    delivery = NoticeDelivery(bootstrap.get_database(), bootstrap.get_clock(), None, nowhere, bootstrap.get_audience(),
                              bootstrap.get_preference_service(), bootstrap.get_logger(), "mail.roster.test")
    tracemalloc.start()
    started = time.monotonic()
    try:
        batches = delivery.fan_out(tenant_id, notice_id, MEMORY_EVENT)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"batches": batches, "peak_mib": round(peak / 2 ** 20, 1), "retained_mib": round(current / 2 ** 20, 1),
            "seconds_under_tracemalloc": round(time.monotonic() - started, 2), "messages": nowhere.messages}


def measure(accounts: int, recipients: int, timeout: float) -> dict:
    from bench.mail_pipeline import LocalStack

    workdir = Path(tempfile.mkdtemp(prefix="roster-bench-notices-"))
    (workdir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    counts_path = workdir / "calls.json"
    saved = dict(os.environ)
    os.environ.update({COUNTS_ENV: str(counts_path),
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), os.environ.get("PYTHONPATH")]))})
    try:
        stack = LocalStack(start_timeout=120).__enter__()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        apply_fake_aws(os.environ, endpoint_url=stack.urls["aws"], dynamodb_url=stack.urls["dynamodb"])
        os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                           "ROSTER_PUBLIC_BASE_URL": stack.urls["api"]})
        operator = Http(stack.urls["api"], stack.urls["platform_key"])
        tenant = operator.call("POST", "/tenants", {"name": "Bench Telecom", "default_language": "de"}, expect=201)
        tenant_id = tenant["tenant"]["tenant_id"]
        began = time.monotonic()
        per_language, account_ids = seed(tenant_id, accounts, recipients)
        seeded = round(time.monotonic() - began, 1)
        api = Http(stack.urls["api"], tenant["api_key"])
        warmed = warm_up(api, account_ids[:WARM_UP_ACCOUNTS], timeout)
        roster = run_roster(api, recipients, timeout, counts_path)
        baseline = run_baseline(recipients, rendered_mail(tenant_id, roster["notice_id"]))
        memory = fanout_memory(tenant_id, roster["notice_id"])
    finally:
        stack.__exit__(None, None, None)
    return {"accounts": accounts, "recipients": recipients, "per_language": per_language, "seed_seconds": seeded,
            "warm_up": {"accounts": len(account_ids[:WARM_UP_ACCOUNTS]), "seconds": warmed},
            "roster": roster, "baseline": baseline, "fanout_memory": memory}


# --- report ----------------------------------------------------------------------------------------
def budgets(result: dict) -> dict[str, dict]:
    roster, baseline, n = result["roster"], result["baseline"], result["recipients"]
    pipeline = [roster[part] for part in ("request_path", "fanout", "mail_worker")]
    writes = sum(p["dynamodb_writes"] for p in pipeline)
    ses_calls = sum(p["ses_calls"] for p in pipeline)
    ratio = baseline["wall_seconds"] / roster["wall_seconds"] if roster["wall_seconds"] else 0.0
    return {
        "speed": {"value": round(ratio, 2), "budget": f">= {SPEEDUP_BUDGET}x", "within": ratio >= SPEEDUP_BUDGET
                  and roster["settled"]},
        "ses_calls": {"value": ses_calls, "budget": f"<= {ses_call_budget(result['per_language'])}",
                      "within": ses_calls <= ses_call_budget(result["per_language"])},
        "write_requests_per_recipient": {"value": round(writes / n, 3), "budget": f"<= {WRITE_BUDGET}",
                                         "within": writes / n <= WRITE_BUDGET},
    }


def render_report(result: dict) -> str:
    r, b, n = result["roster"], result["baseline"], result["recipients"]
    checks = budgets(result)
    rows = []
    for label, part in (("request (create + publish)", r["request_path"]), ("fan-out", r["fanout"]),
                        ("mail worker", r["mail_worker"]), ("schedules (background, not counted)", r["schedules"])):
        rows.append([label, part["dynamodb_reads"], part["dynamodb_writes"], part["dynamodb_item_writes"],
                     part["ses_calls"], part["sqs_sends"]])
    pipeline = [r[p] for p in ("request_path", "fanout", "mail_worker")]
    totals = {k: sum(p[k] for p in pipeline) for k in ("dynamodb_reads", "dynamodb_writes", "dynamodb_item_writes",
                                                        "ses_calls", "sqs_sends")}
    rows.append(["**per recipient**", *(round(totals[k] / n, 3) for k in ("dynamodb_reads", "dynamodb_writes",
                                                                           "dynamodb_item_writes")),
                 round(totals["ses_calls"] / n, 4), round(totals["sqs_sends"] / n, 4)])
    m = result["fanout_memory"]
    return "\n".join([
        f"### Notices: {n} recipients over {result['accounts']} accounts "
        f"({', '.join(f'{k} {v}' for k, v in result['per_language'].items())}); seeding {result['seed_seconds']} s "
        f"and a warm-up notice to {result['warm_up']['accounts']} accounts {result['warm_up']['seconds']} s, "
        "not measured", "",
        markdown_table(["run", "wall s", "mails/s", "SES calls", "settled"], [
            ["Roster: create + publish → every delivery settled", r["wall_seconds"],
             round(n / r["wall_seconds"], 1) if r["wall_seconds"] else "–", totals["ses_calls"],
             "yes" if r["settled"] else f"NO ({r['event'] and r['event']['deliveries']})"],
            ["baseline: one SendEmail per recipient, one loop", b["wall_seconds"], b["mails_per_second"],
             b["ses_calls"], "–"]]), "",
        f"Roster: publish answered after {r['published_after_seconds']} s, fan-out done after "
        f"{r['fanned_out_after_seconds']} s; figures {r['event'] and r['event']['deliveries']}.", "",
        markdown_table(["part", "DynamoDB reads", "DynamoDB write requests", "items written", "SES calls",
                        "SQS sends"], rows), "",
        markdown_table(["budget", "measured", "budget", "within"],
                       [[name, c["value"], c["budget"], "yes" if c["within"] else "NO"] for name, c in checks.items()]),
        "",
        f"Fan-out peak memory (tracemalloc, one fan_out of {m['batches']} batches in-process): {m['peak_mib']} MiB "
        f"(retained after: {m['retained_mib']} MiB).", "",
        "Operations: " + "; ".join(f"{k} {v}" for p in pipeline for k, v in p["operations"].items()),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds Roster's run may take")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.recipients < args.accounts:
        parser.error("need at least one recipient per account")
    result = measure(args.accounts, args.recipients, args.timeout)
    result["budgets"] = budgets(result)
    save("notices", result)
    print(render_report(result))
    return 1 if args.strict and not all(c["within"] for c in result["budgets"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
