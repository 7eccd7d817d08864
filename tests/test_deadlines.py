"""Every time limit of docs/procedures.md §4, driven through the lifecycle (services.py), never set by hand.

Office window 08:00–19:00 (11 working hours a day) unless a test says otherwise. Every expected
datetime below was worked out by hand; the comment next to it shows the arithmetic.

Calendar facts relied on (chinesecalendar 1.11; years after 2026 use the fallback):
- 2026-03-10 is a Tuesday; 2026-02-15..23 off, make-up Saturdays 02-14 and 02-28;
- 2026-09-25..27 off (Mid-Autumn); 2026-10-01..07 off, make-up Sun 09-20 and Sat 10-10;
- 2027-01-01 (Friday) off by the fallback rule.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import local
from django.core.exceptions import ValidationError

from kesu.complaints import services
from kesu.complaints.choices import Deadline, EventType, Status
from kesu.complaints.deadlines import due_soon_q
from kesu.complaints.models import Complaint, ComplaintEvent, SlaPolicy
from kesu.org.choices import DepartmentType
from kesu.org.models import CalendarOverride

MIN = dt.timedelta(minutes=1)
COLUMNS = (
    "forward_due_at",
    "report_due_at",
    "resolve_due_at",
    "callback_due_at",
    "rectify_due_at",
    "committed_answer_at",
    "onsite_callback_required",
)


def register(org, received: dt.datetime, *, office=None, by=None, at=None, **kwargs) -> Complaint:
    """Register at `received` (recorded one minute later unless `at` is given)."""
    o = office or org.a
    return services.register(
        by or (org.reception if o is org.a else org.reception2),
        office=o.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=o.resident.phone,
        unit=o.unit,
        received_at=received,
        at=at or received + MIN,
        **kwargs,
    )


def due(c: Complaint) -> dict:
    """The deadline columns as stored."""
    row = Complaint.objects.get(pk=c.pk)
    return {name: getattr(row, name) for name in COLUMNS}


def expect(**values) -> dict:
    """The expected columns: everything not named is empty."""
    result = {name: None for name in COLUMNS}
    result["onsite_callback_required"] = False
    result.update(values)
    return result


def overdue_kinds(c: Complaint, now: dt.datetime) -> set[str]:
    return {k for k in Deadline.values if Complaint.objects.overdue(k, now=now).filter(pk=c.pk).exists()}


def eng(org):
    return org.a.dept[DepartmentType.ENGINEERING]


def dispatched_and_accepted(org, c: Complaint, at: dt.datetime) -> Complaint:
    c = services.dispatch(c, org.supervisor, department=eng(org), handler=org.handler, at=at)
    return services.accept(c, org.handler, at=at + MIN)


def resolved(org, c: Complaint, at: dt.datetime) -> Complaint:
    if c.status == Status.RECEIVED:
        c = dispatched_and_accepted(org, c, c.received_at + 5 * MIN)
    return services.resolve(c, org.handler, resolution="已更换门机板，电梯运行正常。", at=at)


# ---------------------------------------------------------------------------------------------
# the three severities, received on a working morning


@pytest.mark.parametrize("severity", ["general", ""], ids=["general", "not-yet-assessed"])
def test_general_complaint_received_tuesday_morning_forwards_in_20_min_and_resolves_in_24_working_hours(
    org, severity
):
    c = register(org, local(2026, 3, 10, 10, 0), severity=severity)
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 20),
        # Tue 10:00–19:00 = 9 h, Wed 11 h (20 h), Thu 08:00 + 4 h.
        resolve_due_at=local(2026, 3, 12, 12, 0),
        # No report deadline; the committed answer is 48 clock hours after receipt.
        committed_answer_at=local(2026, 3, 12, 10, 0),
    )


def test_minor_complaint_forwards_in_30_minutes(org):
    c = register(org, local(2026, 3, 10, 10, 0), severity="minor")
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 30),
        resolve_due_at=local(2026, 3, 12, 12, 0),
        committed_answer_at=local(2026, 3, 12, 10, 0),
    )


@pytest.mark.parametrize(
    "judgement",
    [{"severity": "major"}, {"is_major": True}, {"is_major": True, "severity": "minor"}],
    ids=["severity-major", "major-flag-only", "major-flag-over-minor"],
)
def test_major_complaint_forwards_in_10_min_reports_within_the_hour_and_resolves_in_24_clock_hours(
    org, judgement
):
    c = register(org, local(2026, 3, 10, 10, 0), **judgement)
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 10),
        report_due_at=local(2026, 3, 10, 11, 0),
        resolve_due_at=local(2026, 3, 11, 10, 0),  # 24 clock hours
        committed_answer_at=local(2026, 3, 11, 10, 0),  # major answers within 24 h
        onsite_callback_required=True,
    )


# ---------------------------------------------------------------------------------------------
# night duty: general/minor wait for the next working morning, major runs at once


@pytest.mark.parametrize(
    "received, forward, resolve",
    [
        # Tue 23:30 → Wed 08:00 starts both clocks: Wed 11 h, Thu 11 h, Fri 08:00 + 2 h.
        (local(2026, 3, 10, 23, 30), local(2026, 3, 11, 8, 20), local(2026, 3, 13, 10, 0)),
        # Before the window opens on a working day: same morning.
        (local(2026, 3, 11, 7, 59), local(2026, 3, 11, 8, 20), local(2026, 3, 13, 10, 0)),
        # 19:00 is already outside the window [08:00, 19:00).
        (local(2026, 3, 10, 19, 0), local(2026, 3, 11, 8, 20), local(2026, 3, 13, 10, 0)),
        # 18:59 is inside: the forward clock runs at once (past closing time);
        # resolve: 1 min Tue, Wed 11 h, Thu 11 h, Fri 08:00 + 1 h 59 min.
        (local(2026, 3, 10, 18, 59), local(2026, 3, 10, 19, 19), local(2026, 3, 13, 9, 59)),
        # Friday 22:00 → Monday 08:00: Mon 11 h, Tue 11 h, Wed 08:00 + 2 h.
        (local(2026, 3, 13, 22, 0), local(2026, 3, 16, 8, 20), local(2026, 3, 18, 10, 0)),
        # Saturday noon: the same Monday morning.
        (local(2026, 3, 14, 12, 0), local(2026, 3, 16, 8, 20), local(2026, 3, 18, 10, 0)),
    ],
    ids=["tue-23:30", "wed-07:59", "tue-19:00", "tue-18:59", "fri-22:00", "sat-12:00"],
)
def test_general_complaint_outside_working_hours_forwards_from_the_next_working_morning(
    org, received, forward, resolve
):
    c = register(org, received)
    assert (c.forward_due_at, c.resolve_due_at) == (forward, resolve)
    assert due(c) == expect(
        forward_due_at=forward, resolve_due_at=resolve, committed_answer_at=PROMISED[received]
    )


# The promised answer: 48 hours, moved into the office's working window when that falls outside it
# (the end of the last working window before, at least a whole working day after receipt).
PROMISED = {
    local(2026, 3, 10, 23, 30): local(2026, 3, 12, 19, 0),  # Thu 23:30 → Thu 19:00
    local(2026, 3, 11, 7, 59): local(2026, 3, 12, 19, 0),  # Fri 07:59 → Thu 19:00
    local(2026, 3, 10, 19, 0): local(2026, 3, 12, 19, 0),  # Thu 19:00: at closing, kept
    local(2026, 3, 10, 18, 59): local(2026, 3, 12, 18, 59),  # inside the window, kept
    local(2026, 3, 13, 22, 0): local(2026, 3, 16, 19, 0),  # Sun 22:00 → Fri 19:00 is too soon → Mon 19:00
    local(2026, 3, 14, 12, 0): local(2026, 3, 16, 12, 0),  # Mon 12:00, kept
}


def test_a_call_at_3am_on_thursday_is_promised_within_fridays_working_window_and_the_sms_says_so(org):
    from kesu.notify.models import Outbox

    c = register(org, local(2026, 3, 12, 3, 0))  # Thursday 03:00; 48 h would be Saturday 03:00
    assert c.committed_answer_at == local(2026, 3, 13, 19, 0)
    sms = Outbox.objects.get(complaint=c, kind="ack")
    assert "2026-03-13 19:00" in sms.body


def test_the_promise_keeps_clock_hours_where_the_policy_says_so(org):
    from kesu.complaints.models import SlaPolicy

    policy = SlaPolicy.objects.get(office=None, severity="general")
    policy.answer_in_working_window = False
    policy.save()
    c = register(org, local(2026, 3, 10, 23, 30))
    assert c.committed_answer_at == local(2026, 3, 12, 23, 30)


def test_minor_complaint_at_night_also_waits_for_the_morning(org):
    c = register(org, local(2026, 3, 10, 23, 30), severity="minor")
    assert c.forward_due_at == local(2026, 3, 11, 8, 30)


def test_major_complaint_at_night_runs_at_once(org):
    c = register(org, local(2026, 3, 10, 23, 30), severity="major")
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 23, 40),
        report_due_at=local(2026, 3, 11, 0, 30),
        resolve_due_at=local(2026, 3, 11, 23, 30),
        committed_answer_at=local(2026, 3, 11, 23, 30),
        onsite_callback_required=True,
    )


def test_major_complaint_on_the_eve_of_national_day_runs_at_once(org):
    c = register(org, local(2026, 9, 30, 23, 30), is_major=True)
    assert (c.forward_due_at, c.report_due_at, c.resolve_due_at) == (
        local(2026, 9, 30, 23, 40),
        local(2026, 10, 1, 0, 30),
        local(2026, 10, 1, 23, 30),
    )


# ---------------------------------------------------------------------------------------------
# holidays and make-up days (2026 from chinesecalendar)


@pytest.mark.parametrize(
    "received, forward, resolve",
    [
        # Eve of National Day, evening: Oct 1–7 off, so Thu Oct 8 08:00; Oct 8 11 h, Oct 9 11 h,
        # then the make-up Saturday Oct 10 08:00 + 2 h.
        (local(2026, 9, 30, 20, 0), local(2026, 10, 8, 8, 20), local(2026, 10, 10, 10, 0)),
        # Eve of National Day, morning: Sep 30 9 h, Oct 8 11 h, Oct 9 08:00 + 4 h.
        (local(2026, 9, 30, 10, 0), local(2026, 9, 30, 10, 20), local(2026, 10, 9, 12, 0)),
        # Received during the holiday: the same as the eve's evening.
        (local(2026, 10, 3, 11, 0), local(2026, 10, 8, 8, 20), local(2026, 10, 10, 10, 0)),
        # Saturday before the make-up Sunday Sep 20: the forward clock starts that Sunday;
        # Sun 11 h, Mon 11 h, Tue 08:00 + 2 h.
        (local(2026, 9, 19, 10, 0), local(2026, 9, 20, 8, 20), local(2026, 9, 22, 10, 0)),
        # Mid-Autumn: Thu 9 h, Fri 25–Sun 27 off, Mon 28 11 h, Tue 29 08:00 + 4 h.
        (local(2026, 9, 24, 10, 0), local(2026, 9, 24, 10, 20), local(2026, 9, 29, 12, 0)),
        # Spring Festival: Thu Feb 12 2 h, Fri 11 h, make-up Sat Feb 14 08:00 + 11 h = 19:00.
        (local(2026, 2, 12, 17, 0), local(2026, 2, 12, 17, 20), local(2026, 2, 14, 19, 0)),
        # Fri Feb 13 2 h, make-up Sat Feb 14 11 h, Feb 15–23 off, Tue Feb 24 08:00 + 11 h.
        (local(2026, 2, 13, 17, 0), local(2026, 2, 13, 17, 20), local(2026, 2, 24, 19, 0)),
        # The make-up Saturday is a working day: in the window, the clock runs at once;
        # Sat 10 h, Tue Feb 24 11 h, Wed 08:00 + 3 h.
        (local(2026, 2, 14, 9, 0), local(2026, 2, 14, 9, 20), local(2026, 2, 25, 11, 0)),
        # Received on the first day of the holiday: Tue Feb 24 08:00; Tue 11 h, Wed 11 h, Thu + 2 h.
        (local(2026, 2, 15, 10, 0), local(2026, 2, 24, 8, 20), local(2026, 2, 26, 10, 0)),
        # Fri Feb 27 9 h, make-up Sat Feb 28 11 h, Mon Mar 2 08:00 + 4 h.
        (local(2026, 2, 27, 10, 0), local(2026, 2, 27, 10, 20), local(2026, 3, 2, 12, 0)),
    ],
    ids=[
        "national-day-eve-evening",
        "national-day-eve-morning",
        "in-national-day",
        "before-makeup-sunday",
        "mid-autumn",
        "spring-festival-ends-on-makeup-saturday",
        "spring-festival-across",
        "on-makeup-saturday",
        "in-spring-festival",
        "makeup-saturday-feb-28",
    ],
)
def test_working_hours_skip_weekends_and_holidays_and_count_make_up_days(org, received, forward, resolve):
    c = register(org, received)
    assert (c.forward_due_at, c.resolve_due_at) == (forward, resolve)
    assert (due(c)["forward_due_at"], due(c)["resolve_due_at"]) == (forward, resolve)


def test_year_end_2026_into_2027_uses_the_fallback_calendar(org):
    # Thu Dec 31 9 h; Jan 1 (fallback holiday), Sat, Sun off; Mon Jan 4 11 h; Tue Jan 5 08:00 + 4 h.
    day = register(org, local(2026, 12, 31, 10, 0))
    assert due(day) == expect(
        forward_due_at=local(2026, 12, 31, 10, 20),
        resolve_due_at=local(2027, 1, 5, 12, 0),
        # 48 h is a holiday Saturday; the office's last window before it (Thu 19:00) leaves no whole
        # working day, so the first one after receipt: Monday 4 January, 19:00.
        committed_answer_at=local(2027, 1, 4, 19, 0),
    )
    # New Year's Eve, evening: Mon Jan 4 08:00; Mon 11 h, Tue 11 h, Wed 08:00 + 2 h.
    evening = register(org, local(2026, 12, 31, 20, 0))
    assert (evening.forward_due_at, evening.resolve_due_at) == (
        local(2027, 1, 4, 8, 20),
        local(2027, 1, 6, 10, 0),
    )


def test_calendar_override_moves_the_deadline_even_after_the_calendar_was_cached(org):
    before = register(org, local(2026, 12, 31, 10, 0))  # reads (and caches) the overrides
    assert before.resolve_due_at == local(2027, 1, 5, 12, 0)

    CalendarOverride.objects.create(date=dt.date(2027, 1, 4), is_workday=False, name="元旦调休")
    # Dec 31 9 h; Jan 1–4 off; Tue Jan 5 11 h; Wed Jan 6 08:00 + 4 h.
    day = register(org, local(2026, 12, 31, 10, 0))
    assert day.resolve_due_at == local(2027, 1, 6, 12, 0)
    night = register(org, local(2026, 12, 31, 20, 0))
    assert night.forward_due_at == local(2027, 1, 5, 8, 20)
    # Stored deadlines of earlier complaints are not rewritten behind anyone's back.
    assert due(before)["resolve_due_at"] == local(2027, 1, 5, 12, 0)

    # A working Saturday: Dec 31 9 h, Sat Jan 2 11 h, then Tue Jan 5 (Jan 4 still off) 08:00 + 4 h.
    CalendarOverride.objects.create(date=dt.date(2027, 1, 2), is_workday=True, name="调休上班")
    assert register(org, local(2026, 12, 31, 10, 0)).resolve_due_at == local(2027, 1, 5, 12, 0)

    # Deleting the overrides restores the fallback calendar.
    CalendarOverride.objects.all().delete()
    assert register(org, local(2026, 12, 31, 10, 0)).resolve_due_at == local(2027, 1, 5, 12, 0)
    assert register(org, local(2026, 12, 31, 20, 0)).forward_due_at == local(2027, 1, 4, 8, 20)


def test_calendar_override_beats_the_official_calendar_in_a_covered_year(org):
    assert register(org, local(2026, 3, 10, 10, 0)).resolve_due_at == local(2026, 3, 12, 12, 0)
    CalendarOverride.objects.create(date=dt.date(2026, 3, 11), is_workday=False, name="公司活动")
    # Tue 9 h, Wed off, Thu 11 h, Fri 08:00 + 4 h.
    assert register(org, local(2026, 3, 10, 10, 0)).resolve_due_at == local(2026, 3, 13, 12, 0)


# ---------------------------------------------------------------------------------------------
# per-office configuration


def test_office_window_changes_the_deadlines(org):
    office = org.a.office
    office.work_start, office.work_end = dt.time(9, 0), dt.time(17, 30)  # 8.5 h a day
    office.save()

    c = register(org, local(2026, 3, 10, 10, 0))
    # Tue 7.5 h, Wed 8.5 h (16 h), Thu 09:00 + 8 h.
    assert (c.forward_due_at, c.resolve_due_at) == (local(2026, 3, 10, 10, 20), local(2026, 3, 12, 17, 0))

    early = register(org, local(2026, 3, 10, 8, 30))  # before this office opens
    # Tue 8.5 h, Wed 8.5 h (17 h), Thu 09:00 + 7 h.
    assert (early.forward_due_at, early.resolve_due_at) == (
        local(2026, 3, 10, 9, 20),
        local(2026, 3, 12, 16, 0),
    )

    late = register(org, local(2026, 3, 10, 17, 45))  # after it closes
    # Wed 8.5 h, Thu 8.5 h (17 h), Fri 09:00 + 7 h.
    assert (late.forward_due_at, late.resolve_due_at) == (
        local(2026, 3, 11, 9, 20),
        local(2026, 3, 13, 16, 0),
    )

    # Office B keeps the default window 08:00–19:00: 17:45 is working time there.
    b = register(org, local(2026, 3, 10, 17, 45), office=org.b)
    # Tue 1 h 15 min, Wed 11 h, Thu 11 h (23 h 15 min), Fri 08:00 + 45 min.
    assert (b.forward_due_at, b.resolve_due_at) == (local(2026, 3, 10, 18, 5), local(2026, 3, 13, 8, 45))


def test_office_policy_row_overrides_the_company_default_row(org):
    company = SlaPolicy.objects.get(office=None, severity="general")  # seeded by migration 0003
    company.forward_minutes, company.resolve_hours = 15, 16
    company.save()
    SlaPolicy.objects.create(
        office=org.a.office, severity="general", forward_minutes=5, resolve_hours=8, answer_hours=4
    )

    a = register(org, local(2026, 3, 10, 10, 0))
    assert due(a) == expect(
        forward_due_at=local(2026, 3, 10, 10, 5),
        resolve_due_at=local(2026, 3, 10, 18, 0),  # 8 working hours inside Tuesday
        committed_answer_at=local(2026, 3, 10, 14, 0),
    )
    b = register(org, local(2026, 3, 10, 10, 0), office=org.b)
    assert due(b) == expect(
        forward_due_at=local(2026, 3, 10, 10, 15),
        resolve_due_at=local(2026, 3, 11, 15, 0),  # Tue 9 h, Wed 08:00 + 7 h
        committed_answer_at=local(2026, 3, 12, 10, 0),
    )
    # The office row is only for general complaints: minor ones in office A use the company row.
    minor = register(org, local(2026, 3, 10, 10, 0), severity="minor")
    assert (minor.forward_due_at, minor.resolve_due_at) == (
        local(2026, 3, 10, 10, 30),
        local(2026, 3, 12, 12, 0),
    )


def test_office_policy_in_clock_hours(org):
    SlaPolicy.objects.create(
        office=org.a.office,
        severity="general",
        forward_minutes=20,
        resolve_hours=24,
        resolve_in_working_hours=False,
    )
    c = register(org, local(2026, 3, 13, 22, 0))  # Friday night
    assert (c.forward_due_at, c.resolve_due_at) == (local(2026, 3, 16, 8, 20), local(2026, 3, 14, 22, 0))


# ---------------------------------------------------------------------------------------------
# the time the complainant asked for


def test_minor_complaint_honours_an_earlier_requested_time(org):
    c = register(org, local(2026, 3, 10, 10, 0), severity="minor", requested_by=local(2026, 3, 11, 12, 0))
    assert c.resolve_due_at == local(2026, 3, 11, 12, 0)


def test_minor_complaint_keeps_its_24_working_hours_when_the_requested_time_is_later(org):
    c = register(org, local(2026, 3, 10, 10, 0), severity="minor", requested_by=local(2026, 3, 13, 9, 0))
    assert c.resolve_due_at == local(2026, 3, 12, 12, 0)


def test_general_complaint_ignores_the_requested_time(org):
    c = register(org, local(2026, 3, 10, 10, 0), severity="general", requested_by=local(2026, 3, 11, 12, 0))
    assert c.resolve_due_at == local(2026, 3, 12, 12, 0)
    # ...until it is judged minor; and judged general again, the requested time no longer applies.
    c = services.assess(c, org.cs_manager, severity="minor", reason="影响轻微", at=local(2026, 3, 10, 10, 5))
    assert due(c)["resolve_due_at"] == local(2026, 3, 11, 12, 0)
    c = services.assess(c, org.cs_manager, severity="general", reason="复核", at=local(2026, 3, 10, 10, 6))
    assert due(c)["resolve_due_at"] == local(2026, 3, 12, 12, 0)


# ---------------------------------------------------------------------------------------------
# recomputation through the lifecycle


def _changes(c: Complaint, type: str) -> dict:
    event = ComplaintEvent.objects.filter(complaint=c, type=type).latest("id")
    return {
        k: [dt.datetime.fromisoformat(v) if isinstance(v, str) and k.endswith("_at") else v for v in pair]
        for k, pair in event.changes.items()
    }


@pytest.mark.parametrize(
    "judgement",
    [{"severity": "major", "reason": "业主已向媒体反映"}, {"is_major": True}],
    ids=["severity-revised-to-major", "major-flag"],
)
def test_assessing_a_general_complaint_as_major_runs_the_major_limits_from_the_judgement(org, judgement):
    registered = {"severity": "general"} if "severity" in judgement else {}
    c = register(org, local(2026, 3, 10, 10, 0), **registered)
    c = services.assess(c, org.supervisor, at=local(2026, 3, 10, 10, 5), **judgement)
    assert c.major_at == local(2026, 3, 10, 10, 5)
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 15),
        report_due_at=local(2026, 3, 10, 11, 5),
        resolve_due_at=local(2026, 3, 11, 10, 5),
        # The promise (Thu 10:00) would now fall after the resolution deadline: brought forward to the
        # major answer time from the judgement, and the complainant is told.
        committed_answer_at=local(2026, 3, 11, 10, 5),
        onsite_callback_required=True,
    )
    from kesu.notify.models import Outbox

    told = Outbox.objects.get(complaint=c, kind="promise", channel="sms")
    assert "2026-03-11 10:05" in told.body and told.address == c.complainant_phone
    changes = _changes(c, EventType.ASSESSED)
    assert changes["committed_answer_at"] == [local(2026, 3, 12, 10, 0), local(2026, 3, 11, 10, 5)]
    assert changes["forward_due_at"] == [local(2026, 3, 10, 10, 20), local(2026, 3, 10, 10, 15)]
    assert changes["report_due_at"] == [None, local(2026, 3, 10, 11, 5)]
    assert changes["resolve_due_at"] == [local(2026, 3, 12, 12, 0), local(2026, 3, 11, 10, 5)]
    assert "callback_due_at" not in changes


def test_assessing_as_major_at_night_starts_the_forward_clock_at_once(org):
    c = register(org, local(2026, 3, 10, 23, 30))
    assert c.forward_due_at == local(2026, 3, 11, 8, 20)
    c = services.assess(c, org.supervisor, is_major=True, at=local(2026, 3, 10, 23, 35))
    assert (c.forward_due_at, c.report_due_at) == (local(2026, 3, 10, 23, 45), local(2026, 3, 11, 0, 35))


def test_a_judgement_that_leaves_the_promise_before_the_resolution_deadline_keeps_it(org):
    from kesu.notify.models import Outbox

    c = register(org, local(2026, 3, 10, 10, 0))
    c = services.assess(c, org.supervisor, severity="minor", at=local(2026, 3, 10, 10, 5))
    assert c.committed_answer_at == local(2026, 3, 12, 10, 0)
    assert not Outbox.objects.filter(complaint=c, kind="promise").exists()


@pytest.mark.parametrize(
    "registered, revision, forward",
    [
        ({"severity": "major"}, {"severity": "minor"}, local(2026, 3, 10, 10, 30)),
        ({"severity": "major"}, {"severity": "general"}, local(2026, 3, 10, 10, 20)),
        ({"is_major": True}, {"is_major": False}, local(2026, 3, 10, 10, 20)),
    ],
    ids=["major-to-minor", "major-to-general", "major-flag-withdrawn"],
)
def test_deadlines_are_recomputed_when_severity_is_revised_downwards(org, registered, revision, forward):
    c = register(org, local(2026, 3, 10, 10, 0), **registered)
    assert c.report_due_at == local(2026, 3, 10, 11, 0)
    c = services.assess(c, org.cs_manager, reason="经核实影响较小", at=local(2026, 3, 10, 10, 5), **revision)
    assert due(c) == expect(
        forward_due_at=forward,
        resolve_due_at=local(2026, 3, 12, 12, 0),
        committed_answer_at=local(2026, 3, 11, 10, 0),  # the 24 h promised at intake stands
    )
    changes = _changes(c, EventType.ASSESSED)
    assert changes["report_due_at"] == [local(2026, 3, 10, 11, 0), None]
    assert changes["resolve_due_at"] == [local(2026, 3, 11, 10, 0), local(2026, 3, 12, 12, 0)]


def test_resolving_starts_the_24_hour_callback_clock(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    c = resolved(org, c, local(2026, 3, 11, 15, 0))
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 20),
        resolve_due_at=local(2026, 3, 12, 12, 0),
        callback_due_at=local(2026, 3, 12, 15, 0),
        committed_answer_at=local(2026, 3, 12, 10, 0),
    )
    assert _changes(c, EventType.RESOLVED)["callback_due_at"] == [None, local(2026, 3, 12, 15, 0)]


def test_callback_clock_is_in_clock_hours_over_the_weekend(org):
    c = resolved(org, register(org, local(2026, 3, 13, 10, 0)), local(2026, 3, 13, 18, 30))  # Friday
    assert c.callback_due_at == local(2026, 3, 14, 18, 30)


def test_major_complaint_is_called_back_on_site_within_24_hours(org):
    c = resolved(org, register(org, local(2026, 3, 10, 10, 0), severity="major"), local(2026, 3, 10, 16, 0))
    assert (c.callback_due_at, c.onsite_callback_required) == (local(2026, 3, 11, 16, 0), True)


def test_reopening_sets_the_rectify_deadline_and_resolving_again_restarts_the_callback_clock(org):
    c = resolved(org, register(org, local(2026, 3, 10, 10, 0)), local(2026, 3, 11, 15, 0))
    with pytest.raises(ValidationError):  # a rectify deadline in the past is refused
        services.call_back(
            c,
            org.supervisor,
            method="phone",
            satisfaction="dissatisfied",
            words="还是经常停",
            rectify_due_at=local(2026, 3, 12, 9, 0),
            at=local(2026, 3, 12, 9, 10),
        )
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="还是经常停",
        rectify_due_at=local(2026, 3, 13, 17, 0),
        at=local(2026, 3, 12, 9, 10),
    )
    assert c.status == Status.RECTIFYING
    assert due(c) == expect(
        forward_due_at=local(2026, 3, 10, 10, 20),
        resolve_due_at=local(2026, 3, 12, 12, 0),
        rectify_due_at=local(2026, 3, 13, 17, 0),
        committed_answer_at=local(2026, 3, 12, 10, 0),
    )
    changes = _changes(c, EventType.REOPENED)
    assert changes["rectify_due_at"] == [None, local(2026, 3, 13, 17, 0)]
    assert changes["callback_due_at"] == [local(2026, 3, 12, 15, 0), None]

    c = services.resolve(c, org.handler, resolution="更换曳引机", at=local(2026, 3, 13, 16, 0))
    assert due(c)["callback_due_at"] == local(2026, 3, 14, 16, 0)


# ---------------------------------------------------------------------------------------------
# overdue, as a query, for each kind of deadline


def test_forward_overdue_until_dispatched(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    assert overdue_kinds(c, local(2026, 3, 10, 10, 20)) == set()  # due, not yet passed
    assert overdue_kinds(c, local(2026, 3, 10, 10, 21)) == {"forward"}
    assert list(Complaint.objects.overdue(now=local(2026, 3, 10, 10, 21))) == [c]
    services.dispatch(c, org.supervisor, department=eng(org), at=local(2026, 3, 10, 10, 25))
    assert overdue_kinds(c, local(2026, 3, 10, 10, 30)) == set()


def test_night_complaint_is_not_forward_overdue_before_the_morning_clock_runs_out(org):
    c = register(org, local(2026, 3, 10, 23, 30))
    assert overdue_kinds(c, local(2026, 3, 11, 8, 19)) == set()
    assert overdue_kinds(c, local(2026, 3, 11, 8, 21)) == {"forward"}


def test_report_overdue_until_escalated_to_the_company_tier(org):
    c = register(org, local(2026, 3, 10, 10, 0), severity="major")
    c = services.dispatch(c, org.supervisor, department=eng(org), at=local(2026, 3, 10, 10, 5))
    c = services.escalate(c, org.cs_manager, reason="报管理处主任", tier=2, at=local(2026, 3, 10, 10, 30))
    assert c.reported_at is None
    assert overdue_kinds(c, local(2026, 3, 10, 11, 0)) == set()
    assert overdue_kinds(c, local(2026, 3, 10, 11, 1)) == {"report"}  # the office tier is not the company
    c = services.escalate(c, org.director, reason="上报公司品质部", tier=3, at=local(2026, 3, 10, 11, 10))
    assert due(c)["report_due_at"] == local(2026, 3, 10, 11, 0)
    assert Complaint.objects.get(pk=c.pk).reported_at == local(2026, 3, 10, 11, 10)
    assert overdue_kinds(c, local(2026, 3, 10, 11, 15)) == set()


def test_report_never_overdue_when_reported_in_time(org):
    c = register(org, local(2026, 3, 10, 10, 0), is_major=True)
    c = services.escalate(
        c, org.reception, reason="媒体已介入，直接上报公司", tier=3, at=local(2026, 3, 10, 10, 3)
    )
    c = services.dispatch(c, org.supervisor, department=eng(org), at=local(2026, 3, 10, 10, 5))
    assert overdue_kinds(c, local(2026, 3, 10, 12, 0)) == set()


def test_answer_overdue_until_the_complainant_is_told(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    c = services.dispatch(c, org.supervisor, department=eng(org), at=local(2026, 3, 10, 10, 5))
    assert overdue_kinds(c, local(2026, 3, 12, 10, 0)) == set()
    assert overdue_kinds(c, local(2026, 3, 12, 10, 1)) == {"answer"}
    c = services.note(c, org.supervisor, text="已联系电梯维保单位", at=local(2026, 3, 12, 10, 30))
    assert overdue_kinds(c, local(2026, 3, 12, 10, 31)) == {"answer"}  # an internal note is no answer
    c = services.note(
        c,
        org.supervisor,
        text="维保单位明天上午到场检修",
        tell_complainant=True,
        at=local(2026, 3, 12, 10, 40),
    )
    assert Complaint.objects.get(pk=c.pk).answered_at == local(2026, 3, 12, 10, 40)
    assert overdue_kinds(c, local(2026, 3, 12, 10, 41)) == set()


def test_answer_at_the_time_given_at_intake(org):
    c = register(org, local(2026, 3, 10, 10, 0), committed_answer_at=local(2026, 3, 10, 17, 0))
    assert overdue_kinds(c, local(2026, 3, 10, 17, 1)) == {"forward", "answer"}


def test_resolve_overdue_until_resolved_then_callback_overdue_until_called_back(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    c = dispatched_and_accepted(org, c, local(2026, 3, 10, 10, 5))
    c = services.note(
        c, org.supervisor, text="已派工程部处理", tell_complainant=True, at=local(2026, 3, 10, 11, 0)
    )
    assert overdue_kinds(c, local(2026, 3, 12, 12, 0)) == set()
    assert overdue_kinds(c, local(2026, 3, 12, 12, 1)) == {"resolve"}

    c = services.resolve(c, org.handler, resolution="已更换门机板", at=local(2026, 3, 12, 13, 0))
    assert overdue_kinds(c, local(2026, 3, 12, 13, 1)) == set()
    assert overdue_kinds(c, local(2026, 3, 13, 13, 0)) == set()
    assert overdue_kinds(c, local(2026, 3, 13, 13, 1)) == {"callback"}

    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="satisfied",
        words="已正常",
        at=local(2026, 3, 13, 14, 0),
    )
    assert overdue_kinds(c, local(2026, 3, 13, 14, 1)) == set()


def test_rectify_overdue_until_resolved_again(org):
    c = resolved(org, register(org, local(2026, 3, 10, 10, 0)), local(2026, 3, 11, 15, 0))
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="还是经常停",
        rectify_due_at=local(2026, 3, 13, 17, 0),
        at=local(2026, 3, 12, 9, 10),
    )
    # The original resolve deadline (Thu 12:00) has passed, but a rectifying complaint runs on its
    # rectify deadline.
    assert overdue_kinds(c, local(2026, 3, 13, 17, 0)) == set()
    assert overdue_kinds(c, local(2026, 3, 13, 17, 1)) == {"rectify"}
    c = services.resolve(c, org.handler, resolution="更换曳引机", at=local(2026, 3, 13, 17, 30))
    assert overdue_kinds(c, local(2026, 3, 13, 17, 31)) == set()


def test_closed_complaint_is_never_overdue(org):
    c = register(org, local(2026, 3, 10, 10, 0), nature="valid", severity="general", category="facilities")
    c = resolved(org, c, local(2026, 3, 11, 15, 0))
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="satisfied",
        words="满意",
        at=local(2026, 3, 11, 16, 0),
    )
    c = services.close(
        c,
        org.supervisor,
        lesson_cause="维保漏检",
        lesson_learned="复核维保记录",
        lesson_prevention="每月抽查",
        at=local(2026, 3, 11, 16, 5),
    )
    assert overdue_kinds(c, local(2027, 3, 1, 0, 0)) == set()


@pytest.mark.parametrize("end", ["withdraw", "decline"])
def test_withdrawn_or_declined_complaint_is_never_overdue(org, end):
    c = register(org, local(2026, 3, 10, 10, 0), severity="major")
    at = local(2026, 3, 10, 12, 0)
    assert overdue_kinds(c, at) == {"forward", "report"}
    if end == "withdraw":
        services.withdraw(c, org.reception, reason="投诉人撤回", at=at)
    else:
        services.decline(c, org.supervisor, reason="outside_responsibility", explanation="属市政管网", at=at)
    assert overdue_kinds(c, local(2027, 3, 1, 0, 0)) == set()


def test_due_soon_is_the_window_before_a_deadline_passes(org):
    c = register(org, local(2026, 3, 10, 10, 0))

    def soon(now, kind=None):
        return (
            Complaint.objects.filter(due_soon_q(dt.timedelta(minutes=30), kind, now=now))
            .filter(pk=c.pk)
            .exists()
        )

    assert not soon(local(2026, 3, 10, 9, 50), "forward")  # 10:20 is 30 min away: not yet within
    assert soon(local(2026, 3, 10, 9, 51), "forward")
    assert soon(local(2026, 3, 10, 10, 20), "forward")  # due now: still "soon", not yet overdue
    assert not soon(local(2026, 3, 10, 10, 21), "forward")  # passed: overdue instead
    assert not soon(local(2026, 3, 10, 10, 5), "resolve")
    assert soon(local(2026, 3, 12, 11, 45))  # any kind: resolve at Thu 12:00


def test_a_dissatisfied_callback_without_a_deadline_starts_rectification_by_the_policys_default(org):
    # It used to stay 已处理待回访 (不满意) until someone reopened it: a complaint nobody worked on.
    c = register(org, local(2026, 3, 10, 10, 0))
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], at=local(2026, 3, 10, 10, 5)
    )
    c = services.resolve(c, org.handler, resolution="已更换灯管", at=local(2026, 3, 10, 15, 0))
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="还是不亮",
        at=local(2026, 3, 10, 16, 0),
    )
    assert c.status == Status.RECTIFYING
    # 24 working hours from Tue 16:00 (window 08:00–19:00): 3 h Tue, 11 h Wed, 10 h Thu → Thu 18:00.
    assert c.rectify_due_at == local(2026, 3, 12, 18, 0)
    assert list(c.events.values_list("type", flat=True))[-2:] == [EventType.CALLED_BACK, EventType.REOPENED]


def test_a_dissatisfied_callback_with_a_rectification_deadline_reopens_at_once(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], at=local(2026, 3, 10, 10, 5)
    )
    c = services.resolve(c, org.handler, resolution="已更换灯管", at=local(2026, 3, 10, 15, 0))
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="还是不亮",
        rectify_due_at=local(2026, 3, 11, 12, 0),
        at=local(2026, 3, 10, 16, 0),
    )
    assert (c.status, c.rectify_due_at, c.reopen_count) == (Status.RECTIFYING, local(2026, 3, 11, 12, 0), 1)
    types = list(c.events.values_list("type", flat=True))
    assert types[-2:] == [EventType.CALLED_BACK, EventType.REOPENED]
    assert not Complaint.objects.filter(pk=c.pk).overdue("callback", now=local(2026, 3, 12, 0, 0)).exists()
    assert Complaint.objects.filter(pk=c.pk).overdue("rectify", now=local(2026, 3, 11, 12, 1)).exists()


def test_a_rectification_deadline_is_refused_when_the_complainant_is_satisfied(org):
    c = register(org, local(2026, 3, 10, 10, 0))
    c = services.resolve(c, org.supervisor, resolution="已解释清楚", at=local(2026, 3, 10, 11, 0))
    with pytest.raises(ValidationError) as e:
        services.call_back(
            c,
            org.supervisor,
            method="phone",
            satisfaction="satisfied",
            words="好的",
            rectify_due_at=local(2026, 3, 11, 12, 0),
            at=local(2026, 3, 10, 16, 0),
        )
    assert "rectify_due_at" in e.value.message_dict
