"""Tests for kesu.worktime (pure module: run with ``-p no:django``)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kesu.worktime import WorkCalendar, local

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(SH)
H = timedelta(hours=1)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


# --- calendar facts (as chinese_calendar 1.11 states them) ----------------------------------


def test_package_facts_for_2026_this_file_relies_on() -> None:
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")
    assert all(not CAL.is_workday(date(2026, 10, d)) for d in range(1, 8))
    # Make-up days for National Day are Sunday Sep 20 and Saturday Oct 10 (not Sep 27:
    # that Sunday is part of the Mid-autumn break Sep 25-27).
    assert CAL.is_workday(date(2026, 9, 20)) and date(2026, 9, 20).weekday() == 6
    assert CAL.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5
    assert not any(CAL.is_workday(date(2026, 9, d)) for d in (25, 26, 27))
    # Spring Festival: off Feb 15-23, make-up Saturdays Feb 14 and Feb 28.
    assert not any(CAL.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert CAL.is_workday(date(2026, 2, 14)) and CAL.is_workday(date(2026, 2, 28))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 3, 1))


def test_fallback_for_years_the_package_does_not_cover() -> None:
    assert not CAL.is_workday(date(2027, 1, 1))  # Friday, New Year
    assert not CAL.is_workday(date(2027, 1, 2)) and not CAL.is_workday(date(2027, 1, 3))
    assert CAL.is_workday(date(2027, 1, 4))
    assert not CAL.is_workday(date(2027, 10, 1)) and CAL.is_workday(date(2027, 10, 4))
    assert not CAL.is_workday(date(2030, 5, 1))  # Wednesday
    # 2029: every fixed statutory date falls on a weekday, so each one must be off.
    assert not any(CAL.is_workday(date(2029, m, d)) for m, d in [(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)])
    assert CAL.is_workday(date(2029, 10, 4))
    assert CAL.is_workday(date(2003, 10, 6)) and not CAL.is_workday(date(2003, 10, 2))  # before 2004


@given(st.dates(min_value=date(2027, 1, 1), max_value=date(2035, 12, 31)))
def test_fallback_rule_is_weekdays_minus_fixed_statutory_dates(d: date) -> None:
    fixed = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}
    assert CAL.is_workday(d) == (d.weekday() < 5 and (d.month, d.day) not in fixed)


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_covered_years_follow_chinese_calendar(d: date) -> None:
    assert CAL.is_workday(d) == chinese_calendar.is_workday(d)


# --- examples ------------------------------------------------------------------------------


def test_adding_within_one_window() -> None:
    assert CAL.add_working_hours(sh(2026, 3, 2, 9), 2) == sh(2026, 3, 2, 11)


def test_3_hours_from_monday_1700_crosses_the_night_to_tuesday_0900() -> None:
    assert CAL.add_working_hours(sh(2026, 3, 2, 17), 3) == sh(2026, 3, 3, 9)


def test_24_working_hours_from_friday_evening_ends_on_wednesday_morning() -> None:
    # Fri 18-19 (1h) + Mon (11h) + Tue (11h) + Wed 08-09 (1h).
    assert CAL.add_working_hours(sh(2026, 3, 6, 18), 24) == sh(2026, 3, 11, 9)


def test_national_day_2026_is_skipped() -> None:
    # Wed Sep 30 18-19, then Oct 1-7 off, resume Thu Oct 8.
    assert CAL.add_working_hours(sh(2026, 9, 30, 18), 2) == sh(2026, 10, 8, 9)
    assert CAL.next_window_start(sh(2026, 10, 3, 10)) == sh(2026, 10, 8, 8)


def test_make_up_saturday_counts_as_a_working_day() -> None:
    assert CAL.add_working_hours(sh(2026, 10, 9, 18), 2) == sh(2026, 10, 10, 9)
    assert CAL.in_window(sh(2026, 10, 10, 12))


def test_make_up_saturday_before_spring_festival_then_nine_days_off() -> None:
    # Fri Feb 13 18-19 (1h) + make-up Sat Feb 14 (11h) ends exactly at its close...
    assert CAL.add_working_hours(sh(2026, 2, 13, 18), 12) == sh(2026, 2, 14, 19)
    # ...and one more hour lands on Tue Feb 24, after the Feb 15-23 break.
    assert CAL.add_working_hours(sh(2026, 2, 13, 18), 13) == sh(2026, 2, 24, 9)


def test_received_at_2330_starts_next_working_morning() -> None:
    assert CAL.next_window_start(sh(2026, 3, 3, 23, 30)) == sh(2026, 3, 4, 8)
    assert CAL.next_window_start(sh(2026, 3, 6, 23, 30)) == sh(2026, 3, 9, 8)  # Fri -> Mon
    assert CAL.add_working_hours(sh(2026, 3, 3, 23, 30), 1) == sh(2026, 3, 4, 9)


def test_next_window_start_is_identity_inside_and_same_day_before_opening() -> None:
    assert CAL.next_window_start(sh(2026, 3, 3, 12, 34)) == sh(2026, 3, 3, 12, 34)
    assert CAL.next_window_start(sh(2026, 3, 3, 6)) == sh(2026, 3, 3, 8)


def test_across_year_end_2026_into_fallback_2027() -> None:
    # Thu Dec 31 18-19, Fri Jan 1 2027 holiday, Jan 2-3 weekend, Mon Jan 4 08-09.
    assert CAL.add_working_hours(sh(2026, 12, 31, 18), 2) == sh(2027, 1, 4, 9)
    assert CAL.working_time_between(sh(2026, 12, 31, 18), sh(2027, 1, 4, 9)) == 2 * H


def test_overrides_make_a_fallback_weekday_a_holiday_and_a_weekend_a_workday() -> None:
    cal = WorkCalendar(SH, overrides={date(2027, 2, 8): False, date(2027, 2, 6): True})
    assert CAL.is_workday(date(2027, 2, 8)) and not cal.is_workday(date(2027, 2, 8))
    assert not CAL.is_workday(date(2027, 2, 6)) and cal.is_workday(date(2027, 2, 6))
    # Fri Feb 5 18-19, Sat Feb 6 (override on) 08-09.
    assert cal.add_working_hours(sh(2027, 2, 5, 18), 2) == sh(2027, 2, 6, 9)
    # Sat Feb 6 18-19, Sun off, Mon Feb 8 (override off), Tue Feb 9 08-09.
    assert cal.add_working_hours(sh(2027, 2, 6, 18), 2) == sh(2027, 2, 9, 9)


def test_overrides_beat_chinese_calendar_too() -> None:
    cal = WorkCalendar(SH, overrides={date(2026, 10, 3): True})
    assert cal.next_window_start(sh(2026, 10, 1, 10)) == sh(2026, 10, 3, 8)


def test_overrides_mapping_is_copied() -> None:
    days = {date(2027, 2, 8): False}
    cal = WorkCalendar(SH, overrides=days)
    days[date(2027, 2, 8)] = True
    assert not cal.is_workday(date(2027, 2, 8))


def test_custom_window_0900_to_1730() -> None:
    cal = WorkCalendar(SH, start=time(9), end=time(17, 30))
    assert cal.add_working_hours(sh(2026, 3, 2, 17), 1) == sh(2026, 3, 3, 9, 30)
    assert cal.add_working_hours(sh(2026, 3, 2, 8), 8.5) == sh(2026, 3, 2, 17, 30)
    assert not cal.in_window(sh(2026, 3, 2, 17, 30)) and cal.in_window(sh(2026, 3, 2, 9))


def test_work_ending_exactly_at_close_returns_close_not_next_morning() -> None:
    assert CAL.add_working_hours(sh(2026, 3, 2, 18), 1) == sh(2026, 3, 2, 19)
    assert CAL.add_working_hours(sh(2026, 3, 2, 8), 11) == sh(2026, 3, 2, 19)
    assert CAL.add_working_hours(sh(2026, 3, 2, 8), 22) == sh(2026, 3, 3, 19)
    # The window is half-open: closing time itself is outside, so zero delta moves on.
    assert not CAL.in_window(sh(2026, 3, 2, 19)) and CAL.in_window(sh(2026, 3, 2, 8))
    assert CAL.add_working_time(sh(2026, 3, 2, 19), timedelta(0)) == sh(2026, 3, 3, 8)


def test_other_zones_are_converted_and_results_are_local() -> None:
    got = CAL.add_working_hours(datetime(2026, 3, 2, 1, tzinfo=UTC), 2)  # 09:00 Shanghai
    assert got == sh(2026, 3, 2, 11) and got.tzinfo is SH
    assert local(datetime(2026, 3, 2, 1, tzinfo=UTC), SH) == sh(2026, 3, 2, 9)


def test_working_time_between_examples() -> None:
    assert CAL.working_time_between(sh(2026, 3, 6, 18), sh(2026, 3, 9, 9)) == 2 * H
    assert CAL.working_time_between(sh(2026, 3, 9, 9), sh(2026, 3, 6, 18)) == timedelta(0)
    assert CAL.working_time_between(sh(2026, 9, 30, 8), sh(2026, 10, 8, 8)) == 11 * H


def test_naive_datetimes_are_rejected() -> None:
    naive = sh(2026, 3, 2, 9).replace(tzinfo=None)
    for call in (
        lambda: CAL.add_working_time(naive, H),
        lambda: CAL.next_window_start(naive),
        lambda: CAL.in_window(naive),
        lambda: CAL.working_time_between(naive, sh(2026, 3, 3)),
        lambda: local(naive, SH),
    ):
        with pytest.raises(ValueError):
            call()


def test_negative_delta_is_rejected() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_time(sh(2026, 3, 2, 9), -timedelta(seconds=1))
    with pytest.raises(ValueError):
        CAL.add_working_hours(sh(2026, 3, 2, 9), -1)


def test_window_must_be_non_empty() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(SH, start=time(19), end=time(8))
    with pytest.raises(ValueError):
        WorkCalendar(SH, start=time(8), end=time(8))


def test_search_is_bounded_when_overrides_close_everything() -> None:
    closed = {date(2027, 3, 1) + timedelta(days=i): False for i in range(90)}
    cal = WorkCalendar(SH, overrides=closed)
    with pytest.raises(RuntimeError):
        cal.next_window_start(sh(2027, 3, 1, 10))


def test_10000_hours_is_fast() -> None:
    t0 = clock.perf_counter()
    got = CAL.add_working_hours(sh(2026, 3, 2, 9), 10_000)
    assert clock.perf_counter() - t0 < 0.5  # generous for CI; ~1 ms in practice
    assert CAL.working_time_between(sh(2026, 3, 2, 9), got) == 10_000 * H


# --- properties ----------------------------------------------------------------------------

PROPS = settings(deadline=None, max_examples=200)

# Hypothesis wants naive bounds when it attaches the zone itself.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1, tzinfo=SH).replace(tzinfo=None),
    max_value=datetime(2027, 12, 31, 23, 59, tzinfo=SH).replace(tzinfo=None),
    timezones=st.sampled_from([SH, UTC]),
)
deltas = st.integers(0, 500 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    # Windows of at least an hour keep 500 h within ~2 years of day stepping.
    a = draw(st.integers(0, 23 * 60 - 1))
    b = draw(st.integers(a + 60, 24 * 60 - 1))
    return WorkCalendar(SH, start=time(a // 60, a % 60), end=time(b // 60, b % 60))


@PROPS
@given(calendars(), instants, deltas)
def test_result_is_not_before_start_and_round_trips(cal: WorkCalendar, dt: datetime, d: timedelta) -> None:
    got = cal.add_working_time(dt, d)
    assert got >= dt and got.tzinfo is SH
    assert cal.working_time_between(dt, got) == d


@PROPS
@given(calendars(), instants, deltas, deltas)
def test_monotonic_in_delta(cal: WorkCalendar, dt: datetime, d1: timedelta, d2: timedelta) -> None:
    d1, d2 = sorted((d1, d2))
    assert cal.add_working_time(dt, d1) <= cal.add_working_time(dt, d2)


@PROPS
@given(calendars(), instants, instants, deltas)
def test_monotonic_in_start(cal: WorkCalendar, a: datetime, b: datetime, d: timedelta) -> None:
    a, b = sorted((a, b))
    assert cal.add_working_time(a, d) <= cal.add_working_time(b, d)


@PROPS
@given(calendars(), instants, deltas)
def test_result_is_in_a_window_or_exactly_at_its_close(cal: WorkCalendar, dt: datetime, d: timedelta) -> None:
    assume(d > timedelta(0))
    got = cal.add_working_time(dt, d)
    assert cal.is_workday(got.date())
    assert cal.in_window(got) or got.time() == cal.end
    # Positive work always happens inside the window, so we can never stop at its opening.
    assert got.time() > cal.start


@PROPS
@given(calendars(), instants, deltas)
def test_result_never_falls_on_a_day_off(cal: WorkCalendar, dt: datetime, d: timedelta) -> None:
    got = cal.add_working_time(dt, d)
    assert cal.is_workday(got.date())
    assert cal.next_window_start(dt) <= got


@PROPS
@given(calendars(), instants, deltas, deltas)
def test_additivity(cal: WorkCalendar, dt: datetime, d1: timedelta, d2: timedelta) -> None:
    mid = cal.add_working_time(dt, d1)
    if d2 > timedelta(0):
        assert cal.add_working_time(mid, d2) == cal.add_working_time(dt, d1 + d2)
    else:
        # Not plain additivity for d2 == 0: `mid` may sit exactly at closing time, and a
        # zero-length add from there snaps to the next opening, while add(dt, d1) stays put.
        assert cal.add_working_time(mid, d2) == cal.next_window_start(mid)


@PROPS
@given(calendars(), instants, instants)
def test_working_time_between_is_additive_and_bounded(cal: WorkCalendar, a: datetime, b: datetime) -> None:
    a, b = sorted((a, b))
    m = a + (b - a) / 2
    whole = cal.working_time_between(a, b)
    assert whole == cal.working_time_between(a, m) + cal.working_time_between(m, b)
    assert timedelta(0) <= whole <= b - a
    assert cal.working_time_between(b, a) == timedelta(0)


# --- promises that fall inside the working window ------------------------------------------


def test_previous_window_end_examples() -> None:
    assert CAL.previous_window_end(sh(2026, 12, 3, 10, 0)) == sh(2026, 12, 3, 10, 0)  # open: itself
    assert CAL.previous_window_end(sh(2026, 12, 3, 19, 0)) == sh(2026, 12, 3, 19, 0)  # at closing
    assert CAL.previous_window_end(sh(2026, 12, 3, 23, 0)) == sh(2026, 12, 3, 19, 0)  # that evening
    assert CAL.previous_window_end(sh(2026, 12, 3, 7, 0)) == sh(2026, 12, 2, 19, 0)  # before opening
    assert CAL.previous_window_end(sh(2026, 12, 5, 3, 0)) == sh(2026, 12, 4, 19, 0)  # Saturday → Friday


def test_first_full_window_end_examples() -> None:
    assert CAL.first_full_window_end(sh(2026, 12, 3, 3, 0)) == sh(2026, 12, 3, 19, 0)  # Thu night → Thu
    assert CAL.first_full_window_end(sh(2026, 12, 3, 10, 0)) == sh(2026, 12, 4, 19, 0)  # Thu open → Fri
    assert CAL.first_full_window_end(sh(2026, 12, 4, 18, 0)) == sh(2026, 12, 7, 19, 0)  # Fri 18:00 → Mon


@PROPS
@given(calendars(), instants)
def test_previous_window_end_is_not_later_and_the_office_is_open_up_to_it(
    cal: WorkCalendar, dt: datetime
) -> None:
    got = cal.previous_window_end(dt)
    assert got <= dt
    assert cal.in_window(got) or (cal.is_workday(got.date()) and got.time() == cal.end)
    # Nothing between it and `dt` is working time.
    assert cal.working_time_between(got, dt) == timedelta(0)


@PROPS
@given(calendars(), instants)
def test_first_full_window_end_leaves_a_whole_window_after_the_instant(
    cal: WorkCalendar, dt: datetime
) -> None:
    got = cal.first_full_window_end(dt)
    assert got > dt and cal.is_workday(got.date()) and got.time() == cal.end
    full = datetime.combine(got.date(), cal.end) - datetime.combine(got.date(), cal.start)
    assert cal.working_time_between(dt, got) >= full
