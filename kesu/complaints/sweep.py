"""The deadline sweep: record each passed deadline once and queue its escalation notifications.

Safe to run from several processes at once: the unique constraint on SlaBreach decides which one
records a breach (a thin loop around `process_one`, after healthchecks' sendalerts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import alerts, events
from .deadlines import DUE_FIELD, overdue_q
from .models import Complaint, SlaBreach


@dataclass
class SweepResult:
    breaches: int = 0
    notifications: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def process_one(complaint_id: int, kind: str, now: dt.datetime) -> int | None:
    """Record one breach; returns the number of notifications queued, or None if already recorded
    (by an earlier sweep or a concurrent one) or no longer overdue."""
    with transaction.atomic():
        c = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("office", "category")
            .filter(pk=complaint_id)
            .first()
        )
        if c is None or not Complaint.objects.filter(pk=c.pk).filter(overdue_q(kind, now)).exists():
            return None
        due_at = getattr(c, DUE_FIELD[kind])
        try:
            with transaction.atomic():
                SlaBreach.objects.create(complaint=c, kind=kind, due_at=due_at, recorded_at=now, tier=c.tier)
        except IntegrityError:
            return None
        event = events.overdue(c, now, kind=kind, due_at=due_at)
        events.publish(event)
        return alerts.on_breach(event, kind, c.tier, due_at)


def sweep(now: dt.datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    result = SweepResult()
    for kind in DUE_FIELD:
        due_field = DUE_FIELD[kind]
        recorded = SlaBreach.objects.filter(complaint=OuterRef("pk"), kind=kind, due_at=OuterRef(due_field))
        candidates = (
            Complaint.objects.filter(overdue_q(kind, now))
            .filter(~Exists(recorded))
            .values_list("pk", flat=True)
        )
        for pk in list(candidates):
            sent = process_one(pk, kind, now)
            if sent is not None:
                result.breaches += 1
                result.notifications += sent
                result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
    return result
