"""EventBridge schedule expressions: what parses, what AWS would reject, when a cron fires next."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from infra.local_stack.schedule_expressions import CronSchedule, InvalidScheduleExpression, RateSchedule, parse_schedule


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize(("expression", "period"), [
    ("rate(1 minute)", timedelta(minutes=1)),
    ("rate(5 minutes)", timedelta(minutes=5)),
    ("rate(1 hour)", timedelta(hours=1)),
    ("rate(12 hours)", timedelta(hours=12)),
    ("rate(1 day)", timedelta(days=1)),
    ("rate(7 days)", timedelta(days=7)),
])
def test_rate_expressions_parse_to_their_period(expression, period):
    schedule = parse_schedule(expression)

    assert isinstance(schedule, RateSchedule)
    assert schedule.period == period
    assert schedule.next_after(utc(2024, 1, 1, 0, 0)) == utc(2024, 1, 1) + period


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(2 weeks)", "rate(five minutes)",
    "every 5 minutes", "cron(0 12 * * *)", "cron(0 12 * * * *)", "cron(0 12 ? * ? *)",
    "cron(60 * * * ? *)", "cron(0 24 * * ? *)", "cron(0 0 0 * ? *)", "cron(0 0 ? * 8 *)",
    "cron(0 0 ? 13 * *)", "cron(0 0 10-5 * ? *)", "cron(0/0 * * * ? *)",
])
def test_expressions_aws_rejects_are_rejected(expression):
    with pytest.raises(InvalidScheduleExpression):
        parse_schedule(expression)


@pytest.mark.parametrize("expression", ["cron(0 10 L * ? *)", "cron(0 10 15W * ? *)", "cron(0 10 ? * 6#3 *)",
                                        "cron(0 10 ? * 6L *)"])
def test_cron_forms_not_emulated_fail_loudly(expression):
    with pytest.raises(InvalidScheduleExpression, match="not supported locally"):
        parse_schedule(expression)


@pytest.mark.parametrize(("expression", "after", "expected"), [
    # every day at noon; strictly after the given moment
    ("cron(0 12 * * ? *)", utc(2024, 1, 1, 11, 59, 59), utc(2024, 1, 1, 12, 0)),
    ("cron(0 12 * * ? *)", utc(2024, 1, 1, 12, 0), utc(2024, 1, 2, 12, 0)),
    # steps, lists and ranges
    ("cron(*/20 * * * ? *)", utc(2024, 1, 1, 10, 41), utc(2024, 1, 1, 11, 0)),
    ("cron(5/15 * * * ? *)", utc(2024, 1, 1, 10, 21), utc(2024, 1, 1, 10, 35)),
    ("cron(0,30 8-9 * * ? *)", utc(2024, 1, 1, 9, 30), utc(2024, 1, 2, 8, 0)),
    ("cron(0 8 1 JAN,JUL ? *)", utc(2024, 1, 1, 8, 0), utc(2024, 7, 1, 8, 0)),
    ("cron(0 6 1-3/2 * ? *)", utc(2024, 3, 1, 7, 0), utc(2024, 3, 3, 6, 0)),
    # day of week: SUN=1 … SAT=7, names or numbers; 2024-01-06 is a Saturday
    ("cron(0 9 ? * MON-FRI *)", utc(2024, 1, 6, 12, 0), utc(2024, 1, 8, 9, 0)),
    ("cron(0 9 ? * 2-6 *)", utc(2024, 1, 6, 12, 0), utc(2024, 1, 8, 9, 0)),
    ("cron(0 9 ? * 1 *)", utc(2024, 1, 6, 12, 0), utc(2024, 1, 7, 9, 0)),
    ("cron(0 9 ? * SAT *)", utc(2024, 1, 6, 12, 0), utc(2024, 1, 13, 9, 0)),
    # leap days and years
    ("cron(0 0 29 2 ? *)", utc(2025, 1, 1), utc(2028, 2, 29)),
    ("cron(30 1 1 1 ? 2026-2027)", utc(2026, 6, 1), utc(2027, 1, 1, 1, 30)),
    ("cron(0 0 1 1 ? 2020)", utc(2024, 1, 1), None),
])
def test_cron_next_firing(expression, after, expected):
    schedule = parse_schedule(expression)

    assert isinstance(schedule, CronSchedule)
    assert schedule.next_after(after) == expected
