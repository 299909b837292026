"""Cold start: a fresh Roster process serving its first request, against the floor.

Rounds of two fresh interpreters, the order flipping every round (wall time of the whole child
from here, and its user + system CPU time):
- FLOOR: `python -c` that imports boto3 and pynamodb and creates a DynamoDB client, which is
  what any Lambda on this stack pays before doing anything;
- ROSTER: `python -c` that imports `app` and passes one API Gateway proxy event through
  `app.app(event, context)`: GET /accounts/{id} with a tenant API key (the key's GetItem and the
  account's), against a moto server on 127.0.0.1 this script starts, provisioned, with one
  tenant and one account.
Each round gives a ratio roster/floor. Budget: the run's median CPU ratio ≤ 1.25, in every run,
also on a busy machine (`--busy N` keeps N processes spinning while the rounds run). The CPU
time is the product's own: the Roster child's wall time also holds the moto server's answers
(the emulator), and on a loaded machine a pair's wall times drift, so wall ratios are shown, not
budgeted.
Then `-X importtime` of a Roster child: chalicelib's own modules, before and during the first
request, and the outermost other imports each of them triggers (what could be lazy).

    python bench/cold_start.py [--runs 15] [--busy 0] [--strict]
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    PLATFORM_KEY, ROOT, apply_fake_aws, markdown_table, median, save, stage_environment,
)

BUDGET_RATIO = 1.25

FLOOR_CHILD = """
import boto3
from pynamodb.models import Model
boto3.client("dynamodb")
print("BENCH_CHILD " + '{"status": 0}')
"""

ROSTER_CHILD = """
import time
_t0 = time.perf_counter()
import json, sys
import app
_t1 = time.perf_counter()


class _Context:
    function_name = "roster-dev"
    function_version = "$LATEST"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:roster-dev"
    log_group_name = "/aws/lambda/roster-dev"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis():
        return 10_000


with open(sys.argv[1]) as _file:
    _event = json.load(_file)
print("BENCH_FIRST_REQUEST", file=sys.stderr, flush=True)
_response = app.app(_event, _Context())
_t2 = time.perf_counter()
print("BENCH_CHILD " + json.dumps({"status": _response["statusCode"], "import_ms": (_t1 - _t0) * 1000,
                                    "request_ms": (_t2 - _t1) * 1000}))
"""

# Used only if events/api_gateway_get_account.json is missing: the fields Chalice reads.
_FALLBACK_EVENT = {
    "resource": "/accounts/{account_id}", "path": "/accounts/x", "httpMethod": "GET",
    "headers": {"Accept": "application/json"}, "multiValueHeaders": {"Accept": ["application/json"]},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": {"account_id": "x"}, "stageVariables": None,
    "requestContext": {"resourcePath": "/accounts/{account_id}", "httpMethod": "GET", "path": "/api/accounts/x",
                       "stage": "api", "requestId": "00000000-0000-4000-8000-000000000000",
                       "identity": {"sourceIp": "203.0.113.10"}},
    "body": None, "isBase64Encoded": False,
}


def get_account_event(account_id: str, api_key: str) -> dict:
    """The API Gateway proxy event for GET /accounts/{account_id} with a tenant API key."""
    sample = ROOT / "events" / "api_gateway_get_account.json"
    event = json.loads(sample.read_text()) if sample.exists() else copy.deepcopy(_FALLBACK_EVENT)
    event["path"] = f"/accounts/{account_id}"
    event["pathParameters"] = {"account_id": account_id}
    event["requestContext"]["path"] = f"/api/accounts/{account_id}"
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() != "authorization"}
    multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "authorization"}
    headers["Authorization"] = f"Bearer {api_key}"
    multi["Authorization"] = [f"Bearer {api_key}"]
    event["headers"], event["multiValueHeaders"] = headers, multi
    return event


# --- the moto server and the data the first request reads --------------------------------
class Stack:
    """A ThreadedMotoServer on 127.0.0.1 (free port), provisioned, with a tenant and an account."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> "Stack":
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    def seed(self) -> tuple[str, str]:
        """Provisions the resources and creates a tenant and an account through the API: (account_id, api_key)."""
        from chalice.test import Client

        from chalicelib.resources import RESOURCES
        from infra.local_stack.provisioning import create_resources

        apply_fake_aws(os.environ, self.endpoint_url)
        create_resources(RESOURCES, endpoint_url=self.endpoint_url, secret_values={"PlatformKey": PLATFORM_KEY})
        import app

        with Client(app.app, stage_name="dev") as client:
            tenant = _post(client, "/tenants", PLATFORM_KEY, {"name": "Bench Telecom", "default_language": "de"})
            api_key = tenant["api_key"]
            account = _post(client, "/accounts", api_key, {
                "name": "Muster AG", "business_type": "it_services", "language": "de",
                "address": {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich", "country": "CH"},
            })
        return account["account_id"], api_key


def _post(client, path: str, key: str, body: dict) -> dict:
    response = client.http.post(path, headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
                                body=json.dumps(body).encode())
    if response.status_code != 201:
        raise RuntimeError(f"seeding failed: POST {path} -> {response.status_code} {response.body!r}")
    return json.loads(response.body)


# --- running the children ------------------------------------------------------------------
def child_environment(endpoint_url: str) -> dict[str, str]:
    """What a Lambda sandbox would have: the stage's variables, fake credentials, the endpoint."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "POWERTOOLS_", "ROSTER_")) and name not in ("PYTHONDONTWRITEBYTECODE",
                                                                                        "PYTHONPATH")}
    env.update(stage_environment("dev"))
    apply_fake_aws(env, endpoint_url)
    return env


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float  # user + system time of the child: robust when other work shares the machine
    detail: dict = field(default_factory=dict)


def run_child(code: str, args: list[str], env: dict[str, str], flags: tuple[str, ...] = ()) -> tuple[Sample, str]:
    """Runs one fresh interpreter; returns its wall time (spawn to exit) and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *flags, "-c", code, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    wall_ms = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_ms = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000
    marker = [line for line in result.stdout.splitlines() if line.startswith("BENCH_CHILD ")]
    if result.returncode != 0 or not marker:
        raise RuntimeError(f"child failed (exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    detail = json.loads(marker[-1].removeprefix("BENCH_CHILD "))
    if detail["status"] not in (0, 200):
        raise RuntimeError(f"the first request answered {detail['status']}, not 200:\n{result.stdout[-2000:]}")
    return Sample(wall_ms, cpu_ms, detail), result.stderr


# --- -X importtime -------------------------------------------------------------------------
@dataclass
class ImportRecord:
    name: str
    depth: int
    self_us: int
    cumulative_us: int
    children: list["ImportRecord"] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.split(".")[0]


def parse_importtime(stderr: str) -> list[ImportRecord]:
    """The records of `python -X importtime`, as a forest (a module's line follows its children's)."""
    flat: list[ImportRecord] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        name = parts[2].rstrip()
        flat.append(ImportRecord(name.strip(), len(name) - len(name.lstrip()), int(parts[0]), int(parts[1])))
    if not flat:
        return []
    base = min(record.depth for record in flat)
    roots: list[ImportRecord] = []
    for record in flat:
        record.depth = (record.depth - base) // 2
        children = []
        while roots and roots[-1].depth > record.depth:
            children.append(roots.pop())
        record.children = children[::-1]
        roots.append(record)
    return roots


def walk(records: list[ImportRecord]):
    for record in records:
        yield record
        yield from walk(record.children)


@contextmanager
def busy(processes: int) -> Iterator[list[subprocess.Popen]]:
    """`processes` interpreters spinning while the block runs: a machine busy with other work."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def measure(runs: int, env: dict[str, str], event_path: str, warmups: int = 2) -> list[tuple[Sample, Sample]]:
    """(floor, roster) per round; the order flips every round, so drift hits both alike."""
    children = {"floor": (FLOOR_CHILD, []), "roster": (ROSTER_CHILD, [event_path])}
    for _ in range(warmups):  # bytecode caches, page cache
        for code, args in children.values():
            run_child(code, args, env)
    rounds = []
    for number in range(runs):
        order = ("floor", "roster") if number % 2 == 0 else ("roster", "floor")
        got = {name: run_child(*children[name], env)[0] for name in order}
        rounds.append((got["floor"], got["roster"]))
    return rounds


def chalicelib_imports(roots: list[ImportRecord], stderr: str) -> tuple[list, list]:
    """chalicelib's modules with their self ms and whether they load before the first request;
    and the outermost non-chalicelib imports under chalicelib modules, with their cumulative ms."""
    before = stderr.split("BENCH_FIRST_REQUEST")[0].count("import time:")
    order = [r for r in _in_order(roots)]
    position = {id(r): n for n, r in enumerate(order)}
    own = [(r.name, r.self_us / 1000, position[id(r)] < before - 1) for r in order if r.package == "chalicelib"]
    pulled: list = []

    def visit(records: list[ImportRecord], under: str | None) -> None:
        for r in records:
            if r.package in ("chalicelib", "app"):
                visit(r.children, r.name)
            elif under:
                pulled.append((r.name, r.cumulative_us / 1000, under, position[id(r)] < before - 1))

    app_at = next((n for n, r in enumerate(roots) if r.name == "app"), len(roots))
    visit(roots[:app_at + 1], None)
    visit(roots[app_at + 1:], "a function (lazy import)")
    return sorted(own, key=lambda x: -x[1]), sorted(pulled, key=lambda x: -x[1])


def _in_order(records: list[ImportRecord]):
    """Records in the order importtime printed them (children first)."""
    for r in records:
        yield from _in_order(r.children)
        yield r


def render(rounds: list[tuple[Sample, Sample]], own: list, pulled: list) -> tuple[str, bool]:
    wall = [r.wall_ms / f.wall_ms for f, r in rounds]
    cpu = [r.cpu_ms / f.cpu_ms for f, r in rounds]
    ok = median(cpu) <= BUDGET_RATIO
    rows = [[n + 1, f"{f.wall_ms:.0f}", f"{r.wall_ms:.0f}", f"{w:.2f}x", f"{f.cpu_ms:.0f}", f"{r.cpu_ms:.0f}",
             f"{c:.2f}x"] for n, ((f, r), w, c) in enumerate(zip(rounds, wall, cpu))]
    rows.append(["median", f"{median([f.wall_ms for f, _ in rounds]):.0f}", f"{median([r.wall_ms for _, r in rounds]):.0f}",
                 f"**{median(wall):.2f}x**", f"{median([f.cpu_ms for f, _ in rounds]):.0f}",
                 f"{median([r.cpu_ms for _, r in rounds]):.0f}", f"**{median(cpu):.2f}x** (max {max(cpu):.2f}x)"])
    inside = [r.detail for _, r in rounds]
    before_ms = sum(ms for _, ms, early in own if early)
    out = [f"### Cold start ({len(rounds)} rounds, alternating; floor = boto3 + pynamodb + a DynamoDB client, "
           "roster = import app + first GET /accounts/{id})", "",
           markdown_table(["round", "floor ms", "roster ms", "wall ratio", "floor CPU ms", "roster CPU ms",
                           "CPU ratio"], rows), "",
           f"Budget: the run's median CPU ratio ≤ {BUDGET_RATIO}x: **{'pass' if ok else 'FAIL'}**. "
           f"Inside the Roster child (median): `import app` {median([d['import_ms'] for d in inside]):.0f} ms, "
           f"first request {median([d['request_ms'] for d in inside]):.0f} ms.", "",
           f"### chalicelib's own imports (`-X importtime`, self ms; {before_ms:.1f} ms before the first request, "
           f"{sum(ms for _, ms, early in own if not early):.1f} ms during it)", "",
           markdown_table(["module", "self ms", "loaded"],
                          [[name, f"{ms:.1f}", "import app" if early else "first request"] for name, ms, early in own[:12]]),
           "", "### What chalicelib modules pull in (outermost non-chalicelib imports, cumulative ms)", "",
           markdown_table(["import", "cumulative ms", "imported by", "loaded"],
                          [[name, f"{ms:.1f}", by, "import app" if early else "first request"]
                           for name, ms, by, early in pulled[:12]])]
    return "\n".join(out), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured rounds (default 15)")
    parser.add_argument("--busy", type=int, default=0, help="processes kept spinning during the rounds")
    parser.add_argument("--strict", action="store_true", help="exit 1 when over budget")
    args = parser.parse_args(argv)
    apply_fake_aws(os.environ)
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Stack() as stack, tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        account_id, api_key = stack.seed()
        event_path = str(Path(tmp) / "event.json")
        Path(event_path).write_text(json.dumps(get_account_event(account_id, api_key)))
        env = child_environment(stack.endpoint_url)
        with busy(args.busy):
            rounds = measure(args.runs, env, event_path)
        profiles = []
        for _ in range(3):
            _, stderr = run_child(ROSTER_CHILD, [event_path], env, flags=("-X", "importtime"))
            roots = parse_importtime(stderr)
            profiles.append((sum(r.cumulative_us for r in roots), roots, stderr))
        _, roots, stderr = sorted(profiles, key=lambda p: p[0])[1]
    own, pulled = chalicelib_imports(roots, stderr)
    text, ok = render(rounds, own, pulled)
    save("cold_start", {"rounds": [{"floor": vars(f), "roster": vars(r)} for f, r in rounds],
                        "chalicelib": own, "pulled_in": pulled, "within_budget": ok,
                        "load_average": os.getloadavg()})
    print(text)
    print(f"\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
          f"{f', {args.busy} processes spinning' if args.busy else ''}.")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
