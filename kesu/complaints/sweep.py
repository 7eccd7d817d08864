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

from kesu.notify import rules

from .choices import Deadline, EventType
from .deadlines import DUE_FIELD, overdue_q
from .models import Complaint, ComplaintEvent, SlaBreach


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
        event = _system_event(
            c,
            EventType.OVERDUE,
            now,
            {
                "kind": kind,
                "due_at": due_at.isoformat(),
                "due_at_local": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
                "label": str(Deadline(kind).label),
                "tier": c.tier,
            },
        )
        return rules.on_breach(event, kind, c.tier)


def _system_event(c: Complaint, event_type: str, now: dt.datetime, data: dict) -> ComplaintEvent:
    """A timeline entry the system writes (no actor, status unchanged), sent to webhooks subscribed
    to its type (issue 4). Called inside the transaction that records the reason for it."""
    event = ComplaintEvent.objects.create(
        complaint=c, type=event_type, at=now, actor=None, from_status=c.status, to_status=c.status, data=data
    )
    from kesu.api.webhooks import queue_webhooks

    queue_webhooks(event)
    return event


def record_auto_escalation(
    c: Complaint, kind: str, tier: int, due_at: dt.datetime, now: dt.datetime
) -> ComplaintEvent:
    """The escalation ladder raised a passed deadline to `tier`: on the complaint's record (the handling
    record, the API's events, webhooks). The handling tier stays; the ladder only raises the alarm.
    Called inside the transaction that records the escalation."""
    return _system_event(
        c,
        EventType.ESCALATED,
        now,
        {
            "tier": tier,
            "automatic": True,
            "kind": kind,
            "due_at": due_at.isoformat(),
            "overdue_minutes": int((now - due_at).total_seconds() // 60),
        },
    )


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
