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

from .choices import OPEN_STATUSES, WORKING_STATUSES, Deadline, Satisfaction, Severity, Status
from .models import Complaint, SlaPolicy


@dataclass(frozen=True)
class Policy:
    forward_minutes: int
    night_waits_for_morning: bool
    report_minutes: int | None
    answer_hours: int
    resolve_hours: int
    resolve_in_working_hours: bool
    honour_requested_time: bool
    callback_hours: int
    callback_in_working_hours: bool
    callback_onsite_required: bool
    callback_by: str


# Defaults from SPEC §4 (companies configure their own in the admin: 处理时限).
DEFAULT_POLICIES: dict[str, Policy] = {
    # 重大: forward in 10 min; director at once and company within 1 h; resolve as fast as possible
    # (24 clock hours as the outer limit); on-site callback within 24 h by managers.
    Severity.MAJOR: Policy(
        10, False, 60, 24, 24, False, False, 24, False, True, SlaPolicy.CallbackBy.MANAGER
    ),
    # 一般: forward in 20 min; resolve within 24 working hours; callback within 24 h.
    Severity.GENERAL: Policy(
        20, True, None, 48, 24, True, False, 24, False, False, SlaPolicy.CallbackBy.SUPERVISOR
    ),
    # 轻微: forward in 30 min; 24 working hours or by the time the complainant asked.
    Severity.MINOR: Policy(
        30, True, None, 48, 24, True, True, 24, False, False, SlaPolicy.CallbackBy.SUPERVISOR
    ),
}

_POLICY_FIELDS = [f.name for f in fields(Policy)]


_POLICIES_KEY = "kesu:sla-policies"


def _policy_rows() -> dict[tuple[int | None, str], Policy]:
    # The policy table is tiny and read on every action; cached per process, dropped on change
    # (other processes pick a change up within the timeout).
    rows = cache.get(_POLICIES_KEY)
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
def _forget_policies(**kwargs) -> None:
    cache.delete(_POLICIES_KEY)
    transaction.on_commit(lambda: cache.delete(_POLICIES_KEY))


def company_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


_OVERRIDES_KEY = "kesu:calendar-overrides"


def calendar_overrides() -> dict[dt.date, bool]:
    overrides = cache.get(_OVERRIDES_KEY)
    if overrides is None:
        overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))
        cache.set(_OVERRIDES_KEY, overrides, 300)
    return overrides


@receiver([post_save, post_delete], sender=CalendarOverride)
def _forget_overrides(**kwargs) -> None:
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
    if c.resolved_at is not None:
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


def pending_q(kind: str) -> Q:
    """Complaints for which deadline `kind` is still an obligation (not yet met, not moot)."""
    if kind == Deadline.FORWARD:
        return Q(status=Status.RECEIVED, forward_due_at__isnull=False)
    if kind == Deadline.REPORT:
        return Q(status__in=OPEN_STATUSES, report_due_at__isnull=False, reported_at__isnull=True)
    if kind == Deadline.ANSWER:
        return Q(status__in=OPEN_STATUSES, committed_answer_at__isnull=False, answered_at__isnull=True)
    if kind == Deadline.RESOLVE:
        return Q(status__in=WORKING_STATUSES, resolve_due_at__isnull=False)
    if kind == Deadline.RECTIFY:
        return Q(status=Status.RECTIFYING, rectify_due_at__isnull=False)
    if kind == Deadline.CALLBACK:
        # Not called back yet, or called back 不满意 and not yet reopened: the loop is still open.
        return Q(status=Status.RESOLVED, callback_due_at__isnull=False) & (
            Q(called_back_at__isnull=True) | Q(satisfaction=Satisfaction.DISSATISFIED)
        )
    raise ValueError(f"unknown deadline kind {kind!r}")


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
