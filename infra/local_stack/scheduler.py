"""Fires the app's `@app.schedule` handlers on their expressions with a Lambda scheduled event.

The clock is injected: tests move a fake clock and call `run_due()` instead of sleeping.
"""
from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from infra.local_stack.fake_aws import ACCOUNT_ID
from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.schedule_expressions import Schedule, parse_schedule

log = logging.getLogger("roster.local_stack.schedules")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class ScheduledJob:
    function_name: str
    schedule: Schedule
    next_due: datetime | None


@dataclass(frozen=True)
class FireResult:
    function_name: str
    time: datetime
    result: Any = None
    error: str | None = None


class UnknownSchedule(LookupError):
    pass


def discover_schedules(app: Any) -> dict[str, str]:
    """`{handler name: schedule expression}` for every `@app.schedule` handler of `app`."""
    from chalice.app import ScheduledEventConfig, ScheduleExpression

    schedules = {}
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            schedules[source.name] = expression.to_string() if isinstance(expression, ScheduleExpression) else expression
    return schedules


def scheduled_event(rule_arn: str, region: str, moment: datetime) -> dict[str, Any]:
    """The event EventBridge sends a Lambda target of a schedule rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class Scheduler:
    """Keeps the next due time of every schedule handler and invokes those that are due."""

    def __init__(self, invoker: LambdaInvoker, clock: Clock | None = None, tick_seconds: float = 1.0):
        self._invoker = invoker
        self._clock = clock or SystemClock()
        self._tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        now = self._clock.now()
        self._jobs = {}
        for name, expression in discover_schedules(invoker.app).items():
            schedule = parse_schedule(expression)  # an invalid expression fails at start, as a deploy would
            self._jobs[name] = ScheduledJob(name, schedule, schedule.next_after(now))

    def jobs(self) -> list[dict[str, Any]]:
        """Every schedule handler with its expression and next due time (ISO, UTC)."""
        with self._lock:
            return [{"function": job.function_name, "expression": job.schedule.expression,
                     "next_due": job.next_due.isoformat() if job.next_due else None}
                    for job in self._jobs.values()]

    def run_due(self) -> list[FireResult]:
        """Fires every job due at the clock's now, once, and schedules its next firing.

        Like EventBridge, missed firings are not caught up: a job overdue by many periods fires once.
        """
        now = self._clock.now()
        firings = []
        with self._lock:
            for job in self._jobs.values():
                if job.next_due is None or job.next_due > now:
                    continue
                firings.append((job.function_name, job.next_due))
                following = job.schedule.next_after(job.next_due)
                job.next_due = following if following is None or following > now else job.schedule.next_after(now)
        return [self._invoke(name, due) for name, due in firings]

    def fire(self, function_name: str) -> FireResult:
        """Fires `function_name` now, outside its schedule (the console's /schedules/{name}/fire)."""
        if function_name not in self._jobs:
            raise UnknownSchedule(function_name)
        return self._invoke(function_name, self._clock.now())

    def start(self) -> None:
        """Runs `run_due()` every tick in a background thread."""
        self._thread = threading.Thread(target=self._run_forever, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> bool:
        """Stops after the firing in progress; True if the thread ended."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("scheduler tick failed")
            self._stopping.wait(self._tick_seconds)

    def _invoke(self, function_name: str, moment: datetime) -> FireResult:
        rule_arn = f"arn:aws:events:{self._invoker.region}:{ACCOUNT_ID}:rule/{self._invoker.rule_name(function_name)}"
        try:
            result = self._invoker.invoke(function_name, scheduled_event(rule_arn, self._invoker.region, moment))
        except Exception as error:
            log.exception("schedule handler %s raised", function_name)
            return FireResult(function_name, moment, error=repr(error))
        log.info("schedule %s fired", function_name)
        return FireResult(function_name, moment, result=result)
