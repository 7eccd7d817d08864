"""Home page data: what waits for this user now (most urgent first), counts for their scope,
and the managers' own callbacks against their quota (kesu.complaints.policy)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kesu.complaints import policy, services
from kesu.complaints.choices import OPEN_STATUSES, Deadline, Satisfaction, Severity, Status, Tier
from kesu.complaints.deadlines import due_soon_q, overdue_q, pending_q
from kesu.complaints.models import Callback, Complaint
from kesu.complaints.scope import ComplainantView, complainant_view
from kesu.notify.models import Escalation
from kesu.org.choices import Role

from . import clock

QUEUE_LIMIT = 60
ROW_RELATED = ("office", "category", "department", "handler", "unit__building", "complained_staff")

WAITING_DISPATCH = ("dispatch", _("待判定/派单"), Q(status=Status.RECEIVED))
AWAITING_CALLBACK = (
    "callback",
    _("待回访"),
    Q(status=Status.RESOLVED, called_back_at__isnull=True) & policy.needs_callback_q(),
)
# Enquiries settled at the counter owe no callback; they wait only to be closed (policy.settled_at_counter).
SETTLED_AT_COUNTER = (
    "settled",
    _("当场答复的咨询·待结案"),
    Q(status=Status.RESOLVED) & policy.settled_at_counter_q(),
)
DISSATISFIED = (
    "rectify",
    _("不满意待整改"),
    Q(status=Status.RESOLVED, satisfaction=Satisfaction.DISSATISFIED),
)
OVERDUE = ("overdue", _("已超时"), None)  # the Q needs "now"
MAJOR = (
    "major",
    _("重大投诉"),
    Q(status__in=OPEN_STATUSES) & (Q(is_major=True) | Q(severity=Severity.MAJOR)),
)


@dataclass
class Item:
    complaint: Complaint
    who: ComplainantView  # the complainant as this user may see them (the home, or nothing)
    reasons: list[str] = field(default_factory=list)
    due: clock.Due | None = None


def sections_for(user, now: dt.datetime) -> list[tuple[str, str, Q]]:
    role = services.role_of(user)
    overdue = (OVERDUE[0], OVERDUE[1], overdue_q(now=now))
    if role == Role.RECEPTIONIST:
        mine = Q(
            owner=user, status__in=OPEN_STATUSES, answered_at__isnull=True, committed_answer_at__isnull=False
        )
        return [WAITING_DISPATCH, ("answer", _("我受理·待答复"), mine)]
    if role == Role.SUPERVISOR:
        return [WAITING_DISPATCH, AWAITING_CALLBACK, DISSATISFIED, SETTLED_AT_COUNTER, overdue]
    if role in (Role.CS_MANAGER, Role.DIRECTOR):
        tier = policy.tier_of(role)
        escalated = ("escalated", _("升级至我"), Q(status__in=OPEN_STATUSES, tier=tier))
        return [overdue, AWAITING_CALLBACK, DISSATISFIED, escalated, MAJOR]
    if role in (Role.HANDLER, Role.DEPT_MANAGER):
        dept = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
        to_take = Q(status=Status.DISPATCHED) & dept
        working = Q(status__in=[Status.IN_PROGRESS, Status.RECTIFYING])
        if role == Role.HANDLER:
            to_take &= Q(handler__isnull=True) | Q(handler=user)
            working &= Q(handler=user) | (dept & Q(handler__isnull=True))
        else:
            working &= dept
        return [("accept", _("待接单"), to_take), ("working", _("处理中/整改"), working)]
    company = ("escalated", _("已上报公司"), Q(status__in=OPEN_STATUSES, tier__gte=Tier.COMPANY))
    if role == Role.EXECUTIVE:
        # What is the executive's own: majors, escalations to the company, and deadlines the ladder
        # raised to the top — not the quality department's list of every breach.
        ladder = ("ladder", _("超时升级至我"), Q(status__in=OPEN_STATUSES) & Q(pk__in=_raised_to_top(now)))
        return [company, ladder, MAJOR]
    # the quality department (and admin): escalations to the company, majors, and every breach.
    return [company, MAJOR, overdue]


def _raised_to_top(now: dt.datetime):
    """Complaints whose passed deadline the ladder has raised to the executive and that is still passed."""
    top = Escalation.objects.filter(tier__gte=Tier.EXECUTIVE)
    return Complaint.objects.filter(overdue_q(now=now), breaches__escalations__in=top).values("pk")


def my_queue(user, now: dt.datetime | None = None, limit: int = QUEUE_LIMIT) -> list[Item]:
    """One small query per section, merged by complaint; the soonest deadline first."""
    now = now or timezone.now()
    visible = Complaint.objects.visible_to(user)
    items: dict[int, Item] = {}
    for code, label, q in sections_for(user, now):
        rows = visible.filter(q).select_related(*ROW_RELATED).order_by("received_at")[:limit]
        for c in rows:
            if code == "callback" and "call_back" not in services.allowed_actions(c, user):
                continue  # a major complaint waits for a manager, not for a supervisor
            item = items.setdefault(c.pk, Item(c, complainant_view(user, c), due=clock.next_due(c, now)))
            item.reasons.append(str(label))
    far = now + dt.timedelta(days=3650)
    ordered = sorted(items.values(), key=lambda i: (i.due.at if i.due else far, i.complaint.received_at))
    return ordered[:limit]


def counts(user, now: dt.datetime | None = None) -> dict[str, int]:
    """Overdue / due within the hour / today's intake / awaiting callback / open, in one query."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return Complaint.objects.visible_to(user).aggregate(
        overdue=Count("pk", filter=overdue_q(now=now)),
        soon=Count("pk", filter=due_soon_q(clock.SOON, now=now)),
        today=Count("pk", filter=Q(received_at__gte=day_start)),
        callback=Count("pk", filter=pending_q(Deadline.CALLBACK)),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
    )


def callback_quota(user, now: dt.datetime | None = None) -> dict | None:
    target = policy.callback_quota(services.role_of(user))
    if target is None:
        return None
    local = timezone.localtime(now or timezone.now())
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    done = Callback.objects.filter(by=user, at__gte=month_start).count()
    return {"done": done, "target": target, "met": done >= target, "percent": min(100, done * 100 // target)}
