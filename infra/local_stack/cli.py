"""Command line: `python -m infra.local_stack [--api-port N] [--console-port N] [--aws-port N]`.

Prints the URLs and the platform key, then one machine-readable line
`ROSTER_LOCAL_READY {...}` once every server answers. SIGINT (Ctrl-C) or SIGTERM stops
everything and exits 0; a second signal, a second or more later, exits at once.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from infra.local_stack.fake_aws import REGION
from infra.local_stack.function_processes import FunctionProcesses
from infra.local_stack.stack import LocalStack, StackSettings, StackUrls

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_MARKER = "ROSTER_LOCAL_READY"
_REPEAT_GRACE_SECONDS = 1.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Ports (0 picks a free one), the Chalice stage and the project directory."""
    parser = argparse.ArgumentParser(prog="python -m infra.local_stack", description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=8000, help="Chalice API (default 8000)")
    parser.add_argument("--console-port", type=int, default=8001, help="dev console (default 8001)")
    parser.add_argument("--aws-port", type=int, default=8002, help="embedded AWS, moto (default 8002)")
    parser.add_argument("--dynamodb-port", type=int, default=8003,
                        help="embedded DynamoDB, moto in a process of its own (default 8003)")
    parser.add_argument("--stage", default="dev", help="stage of .chalice/config.json (default dev)")
    parser.add_argument("--project-dir", default=str(PROJECT_DIR), help=argparse.SUPPRESS)
    parser.add_argument("--functions-in-process", action="store_true",
                        help="run the Lambda handlers in this process (default: in worker processes)")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Runs the local stack until SIGINT/SIGTERM; returns the process exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.project_dir not in sys.path:
        sys.path.insert(0, args.project_dir)
    stop_requested = _stop_on_signals()
    platform_key = os.environ.get("ROSTER_PLATFORM_KEY") or secrets.token_urlsafe(32)
    stack = LocalStack(StackSettings(
        project_dir=args.project_dir, platform_key=platform_key, api_port=args.api_port,
        console_port=args.console_port, aws_port=args.aws_port, dynamodb_port=args.dynamodb_port, stage=args.stage,
        function_processes=not args.functions_in_process,
    ))
    try:
        urls = stack.start()
    except Exception as error:
        logging.getLogger("roster.local_stack").exception("the local stack could not start")
        print(f"Could not start the local stack: {error}", file=sys.stderr, flush=True)
        return 1

    _print_banner(stack, urls, platform_key)
    print(READY_MARKER, json.dumps({"api": urls.api, "console": urls.console, "aws": urls.aws, "dynamodb": urls.dynamodb,
                                    "platform_key": platform_key}), flush=True)
    while not stop_requested.wait(0.5):
        pass
    print("Stopping the local stack…", flush=True)
    stuck = stack.stop()
    if stuck:
        print(f"Did not stop in time: {', '.join(stuck)}", file=sys.stderr, flush=True)
        return 1
    print("Stopped. All local state is gone.", flush=True)
    return 0


def _stop_on_signals() -> threading.Event:
    requested = threading.Event()
    first_signal_at: list[float] = []

    def handle(signum: int, frame: FrameType | None) -> None:
        # Wrappers (timeout, some process managers) forward a signal the process also got
        # directly; only a deliberate second signal, a moment later, skips the cleanup.
        if first_signal_at and time.monotonic() - first_signal_at[0] > _REPEAT_GRACE_SECONDS:
            print("Second signal: exiting without cleanup.", file=sys.stderr, flush=True)
            os._exit(1)
        if not first_signal_at:
            first_signal_at.append(time.monotonic())
        requested.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return requested


def _print_banner(stack: LocalStack, urls: StackUrls, platform_key: str) -> None:
    subscriptions = stack.queue_runner.subscriptions if stack.queue_runner else []
    queues = ", ".join(f"{s.queue_name} -> {s.function_name} (batch {s.batch_size}"
                       + (f", {s.concurrency} at a time)" if s.concurrency > 1 else ")") for s in subscriptions) or "none"
    functions = f"in {stack.invoker.workers} worker processes" if isinstance(stack.invoker, FunctionProcesses) \
        else "in this process (--functions-in-process)"
    jobs = stack.scheduler.jobs() if stack.scheduler else []
    schedules = ", ".join(f"{job['function']} {job['expression']}" for job in jobs) or "none"
    print(f"""
Roster local stack is running (127.0.0.1 only).
  API          {urls.api}
  Dev console  {urls.console}   (/health /outbox /dlq /schedules, POST /schedules/<name>/fire,
               POST /token {{"tenant_id", "email"}} for a person token, GET /.well-known/jwks.json)
  AWS (moto)   {urls.aws}   region {REGION}, fake credentials
  DynamoDB     {urls.dynamodb}   moto in a process of its own (AWS_ENDPOINT_URL_DYNAMODB)
  Platform key {platform_key}
  SQS handlers {queues}
  Schedules    {schedules}
  Functions    {functions}
All state (tables, queues, mails, secrets) is in memory and lost on stop. Ctrl-C stops.
""", flush=True)
