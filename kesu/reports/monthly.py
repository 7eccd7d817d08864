"""The monthly complaint report (客户投诉工作月报): one computation for every output.

`compute(user, period, office=...)` returns a JSON-ready dict (the API contract; keys in
docs below and kesu/reports/README.md). Everything is read through
`Complaint.objects.visible_to(user)`, so an office director gets their office only.

The figures come from a handful of aggregate (GROUP BY) queries over the complaints received in the
period and in the period before it (one pass for both), not from loading complaints: the counts by
office × nature × category × company-intake × major, with the KPI numerators and denominators as
conditional counts (callbacks too, from the complaint's own columns); the resolution hours of valid
complaints; the managers' own callbacks. Python then shapes tables, shares and the summary.

What is counted (口径):
- complaints *received* in the period (local months in settings.TIME_ZONE), whatever their status
  now; a complaint merged into another (已合并, several residents, one problem) is counted once,
  as the complaint it joined, and reported separately as `merged`;
- an enquiry answered on the spot (咨询型, not valid, not major: policy.settled_at_counter) is settled
  at the counter, not a complaint: counted apart as `on_spot_enquiries`, in no total, share or KPI;
- complaints not yet judged appear as nature `unassessed` (待判定) so totals always add up; valid
  complaints without a category appear as category `null` (未分类);
- households are the homes on file (kesu.org.homes: an office with none loaded counts its configured
  number, and the report says which);
- a comparison with a period before the first month with any complaint of the scope is no comparison:
  its figures are null (`previous.has_data` false, the documents say 无数据), and so are the trend's
  months before that first month;
- time-based KPIs are measured as of `as_of` (default now): a deadline still open and not yet
  passed is not counted for or against anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, connections
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    F,
    Field,
    FloatField,
    Func,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kesu.complaints.choices import SATISFIED_VALUES, UNRESOLVED_STATUSES, CloseOutcome, Nature, Status
from kesu.complaints.models import Callback, Category, Complaint
from kesu.complaints.policy import CALLBACK_QUOTA, callback_quota, needs_callback_q, settled_at_counter_q
from kesu.complaints.scope import covered_offices
from kesu.org import homes
from kesu.org.choices import OFFICE_ROLES, Role
from kesu.org.models import Company, Office, User

from .period import Period, add_months, local_month
from .shares import largest_remainder, num, rate

UNASSESSED = "unassessed"
UNASSESSED_NAME = "待判定"  # the report's own column: complaints not yet judged
UNCATEGORISED_NAME = "未分类"
ON_SPOT_ENQUIRIES_NAME = "另：当场答复的咨询（不计入投诉）"  # the report's own row / column
NO_DATA = "无数据"  # a comparison with months before the first complaint of the scope
# The report is the company's Chinese document, whatever language the page around it speaks.
REPORT_LANGUAGE = "zh-hans"
SHARE_OF_TOTAL_DECIMALS = 2  # the source report: two decimals for shares of the total …
SHARE_OF_VALID_DECIMALS = 1  # … and one for shares of valid complaints
# The KPIs shown for each office (kpis_by_office), in their order.
OFFICE_KPI_CODES = (
    "forwarded_in_time",
    "resolved_in_time",
    "callback_rate",
    "callback_in_time",
    "satisfaction",
    "repeat_rate",
    "valid_per_households",
)


def natures() -> list[tuple[str, str]]:
    """The report's columns of nature, (code, name): every complaint nature under its own label, in the
    report's language, then 待判定 for complaints not yet judged."""
    with translation.override(REPORT_LANGUAGE):
        return [*((n.value, str(n.label)) for n in Nature), (UNASSESSED, UNASSESSED_NAME)]


class ReportAccessError(Exception):
    """Why this user cannot have this report: status 401/403/404, the parameter at fault."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class Scope:
    kind: str  # "company" | "office" | "offices"
    office: Office | None = None
    offices: list[Office] | None = None  # fixed list for office scopes; None: every office (company)

    def as_json(self, offices: list[Office]) -> dict:
        return {
            "type": self.kind,
            "office": _office_json(self.office) if self.office else None,
            "offices": [o.code for o in offices],
        }


def can_view_reports(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_company_wide or user.role in OFFICE_ROLES)
    )


def resolve_scope(
    user: User | None, office_code: str | None = None, limit: Collection[int] | None = None
) -> Scope:
    """The company, or one office, as far as this user may see (an office director: their office).
    `limit`: office ids the caller is further limited to (an API key's offices)."""
    if user is None or not user.is_authenticated:
        raise ReportAccessError(401, _("请先登录。"))
    if not can_view_reports(user):
        raise ReportAccessError(403, _("您的角色不能查看投诉统计报表。"))
    code = (office_code or "").strip()
    mine = covered_offices(user)
    if limit is not None:
        mine = mine.filter(pk__in=list(limit))
    if code:
        office = mine.filter(code__iexact=code).first()
        if office is None:
            raise ReportAccessError(
                404, _("找不到管理处“%(code)s”，或您无权查看。") % {"code": code[:20]}, "office"
            )
        return Scope("office", office, [office])
    if user.is_company_wide and limit is None:
        return Scope("company")
    offices = list(mine.order_by("code"))
    if not offices:
        raise ReportAccessError(403, _("您还没有所属的管理处。"))
    if len(offices) == 1:
        return Scope("office", offices[0], offices)
    return Scope("offices", None, offices)


def scoped_complaints(user: User, scope: Scope) -> QuerySet[Complaint]:
    qs = Complaint.objects.visible_to(user)
    if scope.office is not None:
        qs = qs.filter(office=scope.office)
    elif scope.offices is not None:
        qs = qs.filter(office__in=[o.pk for o in scope.offices])
    return qs


class HoursBetween(Func):
    """Clock hours from the first to the second datetime column, computed in SQL on both databases."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 24.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            # date_part is double precision; EXTRACT is numeric since PostgreSQL 14 (several times slower).
            template="(date_part('epoch', %(expressions)s) / 3600.0)",
            arg_joiner=" - ",
            **extra,
        )


# ---------------------------------------------------------------------------------------------
# aggregation


@dataclass
class _Cell:
    """Conditional counts for one group (period × office × nature × category × direct × major)."""

    n: int = 0
    direct: int = 0  # received by the company itself (公司直接受理)
    major: int = 0
    fwd_den: int = 0
    fwd_ok: int = 0
    res_den: int = 0
    res_ok: int = 0
    handled: int = 0
    cb_due: int = 0
    cb_done: int = 0
    cb_timed: int = 0
    cb_on_time: int = 0
    cb_late_pending: int = 0
    satisfied: int = 0
    reopened: int = 0
    ended_unsatisfied: int = 0
    repeat: int = 0


_ALL_FIELDS = list(_Cell.__dataclass_fields__)  # "n" first


@dataclass
class _Row:
    current: bool
    office_id: int
    nature: str
    category_id: int | None
    merged: bool
    enquiry: bool  # settled at the counter (policy.settled_at_counter): counted apart
    vals: tuple[int, ...]  # the group's counts, in _ALL_FIELDS order

    @property
    def n(self) -> int:
        return self.vals[0]


def _flag(condition: Q) -> Case:
    """A boolean column to group by: True where `condition` holds."""
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


_GROUP_KEYS = ["cur", "office_id", "nature", "category_id", "is_merged", "is_enquiry"]


def _grouped_counts(base: QuerySet[Complaint], period: Period, as_of: dt.datetime) -> QuerySet:
    """The complaints of the period and the one before, grouped (period × office × nature × category
    × merged × settled at the counter), with every count of a _Cell as a conditional count."""
    prev = period.previous()
    return (
        base.filter(received_at__gte=prev.start, received_at__lt=period.end)
        .annotate(
            cur=_flag(Q(received_at__gte=period.start)),
            is_merged=_flag(Q(status=Status.MERGED)),
            is_enquiry=_flag(settled_at_counter_q()),
        )
        .order_by()
        .values(*_GROUP_KEYS)
        .annotate(
            n=Count("id"),
            direct=Count("id", filter=Q(received_by_company=True)),
            major=Count("id", filter=Q(is_major=True)),
            # 转呈: forwarded at all, or still waiting past the limit.
            fwd_den=Count(
                "id",
                filter=Q(forwarded_at__isnull=False) | Q(status=Status.RECEIVED, forward_due_at__lt=as_of),
            ),
            fwd_ok=Count("id", filter=Q(forwarded_at__isnull=False, forwarded_at__lte=F("forward_due_at"))),
            # 处理: resolved (the latest resolution counts), or still being worked on past the limit.
            res_den=Count(
                "id",
                filter=Q(resolved_at__isnull=False)
                | Q(status__in=sorted(UNRESOLVED_STATUSES), resolve_due_at__lt=as_of),
            ),
            res_ok=Count("id", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("resolve_due_at"))),
            handled=Count("id", filter=Q(resolved_at__isnull=False) | Q(reopen_count__gt=0)),
            # Callbacks, from the complaint's own columns: `satisfaction` holds the latest callback's
            # verdict (cleared when the complaint is resolved again), `called_back_at` its time
            # (cleared by a reopen). Reading them keeps the report one pass over the complaints.
            # Only complaints that owe a callback (policy.needs_callback) are due one.
            cb_due=Count(
                "id",
                filter=(Q(resolved_at__isnull=False) | Q(reopen_count__gt=0))
                & (~Q(satisfaction="") | Q(status=Status.CLOSED) | Q(callback_due_at__lt=as_of))
                & needs_callback_q(),
            ),
            cb_done=Count("id", filter=~Q(satisfaction="")),
            cb_timed=Count("id", filter=Q(called_back_at__isnull=False)),
            cb_on_time=Count(
                "id", filter=Q(called_back_at__isnull=False, called_back_at__lte=F("callback_due_at"))
            ),
            cb_late_pending=Count(
                "id",
                filter=Q(status=Status.RESOLVED, called_back_at__isnull=True, callback_due_at__lt=as_of),
            ),
            # Satisfied at the first callback: satisfied now and never sent back for rectification.
            satisfied=Count("id", filter=Q(satisfaction__in=list(SATISFIED_VALUES), reopen_count=0)),
            reopened=Count("id", filter=Q(reopen_count__gt=0)),
            # Sent back for rectification, then closed other than "satisfied" (mediation, non-co-operation…):
            # a manager's decision with a recorded reason (services.close), counted here.
            ended_unsatisfied=Count(
                "id",
                filter=Q(status=Status.CLOSED, reopen_count__gt=0) & ~Q(close_outcome=CloseOutcome.RESOLVED),
            ),
            repeat=Count("id", filter=Q(repeat_of__isnull=False)),
        )
    )


def _complaint_rows(base: QuerySet[Complaint], period: Period, as_of: dt.datetime) -> list[_Row]:
    qs = _grouped_counts(base, period, as_of)
    # Run the compiled query on a plain cursor: counts need none of the ORM's per-value converters
    # (16 columns × every group), and the columns come back in this order.
    sql, params = qs.values_list(*_GROUP_KEYS, *_ALL_FIELDS).query.get_compiler(using=qs.db).as_sql()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return [
        _Row(
            current=bool(cur),
            office_id=office_id,
            nature=nature or UNASSESSED,
            category_id=category_id,
            merged=bool(is_merged),
            enquiry=bool(is_enquiry) and not is_merged,
            vals=tuple(counts),  # COUNT is never NULL; both drivers hand back ints
        )
        for cur, office_id, nature, category_id, is_merged, is_enquiry, *counts in fetched
    ]


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: linear interpolation between the closest ranks."""

    function = "percentile_cont"
    template = (
        "%(function)s(ARRAY[%(fractions)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    )
    output_field = Field()  # an array of floats, handed back as the driver gives it

    def __init__(self, expression, fractions: tuple[float, ...], **extra) -> None:
        super().__init__(expression, fractions=", ".join(str(float(f)) for f in fractions), **extra)


HoursStats = tuple[int, float | None, float | None]  # count, median, 90th percentile


def _resolution_hours(base: QuerySet[Complaint], period: Period) -> dict[bool, HoursStats]:
    """Hours from receipt to (last) resolution of valid complaints: count, median and 90th percentile,
    for the period (True) and the one before (False). Read from the partial index
    `complaint_valid_resolved` alone; PostgreSQL computes the percentiles itself in one query, each
    period's aggregate with its own FILTER (it sorts only its own rows), SQLite (the small embedded
    mode) hands back the hours."""
    prev = period.previous()
    qs = (
        base.filter(
            received_at__gte=prev.start,
            received_at__lt=period.end,
            nature=Nature.VALID,
            resolved_at__isnull=False,
        )
        .exclude(status=Status.MERGED)
        .annotate(hours=HoursBetween("resolved_at", "received_at"))
        .order_by()
    )
    current = {True: Q(received_at__gte=period.start), False: Q(received_at__lt=period.start)}
    out: dict[bool, HoursStats] = {}
    if connection.vendor == "postgresql":
        # Count a column of the index (not the id) so the index alone answers.
        r = qs.aggregate(
            **{f"n{int(c)}": Count("received_at", filter=q) for c, q in current.items()},
            **{f"p{int(c)}": PercentileCont("hours", (0.5, 0.9), filter=q) for c, q in current.items()},
        )
        for c in current:
            p50, p90 = r[f"p{int(c)}"] or (None, None)
            out[c] = (
                r[f"n{int(c)}"],
                None if p50 is None else max(0.0, p50),
                None if p90 is None else max(0.0, p90),
            )
        return out
    # The period is told in SQL: converting every received_at back to a datetime costs more here.
    cur = _flag(current[True])
    hours: dict[bool, list[float]] = {True: [], False: []}
    for is_current, h in qs.annotate(cur=cur).values_list("cur", "hours"):
        hours[bool(is_current)].append(max(0.0, float(h)))
    for c, xs in hours.items():
        out[c] = (len(xs), percentile(xs, 0.5), percentile(xs, 0.9))
    return out


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont, numpy's default)."""
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _hours(value: float | None) -> float | None:
    return None if value is None else float(Decimal(str(value)).quantize(Decimal("0.1")))


@dataclass
class _Managers:
    rows: list[dict] = field(default_factory=list)
    met: int = 0
    total: int = 0


def _managers_of(offices: list[Office]) -> list[User]:
    """The active CS-centre managers and office directors (the roles with a callback quota) of the offices."""
    users = User.objects.filter(role__in=list(CALLBACK_QUOTA), is_active=True)
    users = users.filter(offices__in=[o.pk for o in offices]).distinct().order_by("username")
    return list(users.prefetch_related("offices"))


def _own_callbacks(users: list[User], period: Period) -> dict[tuple[bool, int], int]:
    """Callbacks each user made himself, by (in the period?, user id), over the period and the one before."""
    made: dict[tuple[bool, int], int] = defaultdict(int)
    if not users:
        return made
    qs = (
        Callback.objects.filter(
            by__in=[u.pk for u in users], at__gte=period.previous().start, at__lt=period.end
        )
        .annotate(cur=_flag(Q(at__gte=period.start)))
        .order_by()
        .values("cur", "by_id")
        .annotate(n=Count("id"))
    )
    for r in qs:
        made[(bool(r["cur"]), r["by_id"])] += r["n"]
    return made


def _manager_json(u: User, callbacks: int, quota: int, in_scope: set[int]) -> dict:
    return {
        "username": u.username,
        "name": str(u),
        "role": u.role,
        "role_name": str(u.get_role_display()),
        "offices": sorted(o.code for o in u.offices.all() if o.pk in in_scope),
        "callbacks": callbacks,
        "quota": quota,
        "met": callbacks >= quota,
    }


def _manager_quotas(offices: list[Office], period: Period) -> dict[bool, _Managers]:
    """Each CS-centre manager and office director of the scope, and their own callbacks in the period
    (True) and the one before (False)."""
    users = _managers_of(offices)
    made = _own_callbacks(users, period)
    in_scope = {o.pk for o in offices}
    out = {}
    for cur in (True, False):
        m = _Managers()
        for u in users:
            row = _manager_json(u, made[(cur, u.pk)], callback_quota(u.role, period.months), in_scope)
            m.total += 1
            m.met += row["met"]
            m.rows.append(row)
        out[cur] = m
    return out


# ---------------------------------------------------------------------------------------------
# shaping


def _office_json(o: Office) -> dict:
    return {"code": o.code, "name": o.name}


def _category_json(c: Category | None) -> dict:
    return {"code": c.code, "name": c.name} if c else {"code": None, "name": UNCATEGORISED_NAME}


def _sum(rows: Iterable[_Row], attr: str = "n", pred: Callable[[_Row], bool] = lambda r: True) -> int:
    i = _ALL_FIELDS.index(attr)
    return sum(r.vals[i] for r in rows if pred(r))


def _totals(rows: Iterable[_Row]) -> _Cell:
    """Every count summed over the rows, in one pass."""
    return _Cell(*(sum(column) for column in zip(*(r.vals for r in rows), strict=True)))


def _by_nature(rows: list[_Row], attr: str = "n") -> dict:
    per_nature: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        per_nature[r.nature].append(r)
    columns = natures()
    counts = [getattr(_totals(per_nature[code]), attr) for code, _name in columns]
    shares = largest_remainder(counts, SHARE_OF_TOTAL_DECIMALS)
    return {
        code: {"name": name, "count": n, "share": num(s)}
        for (code, name), n, s in zip(columns, counts, shares, strict=True)
    }


def _kpi(
    code: str,
    name: str,
    numerator: int | None,
    denominator: int | None,
    value: float | None,
    unit: str,
    target: str,
    met: bool | None,
    note: str,
) -> dict:
    return {
        "code": code,
        "name": name,
        "value": value,
        "unit": unit,
        "numerator": numerator,
        "denominator": denominator,
        "target": target,
        "met": met,
        "note": note,
    }


def _rate_kpi(code, name, n, d, target, cmp, note, decimals=1) -> dict:
    value = num(rate(n, d, decimals))
    return _kpi(code, name, n, d, value, "%", target, None if value is None else cmp(value), note)


def _kpis(
    rows: list[_Row],
    hours: HoursStats,
    households: int,
    managers: _Managers,
    households_note: str = "",
) -> dict[str, dict]:
    t = _totals(rows)
    v = _totals(r for r in rows if r.nature == Nature.VALID)
    total = t.n
    hours_n, median, p90 = hours
    k = [
        _rate_kpi(
            "forwarded_in_time",
            "转呈及时率",
            t.fwd_ok,
            t.fwd_den,
            "100%",
            lambda v: v >= 100,
            "时限内转呈责任部门的投诉 ÷（已转呈 + 超时未转呈的投诉）",
        ),
        _rate_kpi(
            "resolved_in_time",
            "有效投诉处理及时率",
            v.res_ok,
            v.res_den,
            "100%",
            lambda v: v >= 100,
            "时限内处理完毕的有效投诉 ÷（已处理完毕 + 超过处理时限仍未处理完毕的有效投诉）；整改过的以最后一次处理完毕时间计",
        ),
        _rate_kpi(
            "callback_rate",
            "回访率",
            t.cb_done,
            t.cb_due,
            "100%",
            lambda v: v >= 100,
            "已回访的投诉 ÷ 已处理且已到回访时限（或已回访、已结案）的投诉；整改后再次处理的，以最近一次处理的回访计",
        ),
        _rate_kpi(
            "callback_in_time",
            "回访及时率",
            t.cb_on_time,
            t.cb_timed + t.cb_late_pending,
            "100%",
            lambda v: v >= 100,
            "在回访时限内完成最近一次回访的投诉 ÷（已回访 + 超时仍未回访的投诉）",
        ),
        _rate_kpi(
            "satisfaction",
            "回访满意率",
            t.satisfied,
            t.cb_done,
            "≥95%",
            lambda v: v >= 95,
            "回访即满意或基本满意、未经整改的投诉 ÷ 已回访的投诉",
        ),
        _rate_kpi(
            "repeat_rate",
            "重复投诉率",
            t.repeat,
            total,
            "0",
            lambda v: v == 0,
            "关联为重复投诉的投诉 ÷ 投诉总数",
        ),
        _rate_kpi(
            "reopen_rate",
            "整改率",
            t.reopened,
            t.handled,
            "—",
            lambda v: None,
            "回访不满意转整改的投诉 ÷ 已处理的投诉",
        ),
        _rate_kpi(
            "ended_unsatisfied_rate",
            "整改后未满意结案率",
            t.ended_unsatisfied,
            t.reopened,
            "—",
            lambda v: None,
            "整改过、最终未以“投诉人满意”结案（调解、不予配合等，须经理决定并写明原因）的投诉 ÷ 整改过的投诉",
        ),
        _rate_kpi(
            "valid_per_households",
            "有效投诉率（占户数）",
            v.n,
            households,
            "≤1%",
            lambda v: v <= 1,
            "有效投诉宗数 ÷ 管理户数（每百户有效投诉数）" + households_note,
            decimals=2,
        ),
        _kpi(
            "resolve_hours_median",
            "有效投诉处理用时中位数",
            None,
            hours_n,
            _hours(median),
            "h",
            "—",
            None,
            "受理至处理完毕的小时数（自然时间）",
        ),
        _kpi(
            "resolve_hours_p90",
            "有效投诉处理用时90分位",
            None,
            hours_n,
            _hours(p90),
            "h",
            "—",
            None,
            "90% 的有效投诉在此时间内处理完毕",
        ),
        _rate_kpi(
            "manager_callback_quota",
            "管理人员回访指标完成率",
            managers.met,
            managers.total,
            "100%",
            lambda v: v >= 100,
            f"完成每月回访指标（客服中心经理≥{CALLBACK_QUOTA[Role.CS_MANAGER]}次、"
            f"管理处主任≥{CALLBACK_QUOTA[Role.DIRECTOR]}次）的人数 ÷ 应完成人数",
        ),
    ]
    return {x["code"]: x for x in k}


def _with_previous(current: dict[str, dict], previous: dict[str, dict] | None) -> dict[str, dict]:
    """Each KPI with its value in the period before and the change; both null when the period before
    has no data (it lies before the scope's first complaint)."""
    for code, kpi in current.items():
        before = previous[code]["value"] if previous is not None else None
        kpi["previous"] = before
        now = kpi["value"]
        kpi["change"] = (
            None
            if now is None or before is None
            else float((Decimal(str(now)) - Decimal(str(before))).quantize(Decimal("0.01")))
        )
    return current


def _households_note(offices: list[Office], hh: dict[int, homes.Households]) -> str:
    """What the households are, as the KPI's note says it: homes on file, and which offices (if any)
    have none loaded and count their configured number instead (kesu.org.homes)."""
    configured = [o for o in offices if hh[o.pk].source == homes.CONFIGURED]
    if not configured:
        return "；户数为在册房屋数"
    named = "、".join(f"{o.name} {hh[o.pk].count} 户" for o in configured[:5])
    more = f" 等 {len(configured)} 个" if len(configured) > 5 else ""
    if len(configured) == len(offices):
        return f"；未录入房屋，户数按各管理处设定的户数计：{named}{more}"
    return f"；户数为在册房屋数，未录入房屋的管理处按设定户数计：{named}{more}"


def data_since(base: QuerySet[Complaint]) -> dt.date | None:
    """The first month (its first day, local) with any complaint of the scope; None: none at all.
    Months before it have no data, which is not the same as no complaints."""
    first = base.order_by().aggregate(first=Min("received_at"))["first"]
    return None if first is None else local_month(first)


def company_name() -> str:
    company = Company.objects.order_by("pk").first()
    return company.name if company else ""


# ---------------------------------------------------------------------------------------------
# the parts of the report


@dataclass
class _Rows:
    """The grouped rows of both periods: all of them, the merged ones, and the rest by period."""

    all: list[_Row]
    merged: list[_Row]
    enquiries: list[_Row]  # settled at the counter, both periods: counted apart
    counted: list[_Row]  # the complaints (neither merged nor settled enquiries), both periods
    current: list[_Row]
    previous: list[_Row]

    @classmethod
    def split(cls, rows: list[_Row]) -> _Rows:
        counted = [r for r in rows if not r.merged and not r.enquiry]
        return cls(
            all=rows,
            merged=[r for r in rows if r.merged],
            enquiries=[r for r in rows if r.enquiry],
            counted=counted,
            current=[r for r in counted if r.current],
            previous=[r for r in counted if not r.current],
        )


def _offices_shown(scope: Scope, rows: list[_Row]) -> list[Office]:
    """The scope's fixed list, or every active office plus any with complaints."""
    if scope.offices is not None:
        return scope.offices
    seen = {r.office_id for r in rows}
    return list(Office.objects.filter(Q(is_active=True) | Q(pk__in=seen)).order_by("code"))


def _categories_shown(rows: list[_Row]) -> list[Category | None]:
    """Every active category plus any with complaints, then None (未分类) if a valid complaint has none."""
    seen = {r.category_id for r in rows if r.category_id is not None}
    categories: list[Category | None] = list(
        Category.objects.filter(Q(is_active=True) | Q(pk__in=seen)).order_by("order", "code")
    )
    if any(r.category_id is None and r.nature == Nature.VALID for r in rows):
        categories.append(None)
    return categories


def _pk(c: Category | None) -> int | None:
    return c.pk if c else None


def _column_code(c: Category | None) -> str:
    """A category's code as the key of an annex column ("" for 未分类)."""
    return c.code if c else ""


def _index(rows: list[_Row]) -> dict[tuple, int]:
    """Counts by (office, nature, category), (office, nature) and (nature, category), summed once."""
    idx: dict[tuple, int] = defaultdict(int)
    for r in rows:
        idx[(r.office_id, r.nature, r.category_id)] += r.n
        idx[(r.office_id, r.nature)] += r.n
        idx[(r.nature, r.category_id)] += r.n
    return idx


def _valid_by_category(idx: dict[tuple, int], categories: list[Category | None]) -> list[dict]:
    """Valid complaints by category (share of valid, one decimal), largest first."""
    counts = [idx.get((Nature.VALID.value, _pk(c)), 0) for c in categories]
    shares = largest_remainder(counts, SHARE_OF_VALID_DECIMALS)
    by_cat = [
        {**_category_json(c), "count": n, "share": num(s)}
        for c, n, s in zip(categories, counts, shares, strict=True)
    ]
    order = {id(x): i for i, x in enumerate(by_cat)}
    by_cat.sort(key=lambda x: (-x["count"], order[id(x)]))
    return by_cat


def _valid_by_office(
    idx: dict[tuple, int], offices: list[Office], hh: dict[int, homes.Households]
) -> list[dict]:
    """Valid complaints by office (share of valid, one decimal), largest first, with the households
    they are a share of and where that number comes from (homes on file, or configured)."""
    counts = [idx.get((o.pk, Nature.VALID.value), 0) for o in offices]
    shares = largest_remainder(counts, SHARE_OF_VALID_DECIMALS)
    by_office = [
        {
            **_office_json(o),
            "count": n,
            "share": num(s),
            "households": hh[o.pk].count,
            "households_source": hh[o.pk].source,
            "per_100_households": num(rate(n, hh[o.pk].count, 2)),
        }
        for o, n, s in zip(offices, counts, shares, strict=True)
    ]
    by_office.sort(key=lambda x: (-x["count"], x["code"]))
    return by_office


def _is_valid(r: _Row) -> bool:
    return r.nature == Nature.VALID


def _figures(
    rows: list[_Row],
    merged: int,
    enquiries: int,
    offices: list[Office],
    categories: list[Category | None],
    hh: dict[int, homes.Households],
) -> dict:
    """The figures of one period: totals, by nature, company intake, valid by category and by office."""
    idx = _index(rows)
    return {
        "has_data": True,
        "total": _sum(rows),
        "by_nature": _by_nature(rows),
        "major": _sum(rows, "major"),
        "valid": _sum(rows, pred=_is_valid),
        "direct": {"total": _sum(rows, "direct"), "by_nature": _by_nature(rows, "direct")},
        "valid_by_category": _valid_by_category(idx, categories),
        "valid_by_office": _valid_by_office(idx, offices, hh),
        "merged": merged,
        "on_spot_enquiries": enquiries,
    }


def _no_figures(offices: list[Office], categories: list[Category | None]) -> dict:
    """The figures of a period before the scope's first complaint: the same keys, every figure null
    (no data is not zero complaints)."""

    def nothing() -> dict:
        return {code: {"name": name, "count": None, "share": None} for code, name in natures()}

    return {
        "has_data": False,
        "total": None,
        "by_nature": nothing(),
        "major": None,
        "valid": None,
        "direct": {"total": None, "by_nature": nothing()},
        "valid_by_category": [{**_category_json(c), "count": None, "share": None} for c in categories],
        "valid_by_office": [
            {**_office_json(o), "count": None, "share": None, "per_100_households": None} for o in offices
        ],
        "merged": None,
        "on_spot_enquiries": None,
    }


def _annex(
    title: str,
    columns: list[dict],
    offices: list[Office],
    counts: list[dict[str, int]],
    decimals: int,
    shares: dict[str, float | None],
) -> dict:
    """An annex table: a row of `counts` for each office (+ its total and its share of all, with
    `decimals`), and the totals of every column with their `shares`."""
    rows = [
        {"office": _office_json(o), "counts": c, "total": sum(c.values())}
        for o, c in zip(offices, counts, strict=True)
    ]
    for row, s in zip(rows, largest_remainder([r["total"] for r in rows], decimals), strict=True):
        row["share"] = num(s)
    totals = {col["code"]: sum(r["counts"][col["code"]] for r in rows) for col in columns}
    total = sum(totals.values())
    return {
        "title": title,
        "columns": columns,
        "rows": rows,
        "totals": {
            "counts": totals,
            "total": total,
            "share": 100.0 if total else None,
            "shares": {k: shares[k] for k in totals},
        },
    }


def _annex1(offices: list[Office], idx: dict[tuple, int], by_nature: dict, enquiries: list[_Row]) -> dict:
    """Annex 1: office × nature (+ row totals, share of the total with two decimals), and apart from
    them each office's enquiries settled at the counter (in no total)."""
    columns = natures()
    annex = _annex(
        "附件1：客户投诉汇总表",
        [{"code": code, "name": name} for code, name in columns],
        offices,
        [{code: idx.get((o.pk, code), 0) for code, _name in columns} for o in offices],
        SHARE_OF_TOTAL_DECIMALS,
        {code: v["share"] for code, v in by_nature.items()},
    )
    by_office: dict[int, int] = defaultdict(int)
    for r in enquiries:
        by_office[r.office_id] += r.n
    annex["enquiries_name"] = ON_SPOT_ENQUIRIES_NAME
    for o, row in zip(offices, annex["rows"], strict=True):
        row["on_spot_enquiries"] = by_office[o.pk]
    annex["totals"]["on_spot_enquiries"] = sum(row["on_spot_enquiries"] for row in annex["rows"])
    return annex


def _annex2(
    offices: list[Office], categories: list[Category | None], idx: dict[tuple, int], by_category: list[dict]
) -> dict:
    """Annex 2: office × category, valid complaints only (+ totals, share of valid with one decimal)."""
    return _annex(
        "附件2：有效投诉汇总表",
        [{"code": _column_code(c), "name": (c.name if c else UNCATEGORISED_NAME)} for c in categories],
        offices,
        [
            {_column_code(c): idx.get((o.pk, Nature.VALID.value, _pk(c)), 0) for c in categories}
            for o in offices
        ],
        SHARE_OF_VALID_DECIMALS,
        {(x["code"] or ""): x["share"] for x in by_category},
    )


def _top_offices(valid_by_office: list[dict], annex2: dict) -> list[dict]:
    """The (up to three) offices with the most valid complaints and their leading categories."""
    names = {col["code"]: col["name"] for col in annex2["columns"]}
    order = list(names)
    top = []
    for entry in valid_by_office[:3]:
        if entry["count"] == 0:
            break
        row = next(r for r in annex2["rows"] if r["office"]["code"] == entry["code"])
        leading = sorted(
            ((k, n) for k, n in row["counts"].items() if n), key=lambda kn: (-kn[1], order.index(kn[0]))
        )[:3]
        top.append(
            {
                **{k: entry[k] for k in ("code", "name", "count", "share")},
                "categories": [{"code": k or None, "name": names[k], "count": n} for k, n in leading],
            }
        )
    return top


def _kpis_by_office(rows: list[_Row], offices: list[Office], hh: dict[int, homes.Households]) -> list[dict]:
    """The period's office KPIs (OFFICE_KPI_CODES) for each office."""
    by_office: dict[int, list[_Row]] = defaultdict(list)
    for r in rows:
        by_office[r.office_id].append(r)
    out = []
    for o in offices:
        orows = by_office[o.pk]
        k = _kpis(orows, (0, None, None), hh[o.pk].count, _Managers())
        out.append(
            {
                "office": _office_json(o),
                "total": _sum(orows),
                "valid": _sum(orows, pred=_is_valid),
                **{code: k[code]["value"] for code in OFFICE_KPI_CODES},
            }
        )
    return out


def _masthead(scope: Scope, period: Period, offices: list[Office], as_of: dt.datetime) -> dict:
    """Title, issuer, company, period, scope and the time the figures stand at."""
    company = company_name()
    where = scope.office.name if scope.office else company
    return {
        "title": f"{where}{period.label}客户投诉工作月报",
        "issuer": "品质管理部" if scope.kind == "company" else f"{where}管理处",
        "company": company,
        "period": period.as_json(),
        "scope": scope.as_json(offices),
        "as_of": timezone.localtime(as_of).isoformat(timespec="seconds"),
    }


def compute(
    user: User,
    period: Period,
    office: str | None = None,
    *,
    as_of: dt.datetime | None = None,
    with_summary: bool = True,
    limit: Collection[int] | None = None,
) -> dict:
    """The report as a JSON-ready dict. Raises ReportAccessError for users who may not have it.
    `limit`: office ids the caller is limited to beyond the user's own scope (an API key's offices)."""
    as_of = as_of or timezone.now()
    scope = resolve_scope(user, office, limit)
    base = scoped_complaints(user, scope)
    rows = _Rows.split(_complaint_rows(base, period, as_of))
    offices = _offices_shown(scope, rows.all)
    hh = homes.households_of(offices)
    households = sum(h.count for h in hh.values())
    note = _households_note(offices, hh)
    categories = _categories_shown(rows.counted)
    hours = _resolution_hours(base, period)
    managers = _manager_quotas(offices, period)
    since = data_since(base)
    # The period before is compared with only if the scope had complaint data by its first month.
    compared = since is not None and since <= period.previous().first

    def count(part: list[_Row], current: bool) -> int:
        return _sum(part, pred=lambda r: r.current == current)

    now = _figures(
        rows.current, count(rows.merged, True), count(rows.enquiries, True), offices, categories, hh
    )
    before = (
        _figures(
            rows.previous, count(rows.merged, False), count(rows.enquiries, False), offices, categories, hh
        )
        if compared
        else _no_figures(offices, categories)
    )
    idx = _index(rows.current)
    annex2 = _annex2(offices, categories, idx, now["valid_by_category"])
    report = {
        **_masthead(scope, period, offices, as_of),
        "data_since": None if since is None else f"{since:%Y-%m}",
        **{
            k: now[k]
            for k in ("direct", "total", "by_nature", "major", "merged", "on_spot_enquiries", "valid")
        },
        "households": households,
        "households_configured": [
            {**_office_json(o), "households": hh[o.pk].count}
            for o in offices
            if hh[o.pk].source == homes.CONFIGURED
        ],
        "valid_by_category": now["valid_by_category"],
        "valid_by_office": now["valid_by_office"],
        "top_offices": _top_offices(now["valid_by_office"], annex2),
        "annex1": _annex1(offices, idx, now["by_nature"], [r for r in rows.enquiries if r.current]),
        "annex2": annex2,
        "kpis": _with_previous(
            _kpis(rows.current, hours[True], households, managers[True], note),
            _kpis(rows.previous, hours[False], households, managers[False]) if compared else None,
        ),
        "kpis_by_office": _kpis_by_office(rows.current, offices, hh),
        "managers": managers[True].rows,
        "previous": {"period": period.previous().as_json(), **before},
        "summary": [],
    }
    if with_summary:
        from .summary import write_summary

        report["summary"] = write_summary(report, base, period, categories)
    return report


def trend(
    user: User,
    period: Period,
    office: str | None = None,
    months: int = 12,
    limit: Collection[int] | None = None,
) -> dict:
    """Complaints and valid complaints per month for the `months` months ending with the period's last,
    counted as the report counts them; a month before the scope's first complaint has no data (null)."""
    scope = resolve_scope(user, office, limit)
    window = Period(add_months(period.last, -(months - 1)), period.last)
    tz = window.start.tzinfo
    base = scoped_complaints(user, scope)
    since = data_since(base)
    qs = (
        base.filter(received_at__gte=window.start, received_at__lt=window.end)
        .exclude(status=Status.MERGED)
        .exclude(settled_at_counter_q())
        .annotate(m=TruncMonth("received_at", tzinfo=tz))
        .order_by()
        .values("m")
        .annotate(total=Count("id"), valid=Count("id", filter=Q(nature=Nature.VALID)))
    )
    found = {(r["m"].year, r["m"].month): r for r in qs}
    out = []
    for first in window.month_starts():
        no_data = since is None or first < since
        r = (
            {"total": None, "valid": None}
            if no_data
            else found.get((first.year, first.month), {"total": 0, "valid": 0})
        )
        out.append(
            {
                "month": f"{first:%Y-%m}",
                "label": f"{first.year % 100:02d}年{first.month}月",
                "total": r["total"],
                "valid": r["valid"],
            }
        )
    return {
        "months": out,
        "data_since": None if since is None else f"{since:%Y-%m}",
        "data_since_label": "" if since is None else f"{since.year}年{since.month}月",
    }
