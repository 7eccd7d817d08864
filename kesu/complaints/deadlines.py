"""SLA: which time limits apply to a complaint, the deadlines they give, and "overdue" as a query.

Deadlines are a pure function of the complaint's fields, its office's working window and the
policy; services.py calls `apply_deadlines` on every change so the columns are always current.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from kesu.org.models import CalendarOverride, Office
from kesu.worktime import WorkCalendar

from . import sla_defaults
from .choices import OPEN_STATUSES, WORKING_STATUSES, Deadline, Satisfaction, Severity, Status
from .models import Complaint, SlaPolicy
from .policy import needs_callback


@dataclass(frozen=True)
class Policy:
    forward_minutes: int
    night_waits_for_morning: bool
    report_minutes: int | None
    answer_hours: int
    answer_in_working_window: bool
    resolve_hours: int
    resolve_in_working_hours: bool
    honour_requested_time: bool
    callback_hours: int
    callback_in_working_hours: bool
    callback_onsite_required: bool
    callback_by: str


# The built-in time limits by severity (kesu.complaints.sla_defaults, the one copy of them).
DEFAULT_POLICIES: dict[str, Policy] = {
    severity: Policy(**values)  # type: ignore[arg-type]
    for severity, values in sla_defaults.DEFAULT_POLICIES.items()
}

_POLICY_FIELDS = [f.name for f in fields(Policy)]


_POLICIES_KEY = "kesu:sla-policies"


def _policy_rows() -> dict[tuple[int | None, str], Policy]:
    # The policy table is tiny and read on every action; cached per process, dropped on change
    # (other processes pick a change up within the timeout).
    rows: dict[tuple[int | None, str], Policy] | None = cache.get(_POLICIES_KEY)
    if rows is None:
        rows = {
            (row.office_id, row.severity): Policy(**{name: getattr(row, name) for name in _POLICY_FIELDS})
            for row in SlaPolicy.objects.all()
        }
        cache.set(_POLICIES_KEY, rows, 60)
    return rows


def policy_for(office: Office | int, severity: str) -> Policy:
    """The office's own row wins, then the company default row, then the built-in default."""
    office_id = office if isinstance(office, int) else office.pk
    rows = _policy_rows()
    return rows.get((office_id, severity)) or rows.get((None, severity)) or DEFAULT_POLICIES[severity]


@receiver([post_save, post_delete], sender=SlaPolicy)
def _forget_policies(**kwargs: object) -> None:
    cache.delete(_POLICIES_KEY)
    transaction.on_commit(lambda: cache.delete(_POLICIES_KEY))


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


_OVERRIDES_KEY = "kesu:calendar-overrides"


def calendar_overrides() -> dict[dt.date, bool]:
    overrides: dict[dt.date, bool] | None = cache.get(_OVERRIDES_KEY)
    if overrides is None:
        overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))
        cache.set(_OVERRIDES_KEY, overrides, 300)
    return overrides


@receiver([post_save, post_delete], sender=CalendarOverride)
def _forget_overrides(**kwargs: object) -> None:
    # Now (for this transaction's own reads) and again after commit (a concurrent read in between
    # would have put the old calendar back).
    cache.delete(_OVERRIDES_KEY)
    transaction.on_commit(lambda: cache.delete(_OVERRIDES_KEY))


def calendar_for(office: Office) -> WorkCalendar:
    return WorkCalendar(company_tz(), office.work_start, office.work_end, calendar_overrides())


def _after(start: dt.datetime, hours: int, working: bool, cal: WorkCalendar) -> dt.datetime:
    return cal.add_working_hours(start, hours) if working else start + dt.timedelta(hours=hours)


def compute_deadlines(c: Complaint, policy: Policy, cal: WorkCalendar) -> dict[str, object]:
    """The deadline columns for the complaint as it is now."""
    received = c.received_at
    if c.effective_severity == Severity.MAJOR and c.major_at and c.major_at > received:
        # Judged major after intake: its limits run from that judgement, not from a past nobody could act in.
        received = c.major_at
    forward_start = received
    if policy.night_waits_for_morning and not cal.in_window(received):
        # Night duty: general/minor complaints go to the CS staff first thing next working morning.
        forward_start = cal.next_window_start(received)
    resolve_due = _after(received, policy.resolve_hours, policy.resolve_in_working_hours, cal)
    if policy.honour_requested_time and c.requested_by and c.requested_by < resolve_due:
        resolve_due = c.requested_by
    callback_due = None
    if c.resolved_at is not None and needs_callback(c):  # an enquiry settled at the counter owes none
        callback_due = _after(c.resolved_at, policy.callback_hours, policy.callback_in_working_hours, cal)
    return {
        "forward_due_at": forward_start + dt.timedelta(minutes=policy.forward_minutes),
        "report_due_at": received + dt.timedelta(minutes=policy.report_minutes)
        if policy.report_minutes
        else None,
        "resolve_due_at": resolve_due,
        "callback_due_at": callback_due,
        "onsite_callback_required": policy.callback_onsite_required,
    }


def committed_answer_due(office: Office, severity: str, received: dt.datetime) -> dt.datetime:
    """The answer time promised to the complainant at intake (承诺答复时间) when the clerk names none:
    the policy's answer hours after receipt — and, where the policy keeps promises in the office's
    working window, never a time the office is closed: then the end of the last working window before
    it, but no earlier than the end of the first whole working window after receipt. The intake form,
    its page and the acknowledgement SMS all take it from here."""
    policy = policy_for(office, severity or Severity.GENERAL)
    due = received + dt.timedelta(hours=policy.answer_hours)
    if not policy.answer_in_working_window:
        return due
    cal = calendar_for(office)
    if cal.in_window(due):
        return due
    return max(cal.previous_window_end(due), cal.first_full_window_end(received))


def promise_after_judgement(c: Complaint) -> dt.datetime | None:
    """A new answer time when the complaint as judged now has its resolution deadline before the promise
    made to the complainant (judged 重大 after intake): the policy's answer time from the judgement,
    never after the resolution deadline. None while the promise still stands (or was kept)."""
    promise = c.committed_answer_at
    resolve_due = compute_deadlines(c, policy_for(c.office_id, c.effective_severity), calendar_for(c.office))[
        "resolve_due_at"
    ]
    assert resolve_due is None or isinstance(resolve_due, dt.datetime)
    if promise is None or c.answered_at is not None or resolve_due is None or promise <= resolve_due:
        return None
    start = c.major_at if c.effective_severity == Severity.MAJOR and c.major_at else c.received_at
    return min(committed_answer_due(c.office, c.effective_severity, start), resolve_due)


def default_rectify_due(c: Complaint, now: dt.datetime) -> dt.datetime:
    """When rectification (整改) after a dissatisfied callback is due if nobody names a time: the
    resolution time limit again, from now."""
    policy = policy_for(c.office_id, c.effective_severity)
    return _after(now, policy.resolve_hours, policy.resolve_in_working_hours, calendar_for(c.office))


DEADLINE_FIELDS = (
    "forward_due_at",
    "report_due_at",
    "resolve_due_at",
    "callback_due_at",
    "onsite_callback_required",
)


def apply_deadlines(c: Complaint, policy: Policy | None = None, cal: WorkCalendar | None = None) -> list[str]:
    """Recompute and set the deadline columns; return the names of those that changed."""
    policy = policy or policy_for(c.office_id, c.effective_severity)
    cal = cal or calendar_for(c.office)
    changed = []
    for name, value in compute_deadlines(c, policy, cal).items():
        if getattr(c, name) != value:
            setattr(c, name, value)
            changed.append(name)
    return changed


# Which column holds each kind of deadline, and when it counts as passed.
DUE_FIELD: dict[str, str] = {
    Deadline.FORWARD: "forward_due_at",
    Deadline.REPORT: "report_due_at",
    Deadline.ANSWER: "committed_answer_at",
    Deadline.RESOLVE: "resolve_due_at",
    Deadline.RECTIFY: "rectify_due_at",
    Deadline.CALLBACK: "callback_due_at",
}


# When each kind of deadline is still an obligation (not yet met, not moot): alternatives, each a set
# of field lookups that must all hold. The one definition behind both the query (`pending_q`, for
# lists, counts and the sweep) and the check on a loaded row (`is_pending`, for the page's clocks).
PENDING: dict[str, tuple[dict[str, object], ...]] = {
    Deadline.FORWARD: ({"status__in": {Status.RECEIVED}, "forward_due_at__isnull": False},),
    Deadline.REPORT: (
        {"status__in": OPEN_STATUSES, "report_due_at__isnull": False, "reported_at__isnull": True},
    ),
    Deadline.ANSWER: (
        {"status__in": OPEN_STATUSES, "committed_answer_at__isnull": False, "answered_at__isnull": True},
    ),
    Deadline.RESOLVE: ({"status__in": WORKING_STATUSES, "resolve_due_at__isnull": False},),
    Deadline.RECTIFY: ({"status__in": {Status.RECTIFYING}, "rectify_due_at__isnull": False},),
    # Not called back yet, or called back 不满意 and not yet reopened: the loop is still open.
    Deadline.CALLBACK: (
        {"status__in": {Status.RESOLVED}, "callback_due_at__isnull": False, "called_back_at__isnull": True},
        {
            "status__in": {Status.RESOLVED},
            "callback_due_at__isnull": False,
            "satisfaction": Satisfaction.DISSATISFIED,
        },
    ),
}


def _alternatives(kind: str) -> tuple[dict[str, object], ...]:
    try:
        return PENDING[kind]
    except KeyError:
        raise ValueError(f"unknown deadline kind {kind!r}") from None


def pending_q(kind: str) -> Q:
    """Complaints for which deadline `kind` is still an obligation (not yet met, not moot)."""
    q = Q()
    for lookups in _alternatives(kind):
        q |= Q(**lookups)
    return q


def _holds(c: Complaint, lookup: str, expected: object) -> bool:
    name, _, op = lookup.partition("__")
    value = getattr(c, name)
    if op == "in":
        return value in expected  # type: ignore[operator]
    if op == "isnull":
        return (value is None) is expected
    return bool(value == expected)


def is_pending(c: Complaint, kind: str) -> bool:
    """`pending_q(kind)` for one loaded row (no query)."""
    return any(all(_holds(c, k, v) for k, v in lookups.items()) for lookups in _alternatives(kind))


def overdue_q(kind: str | None = None, now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    kinds = [kind] if kind else list(DUE_FIELD)
    q = Q()
    for k in kinds:
        q |= pending_q(k) & Q(**{f"{DUE_FIELD[k]}__lt": now})
    return q


def due_soon_q(within: dt.timedelta, kind: str | None = None, now: dt.datetime | None = None) -> Q:
    now = now or timezone.now()
    kinds = [kind] if kind else list(DUE_FIELD)
    q = Q()
    for k in kinds:
        q |= pending_q(k) & Q(**{f"{DUE_FIELD[k]}__gte": now, f"{DUE_FIELD[k]}__lt": now + within})
    return q
