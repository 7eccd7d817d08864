"""What runs periodically, whichever runs it (the embedded sweeper thread, Celery beat, `kesu sweep`):
the deadline sweep, then the reminders that depend on time (about to pass, repeated escalation,
morning digest). Each part is safe to run from several processes at once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def sweep_all(now: dt.datetime | None = None) -> dict:
    from kesu.complaints.sweep import sweep

    from . import reminders

    now = now or timezone.now()
    swept = sweep(now)
    extra = reminders.run(now)
    return {
        "breaches": swept.breaches,
        "notifications": swept.notifications + extra.notifications,
        "due_soon": extra.due_soon,
        "escalations": extra.escalations,
        "digests": extra.digests,
        "by_kind": dict(swept.by_kind),
        "breach_notifications": swept.notifications,
    }
