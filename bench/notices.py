"""A notice on the local stack, as a sanity figure: the wall time from POST /notices until every
recipient is settled. No ratio, no budget: the local stack is moto, not AWS (bench/pipeline.py
measures Roster on AWS terms).

Starts `python -m infra.local_stack` (as tests/e2e does), seeds a tenant and active accounts with
ten contacts each (de, fr, it, en in turn) through the API (not timed), then publishes an outage
to all accounts and polls GET /notices/{id} until its event is planned and nothing is queued.

    python bench/notices.py [--recipients 2000] [--timeout 600]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PLATFORM_KEY, ROOT, save  # noqa: E402

READY_MARKER = "ROSTER_LOCAL_READY "
LANGUAGES = ("de", "fr", "it", "en")
CONTACTS_PER_ACCOUNT = 10


class LocalStack:
    """`python -m infra.local_stack` on free ports, like the e2e fixture (tests/e2e/conftest.py)."""

    def __init__(self, start_timeout: float = 90):
        self.log = Path(tempfile.mkdtemp(prefix="roster-bench-")) / "stack.log"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.urls: dict[str, str] = {}

    def __enter__(self) -> "LocalStack":
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROSTER_"))}
        environ.update(ROSTER_PLATFORM_KEY=PLATFORM_KEY, PYTHONUNBUFFERED="1", POWERTOOLS_LOG_LEVEL="WARNING",
                       ROSTER_MAIL_REQUESTS_PER_MINUTE="1000000")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.local_stack", "--api-port", "0", "--console-port", "0",
                 "--aws-port", "0", "--dynamodb-port", "0"], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith(READY_MARKER):
                    self.urls = json.loads(line[len(READY_MARKER):])
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(f"the local stack exited early; see {self.log}")
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"the local stack was not ready in {self.start_timeout}s; see {self.log}")

    def __exit__(self, *exc: Any) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Http:
    def __init__(self, base: str):
        import requests

        self.base, self.session = base, requests.Session()
        self.session.trust_env = False

    def call(self, method: str, path: str, key: str, body: Any = None, expect: int = 200) -> Any:
        reply = self.session.request(method, self.base + path, json=body, timeout=600,
                                     headers={"Authorization": f"Bearer {key}"})
        if reply.status_code != expect:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.text[:300]}")
        return reply.json() if reply.content else None


def seed(api: Http, recipients: int) -> str:
    """A tenant and active accounts with ten contacts each, through the API; returns the API key."""
    key = api.call("POST", "/tenants", PLATFORM_KEY, {"name": "Bench Telecom", "default_language": "de"}, 201)["api_key"]
    for a in range(-(-recipients // CONTACTS_PER_ACCOUNT)):
        aid = api.call("POST", "/accounts", key, {
            "name": f"Kunde {a}", "business_type": "it_services", "language": "de",
            "address": {"street": "Bahnhofstrasse 1", "postal_code": "8001", "city": "Zürich", "country": "CH"}},
            201)["account_id"]
        for c in range(CONTACTS_PER_ACCOUNT):
            api.call("POST", f"/accounts/{aid}/contacts", key, {
                "email": f"p{a}-{c}@kunde.example", "language": LANGUAGES[(a * CONTACTS_PER_ACCOUNT + c) % 4],
                "roles": ["caretaker"] if c == 0 else ["on_site_admin"] if c == 1 else [],
                "notifications": ["outage"]}, 201)
        api.call("POST", f"/accounts/{aid}/onboarding/complete", key)
    return key


def publish_and_wait(api: Http, key: str, timeout: float) -> dict:
    texts = {"de": "Störung Telefonie", "fr": "Panne téléphonie", "it": "Guasto telefonia", "en": "Telephony outage"}
    started = time.monotonic()
    notice = api.call("POST", "/notices", key, {"type": "outage", "title": texts, "body": texts,
                                                "affected": {"all": True}}, 201)
    api.call("POST", f"/notices/{notice['notice_id']}/publish", key, expect=202)
    while time.monotonic() - started < timeout:
        [event] = api.call("GET", f"/notices/{notice['notice_id']}", key)["events"]
        if event["fanout"] == "failed" or (event["fanout"] == "planned" and event["deliveries"]["queued"] == 0):
            return {"seconds": round(time.monotonic() - started, 1), "event": event}
        time.sleep(0.25)
    raise RuntimeError(f"the notice did not settle within {timeout} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    with LocalStack() as stack:
        api = Http(stack.urls["api"])
        seeding = time.monotonic()
        key = seed(api, args.recipients)
        seeded = time.monotonic() - seeding
        result = publish_and_wait(api, key, args.timeout)
    save("notices", {"recipients": args.recipients, **result, "seeding_seconds": round(seeded, 1)})
    event = result["event"]
    print(f"### A notice on the local stack (sanity figure, moto; not AWS)\n\n{args.recipients:,} recipients "
          f"(seeded through the API in {seeded:.0f} s): POST /notices to every recipient settled in "
          f"**{result['seconds']:.1f} s**; fan-out {event['fanout']}, deliveries {event['deliveries']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
