"""Deadlines as the staff see them: which are still pending for a complaint, how long is left,
and the colour (red overdue, amber due within the hour).

Which deadlines are pending is kesu.complaints.deadlines' (`is_pending`, the same definition as the
query `pending_q`), so lists need no extra query per row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.choices import Deadline
from kesu.complaints.deadlines import DUE_FIELD, is_pending

SOON = dt.timedelta(hours=1)


def short_label(kind: str) -> str:
    """What the deadline is for, as the clerk says it (Deadline's labels name the breach)."""
    return {
        Deadline.FORWARD: _("转呈"),
        Deadline.REPORT: _("上报公司"),
        Deadline.ANSWER: _("承诺答复"),
        Deadline.RESOLVE: _("处理"),
        Deadline.RECTIFY: _("整改"),
        Deadline.CALLBACK: _("回访"),
    }[kind]


@dataclass(frozen=True)
class Due:
    kind: str
    at: dt.datetime
    now: dt.datetime

    @property
    def label(self) -> str:
        return short_label(self.kind)

    @property
    def seconds_left(self) -> int:
        return int((self.at - self.now).total_seconds())

    @property
    def state(self) -> str:
        left = self.at - self.now
        if left < dt.timedelta(0):
            return "overdue"
        if left < SOON:
            return "soon"
        return "ok"

    @property
    def text(self) -> str:
        return countdown_text(self.seconds_left)


def pending(c, now: dt.datetime | None = None) -> list[Due]:
    """The deadlines still to be met, soonest first."""
    now = now or timezone.now()
    dues = [Due(kind, getattr(c, DUE_FIELD[kind]), now) for kind in DUE_FIELD if is_pending(c, kind)]
    return sorted(dues, key=lambda d: d.at)


def next_due(c, now: dt.datetime | None = None) -> Due | None:
    dues = pending(c, now)
    return dues[0] if dues else None


def countdown_text(seconds: int) -> str:
    """剩余 3天2小时 / 剩余 45分 / 已超时 2小时5分 (kesu.js writes the same words every 30 s)."""
    overdue = seconds < 0
    s = abs(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(rest // 60, 1) if not (days or hours) else rest // 60
    if days:
        span = _("%(d)d天%(h)d小时") % {"d": days, "h": hours}
    elif hours:
        span = _("%(h)d小时%(m)d分") % {"h": hours, "m": minutes}
    else:
        span = _("%(m)d分") % {"m": minutes}
    return (_("已超时 %(span)s") if overdue else _("剩余 %(span)s")) % {"span": span}


def js_strings() -> dict[str, str]:
    """The words kesu.js needs for live countdowns, in the page's language."""
    return {
        "overdue": _("已超时 %(span)s"),
        "left": _("剩余 %(span)s"),
        "dh": _("%(d)d天%(h)d小时"),
        "hm": _("%(h)d小时%(m)d分"),
        "m": _("%(m)d分"),
    }
