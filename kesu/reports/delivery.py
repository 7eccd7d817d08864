"""Scheduled delivery (定期报送): from the first working day of each month, the previous month's company
report is generated once and queued to every active quality-department user through the outbox.

The periodic job "monthly_report" (kesu.ops.jobs) calls it at the sweep's pace, in the embedded and the
scaled mode alike; the message is worded by the notification template "monthly_report". Cheap when there is nothing to do: the working-day check is pure Python and a
period already queued is remembered in the process. Safe to run from several processes: each row's
`delivery_key` (report:YYYY-MM:u<id>) is unique, so a user is queued once whoever gets there first.
A server that was down on the first working day catches up on the next pass that month.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from kesu.complaints.deadlines import calendar_overrides, company_tz
from kesu.notify import queue
from kesu.notify.models import Outbox
from kesu.org.choices import Role
from kesu.org.models import User
from kesu.worktime import WorkCalendar

from .monthly import compute, trend
from .period import Period, add_months
from .render import FORMATS, filename, render
from .summary import as_text

log = logging.getLogger("kesu.reports")
KIND = "monthly_report"
ATTACHED_FORMATS = ("pdf", "docx", "xlsx")
_queued: set[str] = set()  # periods this process has seen fully queued


def system_user() -> User:
    """A company-wide reader for reports made by the system itself (never saved)."""
    return User(username="kesu-system", role=Role.QUALITY, is_active=True, display_name="系统")


def first_working_day(year: int, month: int) -> dt.date:
    cal = WorkCalendar(company_tz(), overrides=calendar_overrides())
    day = dt.date(year, month, 1)
    while not cal.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def due_period(now: dt.datetime) -> Period | None:
    """The month whose report is due at `now`: last month, once this month's first working day came."""
    today = timezone.localdate(now, company_tz())
    if today < first_working_day(today.year, today.month):
        return None
    return Period.month_of(add_months(today.replace(day=1), -1))


def deliver_monthly(now: dt.datetime | None = None) -> int:
    """Queue last month's report to the quality department if due and not yet queued; rows queued."""
    now = now or timezone.now()
    period = due_period(now)
    if period is None or period.code in _queued:
        return 0
    prefix = f"report:{period.code}:u"
    recipients = list(User.objects.filter(role=Role.QUALITY, is_active=True).order_by("pk"))
    have = set(Outbox.objects.filter(delivery_key__startswith=prefix).values_list("user_id", flat=True))
    missing = [u for u in recipients if u.pk not in have]
    if not missing:
        _queued.add(period.code)
        return 0
    reader = system_user()
    report = compute(reader, period, as_of=now)
    t = trend(reader, period)
    files = {}
    for fmt in ATTACHED_FORMATS:
        name = f"reports/{period.code}/{filename(report, fmt)}"
        if default_storage.exists(name):
            default_storage.delete(name)
        files[fmt] = default_storage.save(name, ContentFile(render(report, fmt, t)))
    k = report["kpis"]
    context = {
        "title": report["title"],
        "total": report["total"],
        "valid": report["valid"],
        "major": report["major"],
        "in_time": _pct(k["resolved_in_time"]["value"]),
        "satisfaction": _pct(k["satisfaction"]["value"]),
        "summary": as_text(report["summary"]),
    }
    payload = {
        "month": period.code,
        "url": f"/reports/monthly/?month={period.code}",
        "files": {fmt: {"path": path, "content_type": FORMATS[fmt]} for fmt, path in files.items()},
    }
    rows = queue.to_users(
        KIND,
        missing,
        context,
        key=lambda u: f"{prefix}{u.pk}",
        at=now,
        payload=payload,
        ignore_conflicts=True,
    )
    log.info("monthly report %s queued to %d quality users", period.code, rows)
    return rows


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"
