"""The scheduler fires a test app's @app.schedule handlers on time, driven by an injected clock."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from chalice import Chalice, Cron, Rate

from infra.local_stack.lambda_invoker import LambdaInvoker
from infra.local_stack.schedule_expressions import InvalidScheduleExpression
from infra.local_stack.scheduler import Scheduler, UnknownSchedule, discover_schedules

START = datetime(2024, 1, 6, 1, 0, 30, tzinfo=timezone.utc)  # a Saturday


class FakeClock:
    def __init__(self, now: datetime):
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def make_app(calls: list[tuple[str, dict]], failing: set[str] = frozenset()) -> Chalice:
    app = Chalice(app_name="schedtest", configure_logs=False)

    def record(name, event):
        calls.append((name, event.to_dict()))
        if name in failing:
            raise RuntimeError(f"{name} failed")
        return {"handled": name}

    @app.schedule("rate(5 minutes)")
    def every_five(event):
        return record("every_five", event)

    @app.schedule(Cron(0, 3, "*", "*", "?", "*"))
    def nightly(event):
        return record("nightly", event)

    @app.schedule(Rate(1, unit=Rate.HOURS))
    def hourly(event):
        return record("hourly", event)

    @app.on_sqs_message(queue="not-a-schedule")
    def not_a_schedule(event):
        raise AssertionError("never fired by the scheduler")

    return app


@pytest.fixture
def calls():
    return []


@pytest.fixture
def clock():
    return FakeClock(START)


def names(calls):
    return [name for name, _ in calls]


def test_discovers_every_schedule_handler_with_its_expression(calls):
    assert discover_schedules(make_app(calls)) == {
        "every_five": "rate(5 minutes)", "nightly": "cron(0 3 * * ? *)", "hourly": "rate(1 hour)",
    }


def test_nothing_fires_before_it_is_due(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls)), clock)

    clock.advance(minutes=4, seconds=59)
    assert scheduler.run_due() == []
    assert calls == []


def test_rate_fires_once_per_period_with_a_lambda_scheduled_event(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls)), clock)

    clock.advance(minutes=5)
    fired = scheduler.run_due()
    clock.advance(seconds=30)
    assert scheduler.run_due() == []
    clock.advance(minutes=4, seconds=30)
    scheduler.run_due()

    assert [result.function_name for result in fired] == ["every_five"]
    assert fired[0].result == {"handled": "every_five"} and fired[0].error is None
    assert names(calls) == ["every_five", "every_five"]
    event = calls[0][1]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["region"] == "eu-central-1"
    assert event["time"] == "2024-01-06T01:05:30Z"
    assert event["resources"] == ["arn:aws:events:eu-central-1:123456789012:rule/schedtest-dev-every_five-event"]
    assert event["detail"] == {}
    assert calls[0][1]["id"] != calls[1][1]["id"]


def test_cron_fires_at_the_matching_minute_and_then_the_next_day(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls)), clock)

    clock.current = datetime(2024, 1, 6, 3, 0, tzinfo=timezone.utc)
    scheduler.run_due()
    clock.current = datetime(2024, 1, 7, 2, 59, tzinfo=timezone.utc)
    scheduler.run_due()
    nightly_events = [event for name, event in calls if name == "nightly"]

    assert len(nightly_events) == 1
    assert nightly_events[0]["time"] == "2024-01-06T03:00:00Z"
    assert {job["function"]: job["next_due"] for job in scheduler.jobs()}["nightly"] == "2024-01-07T03:00:00+00:00"


def test_missed_firings_are_not_caught_up(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls)), clock)

    clock.advance(hours=3)
    scheduler.run_due()

    assert sorted(names(calls)) == ["every_five", "hourly", "nightly"]
    due_times = [datetime.fromisoformat(job["next_due"]) for job in scheduler.jobs()]
    assert all(due > clock.now() for due in due_times)


def test_a_failing_handler_does_not_stop_the_others_or_later_firings(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls, failing={"every_five"})), clock)

    clock.advance(hours=1)
    results = {result.function_name: result for result in scheduler.run_due()}
    clock.advance(minutes=5)
    scheduler.run_due()

    assert "every_five failed" in results["every_five"].error
    assert results["hourly"].error is None
    assert names(calls).count("every_five") == 2


def test_fire_invokes_a_handler_now_without_moving_its_schedule(calls, clock):
    scheduler = Scheduler(LambdaInvoker(make_app(calls)), clock)
    before = scheduler.jobs()

    result = scheduler.fire("nightly")

    assert result.result == {"handled": "nightly"}
    assert names(calls) == ["nightly"]
    assert calls[0][1]["time"] == "2024-01-06T01:00:30Z"
    assert scheduler.jobs() == before
    with pytest.raises(UnknownSchedule):
        scheduler.fire("not_a_schedule")


def test_an_expression_aws_would_reject_fails_at_start():
    app = Chalice(app_name="bad", configure_logs=False)

    @app.schedule("rate(1 minutes)")
    def broken(event):
        pass

    with pytest.raises(InvalidScheduleExpression):
        Scheduler(LambdaInvoker(app), FakeClock(START))


def test_background_thread_fires_due_jobs_and_stops(calls, clock):
    fired = threading.Event()
    app = Chalice(app_name="threaded", configure_logs=False)

    @app.schedule("rate(1 minute)")
    def tick(event):
        fired.set()

    scheduler = Scheduler(LambdaInvoker(app), clock, tick_seconds=0.05)
    scheduler.start()
    try:
        clock.advance(minutes=1)
        assert fired.wait(timeout=5)
    finally:
        assert scheduler.stop(timeout=5)
