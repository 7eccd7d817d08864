"""Report periods: one or more whole local months in the company's time zone (settings.TIME_ZONE)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 24
FIRST_YEAR, LAST_YEAR = 2000, 2999  # a period's months and the months around it stay valid dates


class PeriodError(ValueError):
    """A bad month or range; `field` names the parameter at fault (month / to)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m + 1, 1)


def local_month(t: dt.datetime) -> dt.date:
    """The first day of the local month (settings.TIME_ZONE) an instant falls in."""
    return t.astimezone(_tz()).date().replace(day=1)


def parse_month(value: str, field: str = "month") -> dt.date:
    m = _MONTH.match((value or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PeriodError(
            field,
            _("月份格式应为 YYYY-MM（例如 2026-02），收到“%(value)s”。") % {"value": (value or "")[:20]},
        )
    if not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise PeriodError(
            field,
            _("月份须在 %(first)s 至 %(last)s 之间，收到“%(value)s”。")
            % {"first": f"{FIRST_YEAR}-01", "last": f"{LAST_YEAR}-12", "value": value.strip()},
        )
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


@dataclass(frozen=True)
class Period:
    first: dt.date  # first day of the first month
    last: dt.date  # first day of the last month (== first for one month)

    @classmethod
    def parse(cls, month: str, to: str | None = None) -> Period:
        first = parse_month(month, "month")
        last = parse_month(to, "to") if to else first
        if last < first:
            raise PeriodError("to", _("结束月份不能早于开始月份。"))
        period = cls(first, last)
        if period.months > MAX_MONTHS:
            raise PeriodError("to", _("一次最多统计 %(n)s 个月。") % {"n": MAX_MONTHS})
        return period

    @classmethod
    def month_of(cls, day: dt.date) -> Period:
        first = day.replace(day=1)
        return cls(first, first)

    @property
    def months(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    @property
    def start(self) -> dt.datetime:
        """First instant, local midnight of the first day."""
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=_tz())

    @property
    def end(self) -> dt.datetime:
        """First instant after the period (exclusive)."""
        return dt.datetime.combine(add_months(self.last, 1), dt.time.min, tzinfo=_tz())

    @property
    def last_day(self) -> dt.date:
        return add_months(self.last, 1) - dt.timedelta(days=1)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(add_months(self.first, -self.months), add_months(self.first, -1))

    def month_starts(self) -> list[dt.date]:
        return [add_months(self.first, i) for i in range(self.months)]

    @property
    def code(self) -> str:
        a = self.first.strftime("%Y-%m")
        return a if self.months == 1 else f"{a}..{self.last:%Y-%m}"

    @property
    def label(self) -> str:
        """2026年2月 · 2026年1—2月 · 2025年12月—2026年1月"""
        f, t = self.first, self.last
        if self.months == 1:
            return f"{f.year}年{f.month}月"
        if f.year == t.year:
            return f"{f.year}年{f.month}—{t.month}月"
        return f"{f.year}年{f.month}月—{t.year}年{t.month}月"

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "month": f"{self.first:%Y-%m}",
            "to": f"{self.last:%Y-%m}",
            "months": self.months,
            "start": self.first.isoformat(),
            "end": self.last_day.isoformat(),
            "label": self.label,
            "time_zone": settings.TIME_ZONE,
        }
