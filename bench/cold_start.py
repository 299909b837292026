"""Cold start: a fresh Roster process serving its first request, against the floor.

In one run, alternating, N times each (wall time of the whole child process, measured the
same way from here for both):

- FLOOR: `python -c` that imports boto3 and pynamodb and creates a DynamoDB client, which is
  what any Lambda on this stack pays before doing anything;
- ROSTER: `python -c` that imports `app` and passes one API Gateway proxy event through the
  Lambda entry point `app.app(event, context)`: GET /accounts/{id} with a tenant API key, so
  the authenticator's key GetItem and the account GetItem both happen, against a moto server
  on 127.0.0.1 that this script starts (ThreadedMotoServer), provisioned from
  chalicelib.resources, with one tenant and one account created beforehand.

Budget: median(ROSTER) / median(FLOOR) <= 1.25. Then `-X importtime` of both children tells
which imports dominate and what Roster adds over the floor.

    python bench/cold_start.py [--runs 15] [--importtime-runs 3] [--strict]

With `--person-token` it measures instead what a person's first request adds: in fresh
interpreters that have imported `app` and built the authenticator (as any first request does),
the wall and CPU time of building the person-token verifier and verifying one RS256 token,
including the JWKS fetch over HTTP from a server on 127.0.0.1 (the by_email Query is not
included). `--compare DIR` alternates with another checkout of Roster (e.g. the commit before a
change), so both are measured in the same conditions.
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
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    PLATFORM_KEY, ROOT, apply_fake_aws, markdown_table, median, percentile, save, stage_environment,
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


def measure(runs: int, env: dict[str, str], event_path: str, warmups: int = 2) -> dict[str, list[Sample]]:
    """Alternates floor and Roster (the order flips every round, so drift hits both alike)."""
    children = {"floor": (FLOOR_CHILD, []), "roster": (ROSTER_CHILD, [event_path])}
    for _ in range(warmups):  # writes the bytecode caches, fills the page cache
        for code, args in children.values():
            run_child(code, args, env)
    samples: dict[str, list[Sample]] = {"floor": [], "roster": []}
    for round_number in range(runs):
        order = ("floor", "roster") if round_number % 2 == 0 else ("roster", "floor")
        for name in order:
            code, args = children[name]
            samples[name].append(run_child(code, args, env)[0])
    return samples


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


def self_time_by_package(roots: list[ImportRecord]) -> dict[str, float]:
    """Milliseconds of import work per top-level package (self times summed)."""
    totals: dict[str, float] = {}
    for record in walk(roots):
        totals[record.package] = totals.get(record.package, 0.0) + record.self_us / 1000
    return totals


def outermost_not_in(roots: list[ImportRecord], known: set[str]) -> list[ImportRecord]:
    """The outermost imports whose module is not in `known` (what the app adds, with what they pull in)."""
    found: list[ImportRecord] = []

    def visit(records: list[ImportRecord]) -> None:
        for record in records:
            if record.name in known:
                visit(record.children)
            else:
                found.append(record)

    visit(roots)
    return sorted(found, key=lambda record: added_us(record, known), reverse=True)


def added_us(record: ImportRecord, known: set[str]) -> int:
    """Self time of the modules under `record` (itself included) that are not in `known`."""
    return sum(d.self_us for d in walk([record]) if d.name not in known)


def importtime_profile(code: str, args: list[str], env: dict[str, str], runs: int) -> list[ImportRecord]:
    """The run with the median total import time among `runs` runs under -X importtime."""
    profiles = []
    for _ in range(runs):
        _, stderr = run_child(code, args, env, flags=("-X", "importtime"))
        roots = parse_importtime(stderr)
        profiles.append((sum(record.cumulative_us for record in roots), roots))
    profiles.sort(key=lambda item: item[0])
    return profiles[len(profiles) // 2][1]


# --- report --------------------------------------------------------------------------------
def _stats(values: list[float]) -> dict:
    return {"median_ms": median(values), "p90_ms": percentile(values, 0.9), "min_ms": min(values),
            "max_ms": max(values), "runs": len(values)}


def summarise(samples: dict[str, list[Sample]]) -> dict:
    summary: dict = {name: _stats([s.wall_ms for s in values]) for name, values in samples.items()}
    summary["cpu"] = {name: _stats([s.cpu_ms for s in values]) for name, values in samples.items()}
    summary["ratio_median"] = summary["roster"]["median_ms"] / summary["floor"]["median_ms"]
    summary["ratio_p90"] = summary["roster"]["p90_ms"] / summary["floor"]["p90_ms"]
    summary["cpu_ratio_median"] = summary["cpu"]["roster"]["median_ms"] / summary["cpu"]["floor"]["median_ms"]
    summary["within_budget"] = summary["ratio_median"] <= BUDGET_RATIO
    roster = samples["roster"]
    summary["roster_import_app_ms"] = median([s.detail["import_ms"] for s in roster])
    summary["roster_first_request_ms"] = median([s.detail["request_ms"] for s in roster])
    return summary


def render(summary: dict, roster_imports: list[ImportRecord], floor_imports: list[ImportRecord]) -> str:
    floor, roster = summary["floor"], summary["roster"]
    out = [f"### Cold start ({roster['runs']} runs each, alternating; wall time of the whole process)", ""]
    cpu = summary["cpu"]
    out.append(markdown_table(
        ["process", "median ms", "p90 ms", "min ms", "max ms", "CPU median ms", "CPU p90 ms"],
        [["floor: import boto3 + pynamodb, create a DynamoDB client", *_ms(floor), *_ms(cpu["floor"])[:2]],
         ["roster: import app + first GET /accounts/{id} (key GetItem + account GetItem)", *_ms(roster),
          *_ms(cpu["roster"])[:2]]]))
    verdict = "yes" if summary["within_budget"] else "NO"
    out += ["", markdown_table(
        ["roster / floor", "median (wall)", "p90 (wall)", "median (CPU)", "budget (median wall)", "within budget"],
        [["ratio", f"{summary['ratio_median']:.2f}x", f"{summary['ratio_p90']:.2f}x",
          f"{summary['cpu_ratio_median']:.2f}x", f"<= {BUDGET_RATIO:.2f}x", verdict]])]
    out += ["", f"Inside the Roster child (median): `import app` {summary['roster_import_app_ms']:.0f} ms, "
                f"first request (lazy imports, clients, 2 GetItem round trips) {summary['roster_first_request_ms']:.0f} ms."]
    roster_packages, floor_packages = self_time_by_package(roster_imports), self_time_by_package(floor_imports)
    top = sorted(roster_packages.items(), key=lambda item: item[1], reverse=True)[:10]
    out += ["", "### Top 10 packages by import time in the Roster child (`-X importtime`, self times summed)", ""]
    out.append(markdown_table(["package", "roster ms", "floor ms", "added by roster ms"],
                              [[name, f"{ms:.1f}", f"{floor_packages.get(name, 0.0):.1f}",
                                f"{ms - floor_packages.get(name, 0.0):.1f}"] for name, ms in top]))
    floor_names = {record.name for record in walk(floor_imports)}
    added = outermost_not_in(roster_imports, floor_names)[:10]
    out += ["", "### Top 10 imports Roster adds over the floor (outermost import not in the floor, `-X importtime`)", "",
            "`added ms` counts only the modules under it that the floor does not import; `cumulative ms` "
            "also counts those the floor imports too (botocore, pynamodb, ...), which Roster may load later "
            "or from another place.", ""]
    out.append(markdown_table(["module", "added ms", "modules added", "cumulative ms"],
                              [[r.name, f"{added_us(r, floor_names) / 1000:.1f}",
                                sum(1 for d in walk([r]) if d.name not in floor_names),
                                f"{r.cumulative_us / 1000:.1f}"] for r in added]))
    total_added = sum(added_us(r, floor_names) for r in outermost_not_in(roster_imports, floor_names)) / 1000
    out += ["", f"All imports Roster adds over the floor: {total_added:.0f} ms under -X importtime "
                "(which inflates times; compare them with each other, not with the wall times)."]
    return "\n".join(out)


def _ms(stats: dict) -> list[str]:
    return [f"{stats[key]:.0f}" for key in ("median_ms", "p90_ms", "min_ms", "max_ms")]


PERSON_TOKEN_CHILD = """
import json, sys, time
import app
from chalicelib import bootstrap
bootstrap.get_authenticator()  # settings, database session: any first request builds them
start, cpu = time.perf_counter(), time.process_time()
bootstrap.get_person_tokens().verify(sys.argv[1])
print("BENCH_CHILD " + json.dumps({"wall_ms": (time.perf_counter() - start) * 1000,
                                    "cpu_ms": (time.process_time() - cpu) * 1000}))
"""


def measure_person_token(runs: int, roots: dict[str, Path]) -> dict:
    """Milliseconds to build the verifier and verify a first token (JWKS fetch included), in fresh
    interpreters of each checkout in `roots`, alternating."""
    from infra.local_stack.token_issuer import JwksServer, TokenIssuer

    issuer = TokenIssuer(issuer="https://issuer.bench", audience="roster-bench")
    token = issuer.issue("ten_aaaaaaaaaaaaaaaa", "anna@x.example")
    times: dict[str, list[float]] = {name: [] for name in roots}
    cpu: dict[str, list[float]] = {name: [] for name in roots}
    with JwksServer(issuer) as jwks:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "POWERTOOLS_", "ROSTER_")) and name not in ("PYTHONDONTWRITEBYTECODE",
                                                                                          "PYTHONPATH")}
        env.update(stage_environment("dev"))
        apply_fake_aws(env, "http://127.0.0.1:9")  # nothing is called; nothing may escape either
        env.update(issuer.environment(jwks.url))
        for round_ in range(runs + 2):  # two warm-up rounds: bytecode caches, page cache
            for name in (list(roots) if round_ % 2 else list(reversed(roots))):
                out = subprocess.run([sys.executable, "-c", PERSON_TOKEN_CHILD, token], capture_output=True,
                                     text=True, cwd=roots[name], env={**env, "PYTHONPATH": str(roots[name])})
                line = [x for x in out.stdout.splitlines() if x.startswith("BENCH_CHILD ")]
                if out.returncode or not line:
                    raise RuntimeError(f"{name}: the child failed: {out.stderr[-2000:]}")
                if round_ >= 2:
                    result = json.loads(line[0].removeprefix("BENCH_CHILD "))
                    times[name].append(result["wall_ms"])
                    cpu[name].append(result["cpu_ms"])
    return {name: {"median_ms": round(median(v), 1), "min_ms": round(min(v), 1), "max_ms": round(max(v), 1),
                   "cpu_median_ms": round(median(cpu[name]), 1), "cpu_min_ms": round(min(cpu[name]), 1)}
            for name, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="measured runs of each process (default 15)")
    parser.add_argument("--importtime-runs", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 when the ratio is over budget")
    parser.add_argument("--person-token", action="store_true",
                        help="only what a person's first request adds: the verifier, the JWKS fetch, one token")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="with --person-token: alternate with the Roster checkout in DIR")
    args = parser.parse_args(argv)
    if args.person_token:
        roots = {"this checkout": ROOT, **({f"{args.compare}": args.compare.resolve()} if args.compare else {})}
        result = measure_person_token(args.runs, roots)
        save("cold_start_person_token", result)
        print(markdown_table(["first person token in a fresh interpreter", "median ms", "min ms", "max ms",
                              "CPU median ms", "CPU min ms"],
                             [[name, r["median_ms"], r["min_ms"], r["max_ms"], r["cpu_median_ms"], r["cpu_min_ms"]]
                              for name, r in result.items()]))
        print(f"\nload average after the run {os.getloadavg()[0]:.2f}")
        return 0
    if not 1 <= args.runs <= 200 or not 1 <= args.importtime_runs <= 20:
        parser.error("--runs must be 1..200 and --importtime-runs 1..20")

    apply_fake_aws(os.environ)
    # The seeding requests run the app in this process: keep its log lines and metrics quiet.
    os.environ.update({"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with Stack() as stack, tempfile.TemporaryDirectory(prefix="roster-bench-") as tmp:
        account_id, api_key = stack.seed()
        event_path = str(Path(tmp) / "event.json")
        Path(event_path).write_text(json.dumps(get_account_event(account_id, api_key)))
        env = child_environment(stack.endpoint_url)
        print(f"cold start: moto at {stack.endpoint_url}; {args.runs} runs each, alternating ...", file=sys.stderr)
        samples = measure(args.runs, env, event_path)
        roster_imports = importtime_profile(ROSTER_CHILD, [event_path], env, args.importtime_runs)
        floor_imports = importtime_profile(FLOOR_CHILD, [], env, args.importtime_runs)
    summary = summarise(samples)
    summary["load_average_after"] = os.getloadavg()
    summary["python"] = sys.version.split()[0]
    summary["cpus"] = os.cpu_count()
    summary["samples_ms"] = {name: [round(s.wall_ms, 1) for s in values] for name, values in samples.items()}
    save("cold_start", summary)
    print(render(summary, roster_imports, floor_imports))
    print(f"\nPython {summary['python']}, {summary['cpus']} CPUs, load average after the run "
          f"{summary['load_average_after'][0]:.2f} (wall times suffer when other work shares the machine; "
          "CPU times much less).")
    return 1 if args.strict and not summary["within_budget"] else 0


if __name__ == "__main__":
    sys.exit(main())
