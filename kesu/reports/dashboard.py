"""The company dashboard (看板) for the quality department and leaders: today, this month, what is
overdue right now by office, an office × category heat-map, and the offices whose complaints rose most
against their own recent past. Aggregate queries only, through `visible_to`."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.choices import OPEN_STATUSES, Deadline, Nature, Status
from kesu.complaints.deadlines import DUE_FIELD, overdue_q, pending_q
from kesu.complaints.models import Category, Complaint
from kesu.org.models import Office, User

from .templatetags.reports_tags import list_url

RECENT_DAYS = 30  # the heat-map and the risers: the last 30 calendar days, today included
BASELINE_DAYS = 90  # the three 30-day windows before the recent one


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def compute_dashboard(user: User, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start = _local_midnight(today)
    month_start = _local_midnight(today.replace(day=1))
    qs = Complaint.objects.visible_to(user).exclude(status=Status.MERGED)

    def figures(since: dt.datetime) -> dict:
        received = qs.filter(received_at__gte=since).aggregate(
            received=Count("id"),
            valid=Count("id", filter=Q(nature=Nature.VALID)),
            major=Count("id", filter=Q(is_major=True)),
        )
        received["closed"] = qs.filter(status=Status.CLOSED, closed_at__gte=since).count()
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

    # Risers: the last 30 days against each office's own average 30 days over the 90 before.
    base_start = recent_start - dt.timedelta(days=BASELINE_DAYS)
    counts = (
        qs.filter(received_at__gte=base_start, received_at__lt=now)
        .order_by()
        .values("office_id")
        .annotate(
            recent=Count("id", filter=Q(received_at__gte=recent_start)),
            before=Count("id", filter=Q(received_at__lt=recent_start)),
        )
    )
    by_id = {o.pk: o for o in Office.objects.all()}
    risers = []
    for r in counts:
        baseline = r["before"] / (BASELINE_DAYS / RECENT_DAYS)
        rise = r["recent"] - baseline
        if rise > 0:
            o = by_id[r["office_id"]]
            risers.append(
                {
                    "code": o.code,
                    "name": o.name,
                    "recent": r["recent"],
                    "url": list_url(("office", o.code), ("received_after", since.isoformat())),
                    "baseline": round(baseline, 1),
                    "rise": round(rise, 1),
                    "ratio": None if baseline == 0 else round(r["recent"] / baseline, 2),
                }
            )
    risers.sort(key=lambda x: (-x["rise"], x["code"]))
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
        "month_label": _("%(year)s年%(month)s月") % {"year": today.year, "month": today.month},
    }


def chart_data(d: dict) -> dict:
    return {"heatmap": d["heatmap"], "overdue": d["overdue_by_office"][:25]}
