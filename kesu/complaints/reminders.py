"""Reminders that depend on time passing, run periodically after the deadline sweep (kesu.ops.jobs):

- a deadline about to pass (lead time per kind, KESU_DUE_SOON_MINUTES) → whoever owns the next step,
  once per deadline (DueSoonWarning is unique on complaint, kind and due time);
- a deadline that stays passed → one tier further up the ladder, each tier its own wait after the
  previous step (the office's SlaPolicy for the complaint's severity: director 15, company 30,
  executive 60 minutes by default, sla_defaults.ESCALATION_MINUTES) (the breach, then each escalation) and once per breach (Escalation is unique on
  breach and tier), up to the executive — so a sweep that was down, or an old breach, never floods
  the top within the same minute;
- managers' morning digest of what is overdue in their scope, once a day (DigestRun is unique on date;
  each message's delivery key carries the date).

The unique rows are written in the same transaction as their outbox rows, so concurrent sweeps
(embedded sweeper, beat, cron) never send one twice and a crashed sweep leaves nothing half done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef
from django.utils import timezone

from kesu.notify import messages, queue
from kesu.notify.models import DigestRun, DueSoonWarning, Escalation
from kesu.org.models import User

from . import alerts, events
from .choices import Deadline, Severity, Tier
from .deadlines import DUE_FIELD, due_soon_q, overdue_q, policy_for
from .models import Complaint, SlaBreach
from .policy import TIER_ROLES, TOP_TIER


@dataclass
class ReminderResult:
    due_soon: int = 0
    escalations: int = 0
    digests: int = 0
    notifications: int = 0


def run(now: dt.datetime | None = None) -> ReminderResult:
    now = now or timezone.now()
    result = ReminderResult()
    n, sent = warn_due_soon(now)
    result.due_soon, result.notifications = n, result.notifications + sent
    n, sent = escalate_overdue(now)
    result.escalations, result.notifications = n, result.notifications + sent
    result.digests = send_digests(now)
    result.notifications += result.digests
    return result


def _complaint(pk: int) -> Complaint | None:
    return (
        Complaint.objects.select_related("office", "category", "unit", "owner", "handler")
        .filter(pk=pk)
        .first()
    )


# ---------------------------------------------------------------------------------------------
# about to pass


def warn_due_soon(now: dt.datetime) -> tuple[int, int]:
    warnings = notifications = 0
    for kind, due_field in DUE_FIELD.items():
        lead = settings.KESU_DUE_SOON_MINUTES.get(kind, 0)
        if lead <= 0:
            continue
        warned = DueSoonWarning.objects.filter(
            complaint=OuterRef("pk"), kind=kind, due_at=OuterRef(due_field)
        )
        candidates = (
            Complaint.objects.filter(due_soon_q(dt.timedelta(minutes=lead), kind, now))
            .filter(~Exists(warned))
            .values_list("pk", flat=True)
        )
        for pk in list(candidates):
            sent = _warn_one(pk, kind, now, dt.timedelta(minutes=lead))
            if sent is not None:
                warnings += 1
                notifications += sent
    return warnings, notifications


def _warn_one(pk: int, kind: str, now: dt.datetime, lead: dt.timedelta) -> int | None:
    with transaction.atomic():
        if not Complaint.objects.filter(pk=pk).filter(due_soon_q(lead, kind, now)).exists():
            return None
        c = _complaint(pk)
        if c is None:
            return None
        due_at = getattr(c, DUE_FIELD[kind])
        try:
            with transaction.atomic():
                warning = DueSoonWarning.objects.create(complaint=c, kind=kind, due_at=due_at, at=now)
        except IntegrityError:  # another sweep warned first
            return None
        return alerts.to_staff(
            c,
            "due_soon",
            alerts.next_step_owners(c, kind),
            {
                "deadline": messages.fmt(due_at),
                "deadline_label": str(Deadline(kind).label).replace("超时", ""),
            },
            key=f"soon{warning.pk}",
            at=now,
            data={"deadline": kind, "due_at": due_at.isoformat()},
        )


# ---------------------------------------------------------------------------------------------
# repeated escalation


def escalate_overdue(now: dt.datetime) -> tuple[int, int]:
    oldest = now - dt.timedelta(hours=settings.KESU_ESCALATE_MAX_AGE_HOURS)
    escalations = notifications = 0
    for kind, due_field in DUE_FIELD.items():
        breaches = (
            SlaBreach.objects.filter(kind=kind, due_at=F(f"complaint__{due_field}"))
            .filter(due_at__gte=oldest, due_at__lte=now)
            .filter(complaint__in=Complaint.objects.filter(overdue_q(kind, now)).values("pk"))
            .annotate(top=Max("escalations__tier"), last=Max("escalations__at"))
            .values(
                "pk",
                "complaint_id",
                "complaint__tier",
                "complaint__office_id",
                "complaint__is_major",
                "complaint__severity",
                "recorded_at",
                "tier",
                "top",
                "last",
            )
        )
        for b in list(breaches):
            reached = max(b["tier"] + 1, b["top"] or 0, b["complaint__tier"])
            if reached >= TOP_TIER:
                continue
            # Each tier waits its own interval (the office's policy for the complaint's severity)
            # after the previous step was taken.
            severity = (
                Severity.MAJOR if b["complaint__is_major"] else b["complaint__severity"] or Severity.GENERAL
            )
            wait = policy_for(b["complaint__office_id"], severity).escalation_wait(reached + 1)
            if now < (b["last"] or b["recorded_at"]) + wait:
                continue
            sent = _escalate_one(b["pk"], b["complaint_id"], kind, reached + 1, now)
            if sent is not None:
                escalations += 1
                notifications += sent
    return escalations, notifications


def _escalate_one(breach_id: int, complaint_id: int, kind: str, tier: int, now: dt.datetime) -> int | None:
    with transaction.atomic():
        if not Complaint.objects.filter(pk=complaint_id).filter(overdue_q(kind, now)).exists():
            return None
        try:
            with transaction.atomic():
                esc = Escalation.objects.create(breach_id=breach_id, tier=tier, at=now)
        except IntegrityError:
            return None
        c = _complaint(complaint_id)
        assert c is not None
        due_at = getattr(c, DUE_FIELD[kind])
        event = events.auto_escalated(c, now, kind=kind, tier=tier, due_at=due_at)
        events.publish(event)
        return alerts.to_staff(
            c,
            "escalation",
            alerts.staff_for(c.office_id, TIER_ROLES[tier]),
            {
                "deadline": messages.fmt(due_at),
                "deadline_label": str(Deadline(kind).label),
                "tier": str(Tier(tier).label),
                "overdue_for": messages.duration(now - due_at),
            },
            key=f"esc{esc.pk}",
            at=now,
            data={"deadline": kind, "tier": tier},
        )


# ---------------------------------------------------------------------------------------------
# morning digest


def digest_time() -> dt.time:
    try:
        hour, minute = (int(x) for x in settings.KESU_DIGEST_TIME.split(":"))
        return dt.time(hour, minute)
    except ValueError:
        raise ValueError(
            f"KESU_DIGEST_TIME must look like 08:00, not {settings.KESU_DIGEST_TIME!r}"
        ) from None


def send_digests(now: dt.datetime) -> int:
    """Once a day, after the digest time: each manager hears what is overdue in their scope."""
    local = timezone.localtime(now)
    if local.time() < digest_time():
        return 0
    today = local.date()
    if DigestRun.objects.filter(date=today).exists():
        return 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = DigestRun.objects.create(date=today, at=now)
        except IntegrityError:
            return 0
        sent = sum(_digest_for(u, now, today) for u in _digest_users())
        run.messages = sent
        run.save(update_fields=["messages"])
    return sent


def _digest_users() -> list[User]:
    return list(User.objects.filter(role__in=settings.KESU_DIGEST_ROLES, is_active=True).order_by("pk"))


def _digest_for(user: User, now: dt.datetime, today: dt.date) -> int:
    visible = Complaint.objects.visible_to(user)
    total = visible.filter(overdue_q(None, now)).count()
    if not total:
        return 0
    per_office: dict[tuple[str, str], list[str]] = {}
    for kind in DUE_FIELD:
        counts = (
            visible.filter(overdue_q(kind, now))
            .values("office__code", "office__name")
            .annotate(n=Count("pk"))
            .order_by("office__code")
        )
        for row in counts:
            label = str(Deadline(kind).label)
            per_office.setdefault((row["office__code"], row["office__name"]), []).append(
                f"{label} {row['n']} 件"
            )
    lines = "\n".join(
        f"{code} {name}：{'，'.join(parts)}" for (code, name), parts in sorted(per_office.items())
    )
    context = {
        "date": today.isoformat(),
        "time": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "count": total,
        "lines": lines,
        "link": settings.KESU_BASE_URL.rstrip("/") + "/complaints/?overdue=any",
    }
    return queue.to_users(
        "digest",
        [user],
        context,
        key=lambda u: f"digest:{today.isoformat()}:u{u.pk}",
        at=now,
        payload={"date": today.isoformat(), "count": total, "link": context["link"]},
        ignore_conflicts=True,
    )
