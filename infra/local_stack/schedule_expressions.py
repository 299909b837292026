"""EventBridge schedule expressions: `rate(...)` and 6-field `cron(...)`, evaluated in UTC.

Supported cron forms per field: `*`, `?`, numbers, names (JAN-DEC, SUN-SAT), lists `a,b`,
ranges `a-b`, steps `*/n`, `a/n`, `a-b/n`. `L`, `W` and `#` are rejected with a clear error
rather than silently mis-scheduled.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)")
_CRON = re.compile(r"cron\((.*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: number for number, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_WEEKDAYS = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_SEARCH_DAYS = 366 * 30  # bounds the search for expressions that never fire again


class InvalidScheduleExpression(ValueError):
    pass


@dataclass(frozen=True)
class RateSchedule:
    expression: str
    period: timedelta

    def next_after(self, moment: datetime) -> datetime:
        """EventBridge fires a rate rule one period after the previous firing (or creation)."""
        return moment + self.period


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`, the day is chosen by days_of_week
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # AWS numbering: SUN=1 … SAT=7
    years: frozenset[int]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after `moment` (UTC), or None if there is none."""
        start = moment.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if day.year > max(self.years):
                return None
            if self._matches_day(day):
                earliest = (start.hour, start.minute) if day == start.date() else (0, 0)
                time_of_day = self._first_time_from(*earliest)
                if time_of_day is not None:
                    return datetime(day.year, day.month, day.day, *time_of_day, tzinfo=timezone.utc)
            day += timedelta(days=1)
        return None

    def _matches_day(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        aws_weekday = (day.weekday() + 1) % 7 + 1  # Python: MON=0; AWS: SUN=1
        return self.days_of_week is not None and aws_weekday in self.days_of_week

    def _first_time_from(self, hour: int, minute: int) -> tuple[int, int] | None:
        for candidate_hour in sorted(h for h in self.hours if h >= hour):
            first_minute = minute if candidate_hour == hour else 0
            later = [m for m in sorted(self.minutes) if m >= first_minute]
            if later:
                return candidate_hour, later[0]
        return None


Schedule = RateSchedule | CronSchedule


def parse_schedule(expression: str) -> Schedule:
    """Parses an EventBridge schedule expression; raises InvalidScheduleExpression if AWS would."""
    text = expression.strip()
    if match := _RATE.fullmatch(text):
        return _parse_rate(text, int(match.group(1)), match.group(2))
    if match := _CRON.fullmatch(text):
        return _parse_cron(text, match.group(1).split())
    raise InvalidScheduleExpression(f"{expression!r} is neither rate(...) nor cron(...)")


def _parse_rate(text: str, value: int, unit: str) -> RateSchedule:
    singular = unit.removesuffix("s")
    if singular not in _UNIT_SECONDS:
        raise InvalidScheduleExpression(f"{text}: unit must be minute(s), hour(s) or day(s)")
    if value <= 0:
        raise InvalidScheduleExpression(f"{text}: the value must be a positive integer")
    if (value == 1) != (unit == singular):
        raise InvalidScheduleExpression(f"{text}: AWS wants the singular unit for 1 and the plural otherwise")
    return RateSchedule(text, timedelta(seconds=value * _UNIT_SECONDS[singular]))


def _parse_cron(text: str, fields: list[str]) -> CronSchedule:
    if len(fields) != 6:
        raise InvalidScheduleExpression(f"{text}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise InvalidScheduleExpression(f"{text}: exactly one of day-of-month and day-of-week must be '?'")
    return CronSchedule(
        expression=text,
        minutes=_parse_field(minutes, 0, 59, {}, text),
        hours=_parse_field(hours, 0, 23, {}, text),
        days_of_month=None if dom == "?" else _parse_field(dom, 1, 31, {}, text),
        months=_parse_field(month, 1, 12, _MONTHS, text),
        days_of_week=None if dow == "?" else _parse_field(dow, 1, 7, _WEEKDAYS, text),
        years=_parse_field(year, 1970, 2199, {}, text),
    )


def _parse_field(field: str, low: int, high: int, names: dict[str, int], text: str) -> frozenset[int]:
    values: set[int] = set()
    for part in field.split(","):
        values.update(_parse_part(part, low, high, names, text))
    return frozenset(values)


def _parse_part(part: str, low: int, high: int, names: dict[str, int], text: str) -> range:
    base, _, step_text = part.partition("/")
    step = _number(step_text, names, text) if step_text else 1
    if step <= 0:
        raise InvalidScheduleExpression(f"{text}: step in {part!r} must be positive")
    if base == "*":
        first, last = low, high
    elif "-" in base:
        first_text, last_text = base.split("-", 1)
        first, last = _number(first_text, names, text), _number(last_text, names, text)
    else:
        first = _number(base, names, text)
        last = high if step_text else first
    if not (low <= first <= high and low <= last <= high) or first > last:
        raise InvalidScheduleExpression(f"{text}: {part!r} is outside {low}-{high}")
    return range(first, last + 1, step)


def _number(token: str, names: dict[str, int], text: str) -> int:
    if token.upper() in names:
        return names[token.upper()]
    if not token.isdigit() and any(symbol in token.upper() for symbol in "LW#"):
        raise InvalidScheduleExpression(f"{text}: {token!r} (L, W and #) is not supported locally")
    if not token.isdigit():
        raise InvalidScheduleExpression(f"{text}: {token!r} is not a number")
    return int(token)
