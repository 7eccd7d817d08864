"""Working-time arithmetic on a company's daily windows and the Chinese workday calendar.

Pure module (no Django) so deadline logic can be property-tested in isolation.

All arithmetic happens in the company's local wall time: every datetime is first converted
with ``astimezone(tz)``, and Python compares/subtracts datetimes sharing one tzinfo object by
wall clock. For zones without DST (all of mainland China) wall time and elapsed time agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import chinese_calendar

# Long enough for the longest real closure (Spring Festival / National Day plus weekends);
# a longer gap can only come from a misconfigured override, which should fail loudly.
MAX_SEARCH_DAYS = 60

# Used only for years chinese_calendar has no data for: those years' State Council schedule
# isn't published yet, so the fixed-date statutory holidays are the best safe guess.
_FALLBACK_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

_ZERO = timedelta(0)


def local(dt: datetime, tz: tzinfo) -> datetime:
    """Convert an aware datetime to ``tz``; naive input is ambiguous, so it is rejected."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {dt!r}")
    return dt.astimezone(tz)


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


@lru_cache(maxsize=8192)  # ~22 years of dates; bounded for long-lived workers
def _statutory_workday(d: date) -> bool:
    # chinese_calendar re-scans its whole table to validate the year on every call: cache.
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return d.weekday() < 5 and (d.month, d.day) not in _FALLBACK_HOLIDAYS


class WorkCalendar:
    """Daily working window [start, end) on workdays, in time zone ``tz``."""

    def __init__(
        self,
        tz: tzinfo,
        start: time = time(8, 0),
        end: time = time(19, 0),
        overrides: Mapping[date, bool] | None = None,
    ) -> None:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("window times must be naive local times")
        if not start < end:
            raise ValueError(f"window start {start} must be before end {end}")
        self.tz = tz
        self.start = start
        self.end = end
        # Copied so later edits to the caller's mapping can't silently change deadlines.
        self.overrides: dict[date, bool] = dict(overrides or {})
        self._day_length = _since_midnight(end) - _since_midnight(start)

    def is_workday(self, d: date) -> bool:
        override = self.overrides.get(d)
        return _statutory_workday(d) if override is None else override

    def in_window(self, dt: datetime) -> bool:
        loc = local(dt, self.tz)
        return self.is_workday(loc.date()) and self.start <= loc.time() < self.end

    def next_window_start(self, dt: datetime) -> datetime:
        loc = local(dt, self.tz)
        d = loc.date()
        if self.is_workday(d):
            if loc.time() < self.start:
                return self._at(d, self.start)
            if loc.time() < self.end:
                return loc
        return self._at(self._next_workday(d), self.start)

    def previous_window_end(self, dt: datetime) -> datetime:
        """``dt`` itself when the office is open then; otherwise the end of the last working window
        before it (the latest moment not after ``dt`` at which the office was still open)."""
        loc = local(dt, self.tz)
        d = loc.date()
        if self.is_workday(d) and loc.time() >= self.start:
            return loc if loc.time() < self.end else self._at(d, self.end)
        return self._at(self._previous_workday(d), self.end)

    def first_full_window_end(self, dt: datetime) -> datetime:
        """The end of the first whole working window that starts after ``dt`` (the window ``dt`` falls
        in does not count: it is not whole)."""
        start = self.next_window_start(dt)
        day = start.date() if start != local(dt, self.tz) else self._next_workday(start.date())
        return self._at(day, self.end)

    def add_working_time(self, dt: datetime, delta: timedelta) -> datetime:
        if delta < _ZERO:
            raise ValueError(f"delta must be non-negative, got {delta}")
        cur = self.next_window_start(dt)
        if delta == _ZERO:
            return cur
        day = cur.date()
        # `<=` (not `<`) so work finishing exactly at closing time ends at that day's `end`,
        # instead of rolling over to the next morning.
        remaining = delta - (self._at(day, self.end) - cur)
        if remaining <= _ZERO:
            return cur + delta
        # Whole workdays are consumed one date step at a time (cached lookup), never per minute.
        while True:
            day = self._next_workday(day)
            if remaining <= self._day_length:
                return self._at(day, self.start) + remaining
            remaining -= self._day_length

    def add_working_hours(self, dt: datetime, hours: float) -> datetime:
        return self.add_working_time(dt, timedelta(hours=hours))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        a, b = local(a, self.tz), local(b, self.tz)
        total = _ZERO
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                lo = max(a, self._at(day, self.start))
                hi = min(b, self._at(day, self.end))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def _at(self, d: date, t: time) -> datetime:
        return datetime.combine(d, t, tzinfo=self.tz)

    def _previous_workday(self, d: date) -> date:
        """Last workday strictly before ``d``."""
        for offset in range(1, MAX_SEARCH_DAYS + 1):
            candidate = d - timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise RuntimeError(f"no workday within {MAX_SEARCH_DAYS} days before {d}; check calendar overrides")

    def _next_workday(self, d: date) -> date:
        """First workday strictly after ``d``."""
        for offset in range(1, MAX_SEARCH_DAYS + 1):
            candidate = d + timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise RuntimeError(f"no workday within {MAX_SEARCH_DAYS} days after {d}; check calendar overrides")
