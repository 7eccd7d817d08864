"""The demo company: offices, departments, homes, residents, staff and two months of complaints.

Deterministic, on any database: randomness comes only from ``random.Random`` streams named by the
seed (the organisation; each office's plan; each complaint's own story, named by the draw that gave
its time), never from database order, ids or string hashes. So the same seed gives the same offices,
staff and residents, and on the same day the same complaints (numbers, times, texts, people,
natures, fates): the plan is drawn as of midnight, and only the stories reach ``now``. A story whose
next step would come after ``now`` stops there, and that touches no other complaint's story. With the
same ``now`` the rows are the same on SQLite and PostgreSQL.

Organisation rows are bulk-created. Every complaint goes through the lifecycle functions in
``kesu.complaints.services`` only, back-dated with ``at=`` so timelines, deadlines, breaches and
notifications look like two months of real work. Finished history (outside the first office, in no
repeat or merge pair, received over three days ago, ending closed, declined or withdrawn) runs
through them inside a ``kesu.complaints.backfill.Backfill``, which writes each office's rows in bulk
(the same rows, decision 0013); the rest (what is still open, the first office where the demo logins
work) is written step by step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kesu.complaints import backfill, services
from kesu.complaints.choices import (
    CallbackMethod,
    Channel,
    CloseOutcome,
    DeclineReason,
    Nature,
    NatureSubtype,
    Satisfaction,
    Severity,
    Status,
    Tier,
)
from kesu.complaints.deadlines import calendar_for, company_tz
from kesu.complaints.errors import RoleNotAllowed
from kesu.complaints.models import Category, Complaint, SlaBreach
from kesu.complaints.sweep import sweep
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType, ResidentKind, Role
from kesu.org.models import Building, Company, Department, Office, Resident, Unit, User
from kesu.worktime import WorkCalendar

from . import corpus

DEMO_PASSWORD = "demo12345"
COMPANY_NAME = "示范物业服务有限公司"

# The logins `kesu demo` prints.
DEMO_LOGINS: tuple[str, ...] = (
    "admin",
    "reception",
    "supervisor",
    "cs_manager",
    "handler",
    "director",
    "director2",
    "quality",
    "executive",
)

D = DepartmentType
# Departments every office has, and their names on the org chart.
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    (D.CS_CENTER, "客服中心"),
    (D.DUTY_ROOM, "监控中心"),
    (D.ENGINEERING, "工程部"),
    (D.SECURITY, "保安部"),
    (D.CLEANING, "环境部"),
    (D.LANDSCAPING, "绿化部"),
    (D.BILLING, "收费处"),
    (D.HOUSEKEEPING, "管家部"),
)
CLUBHOUSE = (D.CLUBHOUSE, "会所")
# Departments with their own handler and manager accounts (others are handled by the CS supervisor).
STAFFED_DEPARTMENTS: dict[str, str] = {D.ENGINEERING: "eng", D.SECURITY: "sec", D.CLEANING: "cln"}

# Which department takes a complaint of each category (assist complaints: neighbours' matters go
# to the housekeepers).
VALID_DEPARTMENT: dict[str, str] = {
    "facilities": D.ENGINEERING,
    "security": D.SECURITY,
    "fire": D.SECURITY,
    "traffic": D.SECURITY,
    "environment": D.CLEANING,
    "construction": D.HOUSEKEEPING,
    "fees": D.BILLING,
    "clubhouse": D.CLUBHOUSE,
    "service": D.CS_CENTER,
    "home_service": D.ENGINEERING,
    "internal": D.CS_CENTER,
}
ASSIST_DEPARTMENT: dict[str, str] = {
    **VALID_DEPARTMENT,
    "environment": D.HOUSEKEEPING,
    "fire": D.HOUSEKEEPING,
}

CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Channel.PHONE, 42),
    (Channel.VISIT, 20),
    (Channel.WECHAT, 12),
    (Channel.ONLINE, 8),
    (Channel.REFERRAL, 6),
    (Channel.LETTER, 4),
    (Channel.EMAIL, 3),
    (Channel.OTHER, 2),
    (Channel.MEDIA, 1),
)
MAJOR_CHANNEL_WEIGHTS: tuple[tuple[str, int], ...] = (
    (Channel.PHONE, 4),
    (Channel.VISIT, 3),
    (Channel.REFERRAL, 2),
    (Channel.MEDIA, 1),
)

# Maps corpus.DECLINE_REASONS (by position) to the reason code recorded with them.
DECLINE_CODES: tuple[str, ...] = (
    DeclineReason.OUTSIDE_RESPONSIBILITY,
    DeclineReason.OUTSIDE_RESPONSIBILITY,
    DeclineReason.OUTSIDE_RESPONSIBILITY,
    DeclineReason.OUTSIDE_RESPONSIBILITY,
    DeclineReason.IN_LITIGATION,
    DeclineReason.NO_FACTS,
    DeclineReason.OUTSIDE_RESPONSIBILITY,
)

# Short texts the corpus has no list for.
ASSIST_RESOLUTIONS = (
    "管家已上门与相关住户沟通，对方表示会注意，已将协调结果告知投诉业主。",
    "已在单元门口和业主群发布文明公约提醒，并对相关住户进行当面劝导。",
    "已约双方业主到管理处面谈，达成一致意见，管家继续跟进。",
    "已调取监控并上门提醒相关住户，同时加强该区域巡查。",
    "已联系相关住户到场处理，并协助双方沟通后续赔偿事宜。",
)
INVALID_ANSWERS = (
    "已向业主耐心解释：该事项不属于物业服务范围，并提供了相关单位的联系电话，业主表示理解。",
    "客服主管已致电业主说明情况，协助其联系相关责任单位，并将持续关注进展。",
    "已向业主说明该问题由开发商或专业公司负责，物业已代为转达，业主表示接受。",
)
ON_SPOT_ANSWERS = (
    "前台当场查询并向业主说明了情况，业主表示理解。",
    "客服当场解释收费标准并出示物价备案文件，业主认可。",
    "当场为业主联系了相关单位并告知办理渠道，业主表示满意。",
    "当场致歉并说明了原因和后续安排，业主表示接受。",
)
REVISE_REASONS = (
    "经现场核实，系楼上住户原因造成，不属于物业责任，改判为协助处理。",
    "经核查，问题由相邻业主引起，物业协助协调，改判为协助处理投诉。",
)
FACTS_UNTRUE_NOTES = (
    "经调取监控和现场核实，业主反映的情况与事实不符，已向业主说明。",
    "经多方核实，情况不属实，已向业主耐心解释并做好记录。",
)

# Fates: where a complaint's story ends (before `now` cuts it short).
NORMAL = "normal"
ON_SPOT = "on_spot"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
MERGED = "merged"
STUCK_RECEIVED = "stuck_received"
STUCK_DISPATCHED = "stuck_dispatched"
STUCK_IN_PROGRESS = "stuck_in_progress"
STUCK_RESOLVED = "stuck_resolved"
STUCK_RECTIFYING = "stuck_rectifying"
STUCK = (STUCK_RECEIVED, STUCK_DISPATCHED, STUCK_IN_PROGRESS, STUCK_RESOLVED, STUCK_RECTIFYING)
STUCK_WITHIN = dt.timedelta(days=14)
# Finished history goes through a backfill when its story ends this long before `now` (a story takes
# a few working days at most; one that still reaches `now` is right either way, only slower to write).
HISTORY_BEFORE = dt.timedelta(days=3)
# The first office: every state, step by step (the demo logins work there).
FIRST_OFFICE = "Y01"


class DemoError(Exception):
    """The database is not empty, or the parameters make no sense."""


@dataclass
class DemoSummary:
    offices: int = 0
    departments: int = 0
    buildings: int = 0
    units: int = 0
    residents: int = 0
    staff: int = 0
    complaints: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_nature: dict[str, int] = field(default_factory=dict)
    major: int = 0
    overdue: int = 0
    breaches: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        status = "  ".join(f"{Status(s).label} {n}" for s, n in self.by_status.items())
        nature = "  ".join(f"{Nature(s).label} {n}" for s, n in self.by_nature.items())
        return [
            f"管理处 offices: {self.offices}   部门 departments: {self.departments}   "
            f"楼栋 buildings: {self.buildings}   房屋 units: {self.units}",
            f"住户 residents: {self.residents}   员工 staff: {self.staff}",
            f"投诉 complaints: {self.complaints}   重大 major: {self.major}   "
            f"当前超时 overdue now: {self.overdue}   超时记录 breaches: {self.breaches}",
            f"按状态 by status: {status}",
            f"按性质 by nature: {nature}",
            f"用时 time: {self.seconds:.1f} s",
        ]


@dataclass
class _Office:
    office: Office
    depts: dict[str, Department]
    units: list[Unit]
    residents: list[Resident]
    staff: dict[str, User]  # receptionist, supervisor, cs_manager, director, eng_handler, eng_manager, ...
    cal: WorkCalendar


@dataclass
class _Plan:
    """One complaint's story, decided before anything is written."""

    received_at: dt.datetime
    rng: random.Random  # this complaint's own stream: its texts, people and story
    nature: str = Nature.VALID
    is_major: bool = False
    fate: str = NORMAL
    reopen: bool = False
    slow: bool = False
    category: str = ""
    template: str = ""
    unit: Unit | None = None
    resident: Resident | None = None
    repeat_of: int | None = None  # index of the earlier complaint in the office's plan list
    merge_into: int | None = None
    # Decided when it is registered:
    number: str = ""
    severity: str = ""
    subtype: str = ""
    judged_now: bool = False  # judged by whoever registered it, or later by the CS supervisor
    revise: bool = False  # judged valid first, revised to assist by the department
    dept: Department | None = None
    last_at: dt.datetime | None = None  # its last step
    history: bool = False  # written in bulk by a backfill (see the module's docstring)


class _Stop(Exception):
    """The next step would happen after `now`: the complaint stays where it is."""


class _Clock:
    """Moves one complaint's time forward; refuses to pass `now`."""

    def __init__(self, now: dt.datetime, cal: WorkCalendar, start: dt.datetime) -> None:
        self.now, self.cal, self.t = now, cal, start

    def after(self, *, minutes: float = 0, hours: float = 0, working: bool = False) -> dt.datetime:
        delta = dt.timedelta(minutes=minutes, hours=hours)
        t = self.cal.add_working_time(self.t, delta) if working else self.t + delta
        t = max(t, self.t + dt.timedelta(minutes=1))
        if t > self.now:
            raise _Stop
        self.t = t
        return t

    def wait_for_window(self) -> None:
        """Night or holiday: the next step waits for the next working morning."""
        if not self.cal.in_window(self.t):
            self.t = self.cal.next_window_start(self.t)


def generate(
    seed: int = 2026,
    months: int = 2,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    offices: int = 25,
    per_office_month: tuple[int, int] = (25, 40),
    bulk_history: bool = True,
) -> DemoSummary:
    """Create the demo company in an empty database and return what was made. `progress` hears a
    line per stage and, every few seconds, how far it is with an estimate of the time left.
    `bulk_history=False` writes the finished history step by step too (the same rows, slower)."""
    started = time.perf_counter()
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise DemoError("now must be timezone-aware")
    if not 1 <= months <= 12:
        raise DemoError("months must be between 1 and 12 (complaints may be back-dated one year at most)")
    if not 1 <= offices <= len(corpus.OFFICES):
        raise DemoError(f"offices must be between 1 and {len(corpus.OFFICES)}")
    if Complaint.objects.exists() or Office.objects.exists():
        raise DemoError(
            "数据库中已有管理处或投诉数据，演示数据只能导入空数据库。The database already has offices or complaints."
        )
    taken = list(User.objects.filter(username__in=DEMO_LOGINS).values_list("username", flat=True))
    if taken:
        raise DemoError(f"用户名已被占用 usernames already taken: {', '.join(sorted(taken))}")
    if Category.objects.filter(code__in=corpus.CATEGORY_CODES, is_active=True).count() != len(
        corpus.CATEGORY_CODES
    ):
        raise DemoError(
            "默认投诉分类缺失（请先 migrate）。The default categories are missing: run migrate first."
        )
    say = progress or (lambda line: None)

    with transaction.atomic():
        ctxs = _organisation(random.Random(seed), offices, say)
        gen = _Complaints(seed, now, months, per_office_month)
        plans = [gen.plans(ctx) for ctx in ctxs]
        if not bulk_history:
            for p in (p for office_plans in plans for p in office_plans):
                p.history = False
        eta = _Eta(sum(_Eta.work(office_plans) for office_plans in plans), say)
        for i, (ctx, office_plans) in enumerate(zip(ctxs, plans, strict=True), start=1):
            gen.run(ctx, office_plans)
            eta.done(
                _Eta.work(office_plans),
                f"{ctx.office.code} {ctx.office.name}: {len(office_plans)} 条投诉 complaints",
                i,
                len(ctxs),
            )
        say("时限检查 sweep: 检查当前超时 checking deadlines now…")
        result = sweep(now)
        # The story happened in the past: its SMS and in-app messages were delivered then. Only the
        # last day's stay pending, so a demo user sees their notifications arrive and the logs fill.
        day_ago = now - dt.timedelta(days=1)
        Outbox.objects.filter(created_at__lt=day_ago).update(state=Outbox.State.SENT, sent_at=F("created_at"))
        Outbox.objects.filter(created_at__lt=day_ago, channel=Outbox.Channel.INAPP).update(
            read_at=F("created_at")
        )

    summary = DemoSummary(
        offices=len(ctxs),
        departments=Department.objects.count(),
        buildings=Building.objects.count(),
        units=Unit.objects.count(),
        residents=Resident.objects.count(),
        staff=User.objects.count(),
        complaints=Complaint.objects.count(),
        major=Complaint.objects.filter(is_major=True).count(),
        overdue=Complaint.objects.overdue(now=now).count(),
        breaches=SlaBreach.objects.count(),
    )
    counts = Counter(Complaint.objects.values_list("status", flat=True))
    summary.by_status = {s: counts[s] for s in Status.values if counts[s]}
    natures = Counter(Complaint.objects.values_list("nature", flat=True))
    summary.by_nature = {n: natures[n] for n in Nature.values if natures[n]}
    summary.seconds = time.perf_counter() - started
    say(f"时限检查 sweep: {result.breaches} 条超时记录 breaches")
    return summary


class _Eta:
    """Progress lines with an estimate of the time left, at most one every few seconds."""

    EVERY = 3.0  # seconds between lines (the first and the last office always get one)
    STEP_BY_STEP = 4  # a complaint written step by step takes about four times one written in bulk

    @classmethod
    def work(cls, plans: list[_Plan]) -> int:
        return sum(1 if p.history else cls.STEP_BY_STEP for p in plans)

    def __init__(self, total: int, say: Callable[[str], None]) -> None:
        self.total, self.say = total, say
        self.count = 0
        self.started = self.last = time.perf_counter()

    def done(self, n: int, what: str, i: int, of: int) -> None:
        self.count += n
        t = time.perf_counter()
        if i not in (1, of) and t - self.last < self.EVERY:
            return
        self.last = t
        left = (t - self.started) / max(self.count, 1) * (self.total - self.count)
        remaining = f" · 约剩 {left:.0f} 秒 about {left:.0f} s left" if i < of else ""
        self.say(f"{what} · 管理处 office {i}/{of}{remaining}")


# ---------------------------------------------------------------------------------------------
# organisation


def _organisation(rng: random.Random, n_offices: int, say: Callable[[str], None]) -> list[_Office]:
    password = make_password(DEMO_PASSWORD)  # once: Argon2 is deliberately slow
    company = Company.objects.create(name=COMPANY_NAME)
    offices = Office.objects.bulk_create(
        [
            Office(company=company, code=code, name=name, households=0)
            for code, name in corpus.OFFICES[:n_offices]
        ]
    )
    dept_rows: list[Department] = []
    for office in offices:
        kinds = list(DEPARTMENTS)
        if rng.random() < 0.5 or office.code == "Y01":
            kinds.append(CLUBHOUSE)
        dept_rows += [Department(office=office, type=t, name=name) for t, name in kinds]
    dept_rows = Department.objects.bulk_create(dept_rows)

    phones: set[str] = set()

    def unique_mobile() -> str:
        while True:
            phone = corpus.mobile(rng)
            if phone not in phones:
                phones.add(phone)
                return phone

    users: list[User] = []
    user_offices: list[tuple[User, Office | None]] = []

    def staff(
        username: str, role: str, office: Office | None, dept: Department | None = None, **extra
    ) -> User:
        u = User(
            username=username,
            email=f"{username}@demo.kesu.local",  # the demo's e-mail log fills as people work
            password=password,
            role=role,
            department=dept,
            display_name=corpus.person_name(rng),
            phone=unique_mobile(),
            **extra,
        )
        users.append(u)
        user_offices.append((u, office))
        return u

    ctxs: list[_Office] = []
    for office in offices:
        depts = {d.type: d for d in dept_rows if d.office_id == office.pk}
        prefix = office.code.lower() + "_"
        first, second = office.code == "Y01", office.code == "Y02"
        people = {
            "receptionist": staff(
                "reception" if first else prefix + "reception", Role.RECEPTIONIST, office, on_night_duty=True
            ),
            "supervisor": staff("supervisor" if first else prefix + "supervisor", Role.SUPERVISOR, office),
            "cs_manager": staff("cs_manager" if first else prefix + "cs_manager", Role.CS_MANAGER, office),
            "director": staff(
                "director" if first else "director2" if second else prefix + "director", Role.DIRECTOR, office
            ),
        }
        for dtype, short in STAFFED_DEPARTMENTS.items():
            name = "handler" if first and dtype == D.ENGINEERING else f"{prefix}{short}_handler"
            people[f"{short}_handler"] = staff(name, Role.HANDLER, None, depts[dtype])
            people[f"{short}_manager"] = staff(
                f"{prefix}{short}_manager", Role.DEPT_MANAGER, None, depts[dtype]
            )
        ctxs.append(_Office(office, depts, [], [], people, calendar_for(office)))
    staff("quality", Role.QUALITY, None)
    staff("executive", Role.EXECUTIVE, None)
    staff("admin", Role.ADMIN, None, is_superuser=True, is_staff=True)
    User.objects.bulk_create(users)
    Through = User.offices.through
    Through.objects.bulk_create(
        [Through(user_id=u.pk, office_id=o.pk) for u, o in user_offices if o is not None]
    )
    say(f"公司与员工 company and staff: {len(offices)} 个管理处, {len(users)} 个账号 accounts")

    # Households 600–3000 (skewed small). The homes on file are laid out as buildings × floors ×
    # homes per floor, up to 33 floors: as many as the households, or fewer in the largest estates
    # (which keeps the demo near 25,000 homes).
    for ctx in ctxs:
        ctx.office.households = 600 + int(2400 * rng.random() ** 1.6)
        n_buildings = rng.randint(6, 14)
        per_floor = rng.randint(2, 4)
        floors = max(6, min(33, ctx.office.households // (n_buildings * per_floor)))
        buildings = Building.objects.bulk_create(
            [Building(office=ctx.office, name=f"{i}栋") for i in range(1, n_buildings + 1)]
        )
        units = [
            Unit(
                building=b,
                number=f"{floor}{k:02d}",
                code=Unit.make_code(ctx.office.code, b.name, f"{floor}{k:02d}"),
            )
            for b in buildings
            for floor in range(1, floors + 1)
            for k in range(1, per_floor + 1)
        ]
        ctx.units = Unit.objects.bulk_create(units, batch_size=2000)

        # About 12% of homes have residents on file (1–2 people); complaints come mostly from them.
        chosen = rng.sample(ctx.units, max(20, round(len(units) * 0.12)))
        residents: list[Resident] = []
        for unit in chosen:
            residents.append(Resident(unit=unit, name=corpus.person_name(rng), phone=unique_mobile()))
            if rng.random() < 0.45:
                kind = ResidentKind.FAMILY if rng.random() < 0.7 else ResidentKind.TENANT
                residents.append(
                    Resident(unit=unit, name=corpus.person_name(rng), phone=unique_mobile(), kind=kind)
                )
        ctx.residents = Resident.objects.bulk_create(residents, batch_size=2000)
    Office.objects.bulk_update([c.office for c in ctxs], ["households"])
    say(
        f"房屋与住户 homes and residents: {sum(len(c.units) for c in ctxs)} 户, "
        f"{sum(len(c.residents) for c in ctxs)} 位住户"
    )
    return ctxs


# ---------------------------------------------------------------------------------------------
# complaints


def _stream(seed: int, *names: object) -> random.Random:
    """A random stream of its own, named (seeded from a str: SHA-512, not the salted str hash)."""
    return random.Random("/".join(str(n) for n in (seed, *names)))


class _Complaints:
    """Plans and runs the complaints. `self.rng` is the stream in use: an office's plan stream while
    planning, then each complaint's own while its content and story are decided."""

    def __init__(self, seed: int, now: dt.datetime, months: int, per_month: tuple[int, int]) -> None:
        self.seed, self.now, self.months = seed, now, months
        self.rng = _stream(seed)
        self.per_month = per_month
        # The plan's lines are drawn at midnight (today's, in the company's time zone), so loads on the
        # same day plan the same complaints; only the stories reach `now` itself.
        tz = company_tz()
        self.today = dt.datetime.combine(now.astimezone(tz).date(), dt.time(0), tzinfo=tz)
        self.start = self.today - dt.timedelta(days=round(30.4 * months))
        self.deck: list[str] = []
        self.deck_rng = self.rng
        self.categories = {c.code: c for c in Category.objects.filter(code__in=corpus.CATEGORY_CODES)}
        self.merges_left = 2  # "one or two" merged complaints in the company (one of them in Y01)
        self.quality = User.objects.get(username="quality")  # registers what reaches the company directly

    # -- planning ---------------------------------------------------------------------------

    def _valid_category(self) -> str:
        # A shuffled deck, so even a small demo has every category.
        if not self.deck:
            self.deck = list(corpus.CATEGORY_CODES)
            self.deck_rng.shuffle(self.deck)
        return self.deck.pop()

    def _received_times(self, rng: random.Random, n: int) -> list[tuple[dt.datetime, int]]:
        """`n` times of receipt from the first day to the end of today, each with the number of the
        draw that made it (which names the complaint's own stream); those not yet come at `now` are
        left out, without a replacement, so a later load the same day has the same complaints and
        today's later ones too. Every draw takes the same six numbers."""
        tz = company_tz()
        first = self.start.astimezone(tz).date()
        days = (self.now.astimezone(tz).date() - first).days

        def pick(lo: int, hi: int, u: float) -> int:
            return lo + int(u * (hi - lo + 1))

        out: list[tuple[dt.datetime, int]] = []
        draw = 0
        while len(out) < n:
            draw += 1
            u_day, u_weekend, u_night, u_evening, u_minute, u_second = (rng.random() for _ in range(6))
            day = first + dt.timedelta(days=pick(0, days, u_day))
            if day.weekday() >= 5 and u_weekend < 0.3:
                continue  # fewer complaints at weekends
            if u_night < 0.15:  # night: mostly evening, some small hours
                minute = (
                    pick(19 * 60, 23 * 60 + 50, u_minute)
                    if u_evening < 0.75
                    else pick(0, 7 * 60 + 50, u_minute)
                )
            else:  # mostly in the working window, busiest mid-morning and afternoon
                minute = int(_triangular(u_minute, 8 * 60 + 5, 18 * 60 + 55, 10 * 60 + 30))
            t = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(
                minutes=minute, seconds=pick(0, 59, u_second)
            )
            out.append((t, draw))
        cut = self.now - dt.timedelta(minutes=15)  # registered by now, with a few minutes to spare
        return sorted((t, draw) for t, draw in out if t <= cut)

    def plans(self, ctx: _Office) -> list[_Plan]:
        """The office's complaints, decided before anything is written (its own streams only)."""
        code = ctx.office.code
        rng = self.rng = _stream(self.seed, code, "plan")
        self.deck, self.deck_rng = [], _stream(self.seed, code, "categories")
        lo, hi = self.per_month
        n = sum(rng.randint(lo, hi) for _ in range(self.months))
        rich = code == FIRST_OFFICE
        if rich:
            n = round(n * 1.25)
        times = self._received_times(_stream(self.seed, code, "times"), n)
        plans = [_Plan(received_at=t, rng=_stream(self.seed, code, draw)) for t, draw in times]

        # Decide nature, major flag and fate.
        for p in plans:
            rng = self.rng = p.rng
            r = rng.random()
            if r < 0.03:
                p.nature, p.is_major = Nature.VALID, True
            elif r < 0.57:
                p.nature = Nature.VALID
            elif r < 0.86:
                p.nature = Nature.ASSIST
            else:
                p.nature = Nature.INVALID
            p.fate, p.reopen = self._fate(p)
            p.slow = rng.random() < 0.05
            if p.fate in STUCK and p.received_at < self.today - STUCK_WITHIN:
                p.fate = NORMAL  # forgotten for weeks would be absurd: only recent ones are stuck

        # Pairs (a repeat, a merge) and, in the first office, one complaint in every state; all
        # received at least three days ago, so those left open are overdue and show red.
        rng = self.rng = _stream(self.seed, code, "pairs")
        free = [i for i, p in enumerate(plans) if p.received_at < self.today - dt.timedelta(days=3)]
        if self.merges_left > 0 and (rich or rng.random() < 0.1) and (pair := self._pair_merge(plans, free)):
            free = [i for i in free if i not in pair]
        if (rich or rng.random() < 0.6) and (pair := self._pair_repeat(plans, free)):
            free = [i for i in free if i not in pair]
        if rich:
            self._force_every_state(plans, free)

        for p in plans:
            self.rng = p.rng
            self._content(ctx, p)
        paired: set[int] = set()
        for p in plans:  # a repeat complaint is about the same home and problem as the first one
            if p.repeat_of is not None or p.merge_into is not None:
                first = plans[p.repeat_of if p.repeat_of is not None else p.merge_into]  # type: ignore[index]
                p.nature, p.is_major, p.category, p.template = (
                    first.nature,
                    first.is_major,
                    first.category,
                    first.template,
                )
                if p.repeat_of is not None:
                    p.unit, p.resident = first.unit, first.resident
                paired |= {id(p), id(first)}
        history_before = self.today - HISTORY_BEFORE
        for p in plans:
            p.history = (
                not rich
                and id(p) not in paired
                and p.fate in (NORMAL, ON_SPOT, DECLINED, WITHDRAWN)
                and p.received_at < history_before
            )
        return plans

    def _fate(self, p: _Plan) -> tuple[str, bool]:
        r = self.rng.random()
        if p.is_major:
            if r < 0.1:
                return STUCK_IN_PROGRESS, False
            return NORMAL, r < 0.25
        if p.nature == Nature.INVALID:
            if r < 0.2:
                return DECLINED, False
            if r < 0.45:
                return ON_SPOT, False
            if r < 0.49:
                return WITHDRAWN, False
            if r < 0.52:
                return STUCK_RECEIVED, False
            return NORMAL, False
        withdrawn = 0.03 if p.nature == Nature.ASSIST else 0.015
        for fate, share in (
            (WITHDRAWN, withdrawn),
            (ON_SPOT, 0.025),
            (STUCK_RECEIVED, 0.006),
            (STUCK_DISPATCHED, 0.01),
            (STUCK_IN_PROGRESS, 0.016),
            (STUCK_RESOLVED, 0.01),
            (STUCK_RECTIFYING, 0.008),
        ):
            if r < share:
                return fate, fate == STUCK_RECTIFYING
            r -= share
        return NORMAL, self.rng.random() < 0.08

    def _pair_repeat(self, plans: list[_Plan], old: list[int]) -> tuple[int, int] | None:
        candidates = [i for i in old if plans[i].fate == NORMAL and plans[i].nature != Nature.INVALID]
        if len(candidates) < 2:
            return None
        a, b = sorted(self.rng.sample(candidates, 2))
        plans[a].slow = True  # the first one was not answered in time: that is why they called again
        plans[b].repeat_of = a
        return a, b

    def _pair_merge(self, plans: list[_Plan], old: list[int]) -> tuple[int, int] | None:
        candidates = [i for i in old if plans[i].nature != Nature.INVALID and not plans[i].is_major]
        recent = [i for i in candidates if plans[i].received_at >= self.today - STUCK_WITHIN]
        if len(recent) >= 2:
            candidates = recent
        if len(candidates) < 2:
            return None
        a, b = sorted(self.rng.sample(candidates, 2))
        # The target is still being worked on when the second resident calls.
        plans[a].fate, plans[a].reopen = STUCK_IN_PROGRESS, False
        plans[b].fate, plans[b].merge_into = MERGED, a
        self.merges_left -= 1
        return a, b

    def _force_every_state(self, plans: list[_Plan], old: list[int]) -> None:
        """The first office shows every state (and an overdue complaint in each open one)."""
        free = list(old)
        self.rng.shuffle(free)
        recent = [i for i in free if plans[i].received_at >= self.today - STUCK_WITHIN]
        older = [i for i in free if i not in recent]
        wanted: list[tuple[str, str, bool, bool]] = [  # fate, nature, major, reopen
            (STUCK_RECEIVED, Nature.VALID, False, False),
            (STUCK_DISPATCHED, Nature.VALID, False, False),
            (STUCK_IN_PROGRESS, Nature.VALID, False, False),
            (STUCK_RESOLVED, Nature.ASSIST, False, False),
            (STUCK_RECTIFYING, Nature.VALID, False, True),
            (DECLINED, Nature.INVALID, False, False),
            (WITHDRAWN, Nature.ASSIST, False, False),
            (ON_SPOT, Nature.INVALID, False, False),
            (NORMAL, Nature.VALID, False, True),  # reopened once, then closed
            (NORMAL, Nature.VALID, True, False),  # a major complaint, closed
            (NORMAL, Nature.ASSIST, False, False),
            (NORMAL, Nature.INVALID, False, False),
        ]
        for fate, nature, major, reopen in wanted:
            # Stuck ones from the last two weeks, finished ones from before, as far as there are any.
            first, second = (recent, older) if fate in STUCK else (older, recent)
            if not (first or second):
                break
            i = (first or second).pop()
            plans[i].fate, plans[i].nature, plans[i].is_major, plans[i].reopen = fate, nature, major, reopen

    def _content(self, ctx: _Office, p: _Plan) -> None:
        rng = self.rng
        if p.is_major:
            i = rng.randrange(len(corpus.MAJOR_TEXTS))
            p.template, p.category = corpus.MAJOR_TEXTS[i], corpus.MAJOR_CATEGORY[i]
        elif p.nature == Nature.VALID:
            p.category = self._valid_category()
            p.template = rng.choice(corpus.CATEGORY_TEXTS[p.category])
        elif p.nature == Nature.ASSIST:
            i = rng.randrange(len(corpus.ASSIST_TEXTS))
            p.template, p.category = corpus.ASSIST_TEXTS[i], corpus.ASSIST_CATEGORY[i]
        else:
            i = rng.randrange(len(corpus.INVALID_TEXTS))
            p.template, p.category = corpus.INVALID_TEXTS[i], corpus.INVALID_CATEGORY[i]
        if rng.random() < 0.8:
            p.resident = rng.choice(ctx.residents)
            p.unit = p.resident.unit
        else:
            p.unit = rng.choice(ctx.units)

    # -- running ----------------------------------------------------------------------------

    def run(self, ctx: _Office, plans: list[_Plan]) -> None:
        """Register and tell every story, in order of receipt (so numbers follow it); the office's
        finished history is held by a backfill and written in bulk at the end."""
        with backfill.Backfill() as history:
            for p in plans:
                self.rng = p.rng
                clock = _Clock(self.now, ctx.cal, p.received_at)
                if p.history:
                    c = self._register(ctx, p, clock)
                else:
                    with history.paused():
                        c = self._register(ctx, p, clock)
                with contextlib.suppress(_Stop):  # the story goes on after `now`: it stays where it is
                    self._story(ctx, p, c, clock, plans)
                p.last_at = clock.t
            history.flush()

    def _register(self, ctx: _Office, p: _Plan, clock: _Clock) -> Complaint:
        rng, s = self.rng, ctx.staff
        night = not ctx.cal.in_window(p.received_at)
        unit = p.unit
        assert unit is not None
        content = corpus.fill(p.template, rng, unit.building.name, unit.number)
        if p.repeat_of is not None:
            content = "业主再次反映：" + content
        channel = _weighted(rng, MAJOR_CHANNEL_WEIGHTS if p.is_major else CHANNEL_WEIGHTS)
        if p.fate == ON_SPOT:
            channel = rng.choice([Channel.PHONE, Channel.VISIT])

        # Who takes it: night duty at night; the company itself for some letters and referrals.
        if night:
            registrar = s["receptionist"]
        elif (
            channel in (Channel.REFERRAL, Channel.LETTER, Channel.EMAIL, Channel.MEDIA) and rng.random() < 0.3
        ):
            registrar = self.quality
        else:
            registrar = s["receptionist"] if rng.random() < 0.8 else s["supervisor"]

        resident = p.resident
        link = resident is not None and rng.random() < {Channel.PHONE: 0.9, Channel.VISIT: 0.7}.get(
            channel, 0.4
        )
        name = resident.name if resident is not None else corpus.person_name(rng)
        phone = resident.phone if resident is not None else corpus.mobile(rng)
        if channel == Channel.LETTER and rng.random() < 0.5:
            phone = ""

        p.severity = self._severity(p)
        if p.nature == Nature.ASSIST and rng.random() < 0.5:
            p.subtype = NatureSubtype.HELP
        elif p.nature == Nature.INVALID:
            p.subtype = rng.choice([NatureSubtype.ENQUIRY, NatureSubtype.ENQUIRY, NatureSubtype.VENTING, ""])
        # A handler may later find a neighbour was the cause (责任部门判定有效性): judged valid first.
        p.revise = p.nature == Nature.ASSIST and p.fate == NORMAL and rng.random() < 0.12
        p.judged_now = (
            p.is_major
            or p.fate in (ON_SPOT, DECLINED, MERGED)  # a merged one takes its judgement from the desk
            or rng.random() < (0.9 if registrar.role != Role.RECEPTIONIST else 0.6)
        )
        dept = p.dept = ctx.depts.get(
            (VALID_DEPARTMENT if p.nature == Nature.VALID else ASSIST_DEPARTMENT)[p.category],
            ctx.depts[D.CS_CENTER],
        )
        complained = {}
        if (
            p.nature == Nature.VALID
            and p.category in ("service", "security", "internal", "home_service")
            and rng.random() < 0.4
        ):
            complained = {"complained_department": dept, "complained_party": dept.name}

        delay = rng.randint(2, 9) if channel in (Channel.PHONE, Channel.VISIT) else rng.randint(5, 40)
        reg_at = clock.t = min(p.received_at + dt.timedelta(minutes=delay), self.now)
        requested_by = None
        if p.severity == Severity.MINOR and rng.random() < 0.1:
            requested_by = p.received_at + dt.timedelta(days=rng.randint(1, 3))
        c = services.register(
            registrar,
            office=ctx.office,
            channel=channel,
            content=content,
            complainant_name=name,
            phone=phone,
            unit=unit,
            resident=resident if link else None,
            received_at=p.received_at,
            on_spot_answer=rng.choice(ON_SPOT_ANSWERS) if p.fate == ON_SPOT else "",
            requested_by=requested_by,
            nature=(Nature.VALID if p.revise else p.nature) if p.judged_now else "",
            nature_subtype=p.subtype if p.judged_now and not p.revise else "",
            is_major=p.is_major,
            severity=p.severity if p.judged_now else "",
            category=self.categories[p.category] if p.judged_now else None,
            at=reg_at,
            **complained,
        )
        p.number = c.number
        return c

    def _story(self, ctx: _Office, p: _Plan, c: Complaint, clock: _Clock, plans: list[_Plan]) -> None:
        """Everything after registration, step by step; `clock` raises _Stop at `now`."""
        rng, s = self.rng, ctx.staff
        dept = p.dept
        assert dept is not None
        sup, mgr, director = s["supervisor"], s["cs_manager"], s["director"]

        if p.repeat_of is not None:
            if not p.is_major:
                clock.wait_for_window()
            c = services.link_repeat(
                c,
                sup,
                target=plans[p.repeat_of].number,
                reason="业主称此前反映的问题未在承诺时间内答复，再次投诉。",
                at=clock.after(minutes=rng.randint(5, 40)),
            )
        if p.merge_into is not None:
            # Merged after the target's own steps so far, so the target's timeline reads in order.
            clock.t = max(clock.t, plans[p.merge_into].last_at or clock.t)
            clock.wait_for_window()
            services.merge(
                c,
                sup,
                target=plans[p.merge_into].number,
                reason="多位业主反映同一问题，合并处理、统一答复。",
                at=clock.after(minutes=rng.randint(10, 90), working=True),
            )
            return
        if not p.judged_now:
            if not p.is_major:
                clock.wait_for_window()
            c = services.assess(
                c,
                sup,
                nature=Nature.VALID if p.revise else p.nature,
                nature_subtype=p.subtype if not p.revise else "",
                severity=p.severity,
                category=self.categories[p.category],
                at=clock.after(minutes=rng.randint(3, 25), working=True),
            )
        if p.fate == STUCK_RECEIVED:
            return

        if p.fate == ON_SPOT:
            clock.wait_for_window()
            if rng.random() < 0.3:
                c = self._call_back(ctx, p, c, clock, Satisfaction.SATISFIED)
            services.close(
                c,
                sup,
                note="当场答复，投诉人满意。",
                at=clock.after(minutes=rng.randint(10, 120), working=True),
                **self._lesson(p),
            )
            return
        if p.fate == DECLINED:
            clock.wait_for_window()
            i = rng.randrange(len(corpus.DECLINE_REASONS))
            services.decline(
                c,
                sup,
                reason=DECLINE_CODES[i],
                explanation=corpus.DECLINE_REASONS[i],
                at=clock.after(hours=rng.uniform(0.3, 6), working=True),
            )
            return
        withdraw_early = p.fate == WITHDRAWN and (p.nature == Nature.INVALID or rng.random() < 0.5)
        if withdraw_early:
            services.withdraw(
                c,
                rng.choice([s["receptionist"], sup]),
                reason=rng.choice(corpus.WITHDRAW_REASONS),
                at=clock.after(hours=rng.uniform(0.5, 20)),
            )
            return

        if p.nature == Nature.INVALID:
            # Not the company's matter: the CS supervisor explains, then calls back.
            clock.wait_for_window()
            c = services.resolve(
                c,
                sup,
                resolution=rng.choice(INVALID_ANSWERS),
                at=clock.after(hours=rng.uniform(0.3, 8), working=True),
            )
            if rng.random() < 0.2:
                services.close(
                    c,
                    sup,
                    outcome=CloseOutcome.FACTS_UNTRUE,
                    note=rng.choice(FACTS_UNTRUE_NOTES),
                    at=clock.after(minutes=rng.randint(10, 120), working=True),
                )
                return
            c = self._call_back(ctx, p, c, clock, self._satisfaction())
            services.close(c, sup, at=clock.after(minutes=rng.randint(5, 180), working=True))
            return

        # Forward to the responsible department (转呈/派单): major at once, night ones next morning.
        if not p.is_major:
            clock.wait_for_window()
        late = rng.random() < 0.06
        minutes = rng.randint(2, 9) if p.is_major else rng.randint(25, 120) if late else rng.randint(2, 18)
        dispatch_at = clock.after(minutes=minutes)
        dispatcher = s["receptionist"] if ctx.cal.in_window(dispatch_at) and rng.random() < 0.6 else sup
        short = STAFFED_DEPARTMENTS.get(dept.type)
        handler = None
        if short:
            handler = s[f"{short}_manager"] if p.is_major or rng.random() < 0.15 else s[f"{short}_handler"]
        c = services.dispatch(
            c,
            dispatcher,
            department=dept,
            handler=handler,
            note="重大投诉，请立即到场处理。" if p.is_major else "",
            at=dispatch_at,
        )
        if p.is_major:  # the office director reports it to the company within the hour (上报公司)
            c = services.report(
                c,
                director,
                summary="重大投诉，管理处主任已到场处置，现上报公司品质管理部及公司领导。",
                at=clock.after(minutes=rng.randint(10, 45)),
            )
        if p.fate == STUCK_DISPATCHED:
            return
        if p.fate == WITHDRAWN:
            services.withdraw(
                c, sup, reason=rng.choice(corpus.WITHDRAW_REASONS), at=clock.after(hours=rng.uniform(1, 30))
            )
            return

        # The department takes the job; departments without their own accounts are run by the CS supervisor.
        worker = handler or sup
        c = services.accept(
            c,
            worker,
            at=clock.after(
                minutes=rng.randint(5, 30) if p.is_major else rng.randint(5, 90), working=not p.is_major
            ),
        )
        if p.revise:
            c = services.assess(
                c,
                worker,
                nature=Nature.ASSIST,
                reason=rng.choice(REVISE_REASONS),
                at=clock.after(hours=rng.uniform(0.5, 4), working=True),
            )
        if rng.random() < 0.6 or p.slow or p.fate == STUCK_IN_PROGRESS:
            c = services.note(
                c,
                sup,
                text=rng.choice(corpus.COMPLAINANT_NOTES),
                tell_complainant=True,
                at=clock.after(hours=rng.uniform(0.5, 6), working=True),
            )
        if rng.random() < 0.35 or p.fate == STUCK_IN_PROGRESS:
            c = services.note(
                c,
                worker,
                text=rng.choice(corpus.INTERNAL_NOTES),
                at=clock.after(hours=rng.uniform(0.5, 8), working=True),
            )
        if p.fate == STUCK_IN_PROGRESS:
            if not p.is_major and c.tier == Tier.FRONT_LINE and rng.random() < 0.5:
                services.escalate(
                    c,
                    sup,
                    reason="处理进度滞后，升级客服中心经理跟进。",
                    at=clock.after(hours=rng.uniform(20, 40), working=True),
                )
            return

        # Resolve: most within the limit, some late (so the timeline shows breaches).
        if p.is_major:
            resolve_at = clock.after(hours=rng.uniform(3, 20))
        elif p.slow or rng.random() < 0.05:
            resolve_at = clock.after(hours=rng.uniform(26, 60), working=True)
        else:
            resolve_at = clock.after(hours=rng.uniform(0.5, 16), working=True)
        c = services.resolve(c, worker, resolution=self._resolution(p), at=resolve_at)
        if p.fate == STUCK_RESOLVED:
            return

        # 不满意 starts rectification in the same step, with a deadline the caller sets.
        rectify_hours = rng.choice([8, 16, 24]) if p.reopen else None
        c = self._call_back(
            ctx, p, c, clock, Satisfaction.DISSATISFIED if p.reopen else self._satisfaction(), rectify_hours
        )
        if p.reopen:
            if p.fate == STUCK_RECTIFYING:
                if rng.random() < 0.5:
                    services.note(
                        c,
                        worker,
                        text=rng.choice(corpus.INTERNAL_NOTES),
                        at=clock.after(hours=rng.uniform(1, 6), working=True),
                    )
                return
            c = services.note(
                c,
                worker,
                text=rng.choice(corpus.INTERNAL_NOTES),
                at=clock.after(hours=rng.uniform(0.5, 4), working=True),
            )
            c = services.resolve(
                c,
                worker,
                resolution=self._resolution(p),
                at=clock.after(hours=rng.uniform(2, 16), working=True),
            )
            c = self._call_back(ctx, p, c, clock, Satisfaction.SATISFIED)

        closer = rng.choice([mgr, director]) if p.is_major else sup
        outcome = CloseOutcome.RESOLVED
        note = ""
        if p.nature == Nature.ASSIST and rng.random() < 0.1:
            outcome, note = CloseOutcome.MEDIATION, "经管理处调解，双方达成一致。"
        if isinstance(services.close_refusal(c, closer, outcome), RoleNotAllowed):
            closer = mgr  # ended other than by satisfying a complainant who once said no: a manager's call
        services.close(
            c,
            closer,
            outcome=outcome,
            note=note,
            at=clock.after(minutes=rng.randint(10, 240), working=True),
            **self._lesson(p),
        )

    # -- pieces -----------------------------------------------------------------------------

    def _severity(self, p: _Plan) -> str:
        if p.is_major:
            return Severity.MAJOR
        general = {Nature.VALID: 0.65, Nature.ASSIST: 0.45}.get(p.nature, 0.2)
        return Severity.GENERAL if self.rng.random() < general else Severity.MINOR

    def _satisfaction(self) -> str:
        return Satisfaction.SATISFIED if self.rng.random() < 0.78 else Satisfaction.BASICALLY_SATISFIED

    def _resolution(self, p: _Plan) -> str:
        if p.nature == Nature.ASSIST:
            return self.rng.choice(ASSIST_RESOLUTIONS)
        return self.rng.choice(corpus.RESOLUTIONS[p.category])

    def _lesson(self, p: _Plan) -> dict[str, str]:
        if p.nature != Nature.VALID:
            return {}
        cause, learned, prevention = self.rng.choice(corpus.LESSONS[p.category])
        return {"lesson_cause": cause, "lesson_learned": learned, "lesson_prevention": prevention}

    def _call_back(
        self,
        ctx: _Office,
        p: _Plan,
        c: Complaint,
        clock: _Clock,
        satisfaction: str,
        rectify_hours: int | None = None,
    ) -> Complaint:
        """回访: the CS supervisor by phone; major ones on site by the CS manager or the director."""
        rng, s = self.rng, ctx.staff
        if p.is_major:
            by, method = rng.choice([s["cs_manager"], s["director"]]), CallbackMethod.ONSITE
            at = clock.after(hours=rng.uniform(2, 20))
        else:
            r = rng.random()
            by = s["supervisor"] if r < 0.8 else s["cs_manager"] if r < 0.95 else s["director"]
            method = CallbackMethod.PHONE if rng.random() < 0.85 else CallbackMethod.ONSITE
            at = clock.after(hours=rng.uniform(0.3, 6), working=True)
        return services.call_back(
            c,
            by,
            method=method,
            satisfaction=satisfaction,
            words=rng.choice(corpus.CALLBACK_WORDS[satisfaction]),
            confirmed=rng.random() < 0.7,
            rectify_due_at=ctx.cal.add_working_hours(at, rectify_hours) if rectify_hours else None,
            rectify_reason="回访不满意，要求责任部门整改并再次回访。" if rectify_hours else "",
            at=at,
        )


def _triangular(u: float, low: float, high: float, mode: float) -> float:
    """random.triangular's law, from a uniform number drawn beforehand."""
    c = (mode - low) / (high - low)
    if u > c:
        u, c, low, high = 1.0 - u, 1.0 - c, high, low
    return low + (high - low) * (u * c) ** 0.5


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]
