"""The company dashboard (看板) for the quality department and leaders: today, this month, what is
overdue right now by office, an office × category heat-map, and the offices whose complaints rose most
against their own recent past. Aggregate queries only, through `visible_to`.

Complaints are counted as the monthly report counts them: merged ones once, enquiries settled at the
counter (policy.settled_at_counter) apart — not at all here. An office's "own recent past" is only the
days since its first complaint: days before it have no data, which is not the same as no complaints
(a demo or a newly loaded office would otherwise show every office up three- or fourfold)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.choices import OPEN_STATUSES, Deadline, Nature, Status
from kesu.complaints.deadlines import DUE_FIELD, overdue_q, pending_q
from kesu.complaints.models import Category, Complaint
from kesu.complaints.policy import settled_at_counter_q
from kesu.org.models import Office, User

from .templatetags.reports_tags import list_url

RECENT_DAYS = 30  # the heat-map and the risers: the last 30 calendar days, today included
BASELINE_DAYS = 90  # the three 30-day windows before the recent one
# The least history before the recent window an office needs to be compared at all: one whole window.
MIN_BASELINE_DAYS = RECENT_DAYS


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def compute_dashboard(user: User, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start = _local_midnight(today)
    month_start = _local_midnight(today.replace(day=1))
    qs = Complaint.objects.visible_to(user).exclude(status=Status.MERGED)
    counted = qs.exclude(settled_at_counter_q())  # the complaints, as the report counts them

    def figures(since: dt.datetime) -> dict:
        received = counted.filter(received_at__gte=since).aggregate(
            received=Count("id"),
            valid=Count("id", filter=Q(nature=Nature.VALID)),
            major=Count("id", filter=Q(is_major=True)),
        )
        received["closed"] = counted.filter(status=Status.CLOSED, closed_at__gte=since).count()
        return received

    live = qs.aggregate(
        open=Count("id", filter=Q(status__in=list(OPEN_STATUSES))),
        overdue=Count("id", filter=overdue_q(None, now)),
    )

    # Overdue now, by office and kind of deadline.
    kinds = list(DUE_FIELD)
    per_kind = {k: Count("id", filter=pending_q(k) & Q(**{f"{DUE_FIELD[k]}__lt": now})) for k in kinds}
    overdue_rows = (
        qs.filter(overdue_q(None, now))
        .order_by()
        .values("office__code", "office__name")
        .annotate(total=Count("id"), **per_kind)
        .order_by("-total", "office__code")
    )
    overdue = [
        {
            "code": r["office__code"],
            "name": r["office__name"],
            "total": r["total"],
            "kinds": {k: r[k] for k in kinds if r[k]},
        }
        for r in overdue_rows
    ]

    # Heat-map: valid complaints of the last 30 days, office × category. Whole local days, so that a
    # cell's drill-down (a list from a date) shows exactly the complaints it counts.
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    recent_start = _local_midnight(since)
    offices = list(Office.objects.filter(is_active=True).order_by("code"))
    categories = list(Category.objects.filter(is_active=True).order_by("order", "code"))
    cells = {
        (r["office_id"], r["category_id"]): r["n"]
        for r in qs.filter(received_at__gte=recent_start, nature=Nature.VALID)
        .order_by()
        .values("office_id", "category_id")
        .annotate(n=Count("id"))
    }
    heat = {
        "offices": [{"code": o.code, "name": o.name} for o in offices],
        "categories": [{"code": c.code, "name": c.name} for c in categories],
        "cells": [
            [
                i,
                j,
                cells[(o.pk, c.pk)],
                list_url(
                    ("office", o.code),
                    ("nature", Nature.VALID),
                    ("category", c.code),
                    ("received_after", since.isoformat()),
                ),
            ]
            for i, o in enumerate(offices)
            for j, c in enumerate(categories)
            if cells.get((o.pk, c.pk))
        ],
    }

    risers, history = _risers(user, recent_start, since, now)
    links = {
        "today": list_url(("received_after", today.isoformat())),
        "month": list_url(("received_after", today.replace(day=1).isoformat())),
    }
    return {
        "links": links,
        "now": timezone.localtime(now).isoformat(timespec="minutes"),
        "now_label": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "today": figures(day_start),
        "month": figures(month_start),
        "live": live,
        "overdue_by_office": overdue,
        "deadline_names": {k: str(Deadline(k).label) for k in kinds},
        "heatmap": heat,
        "risers": risers[:5],
        "history": history,
        "month_label": _("%(year)s年%(month)s月") % {"year": today.year, "month": today.month},
    }


def _risers(
    user: User, recent_start: dt.datetime, since: dt.date, now: dt.datetime
) -> tuple[list[dict], dict]:
    """The offices whose complaints of the last 30 days rose most against their own average 30 days
    over the 90 before — or over the days since their first complaint when that is later (at least
    MIN_BASELINE_DAYS of them; an office with less history is not compared: 无数据). Also what the
    page says of the history: since when there is data, and which offices could not be compared."""
    base_start = recent_start - dt.timedelta(days=BASELINE_DAYS)
    everything = Complaint.objects.visible_to(user)  # merged and settled ones are data too
    counted = ~Q(status=Status.MERGED) & ~settled_at_counter_q()
    counts = (
        everything.filter(received_at__gte=base_start, received_at__lt=now)
        .order_by()
        .values("office_id")
        .annotate(
            recent=Count("id", filter=counted & Q(received_at__gte=recent_start)),
            before=Count("id", filter=counted & Q(received_at__lt=recent_start)),
            first=Min("received_at"),
        )
    )
    # An index probe per office: did it have complaints before the comparison's window?
    offices = Office.objects.annotate(
        older=Exists(everything.filter(office=OuterRef("pk"), received_at__lt=base_start))
    )
    by_id = {o.pk: o for o in offices}
    risers, short, starts = [], [], []
    for r in counts:
        o = by_id[r["office_id"]]
        days = BASELINE_DAYS
        if not o.older:
            first_day = timezone.localdate(r["first"])
            starts.append(first_day)
            days = min(BASELINE_DAYS, (timezone.localdate(recent_start) - first_day).days)
        if days < MIN_BASELINE_DAYS:
            if r["recent"]:
                short.append({"code": o.code, "name": o.name})
            continue
        baseline = r["before"] / (days / RECENT_DAYS)
        rise = r["recent"] - baseline
        if rise > 0:
            risers.append(
                {
                    "code": o.code,
                    "name": o.name,
                    "recent": r["recent"],
                    "url": list_url(("office", o.code), ("received_after", since.isoformat())),
                    "baseline": round(baseline, 1),
                    "baseline_days": days,
                    "shortened": days < BASELINE_DAYS,
                    "rise": round(rise, 1),
                    "ratio": None if baseline == 0 else round(r["recent"] / baseline, 2),
                }
            )
    risers.sort(key=lambda x: (-x["rise"], x["code"]))
    short.sort(key=lambda x: x["code"])
    # The first day with data, when the company's whole history is shorter than the comparison.
    earliest = None if any(o.older for o in by_id.values()) or not starts else min(starts)
    history = {
        "since": earliest.isoformat() if earliest else None,
        "since_label": f"{earliest.year}年{earliest.month}月{earliest.day}日" if earliest else "",
        "not_compared": short,
    }
    return risers, history


def chart_data(d: dict) -> dict:
    return {"heatmap": d["heatmap"], "overdue": d["overdue_by_office"][:25]}
