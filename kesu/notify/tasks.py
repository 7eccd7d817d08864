"""The Celery tasks (scaled mode). Both are idempotent and safe to run any number of times at once:
delivery claims rows with conditional UPDATEs; the sweep records each breach, warning and escalation
once under unique constraints."""

from __future__ import annotations

import logging

from celery import Celery

from .delivery import DELIVER_TASK, SWEEP_TASK

log = logging.getLogger("kesu.notify")

# One task drains for at most this long, then hands the rest to a fresh task (so a backlog never
# pins one worker and other workers share it).
TIME_BUDGET_SECONDS = 20.0


def deliver() -> dict:
    from .delivery import deliver_due, kick_now

    result = deliver_due(time_budget=TIME_BUDGET_SECONDS, on_backlog=kick_now)
    if result.total and _more_due():  # stopped on the time budget: a fresh task goes on
        kick_now()
    if result.total:
        log.info("delivered %d, retry %d, failed %d", result.sent, result.retried, result.failed)
    return {"sent": result.sent, "retried": result.retried, "failed": result.failed}


def _more_due() -> bool:
    from django.utils import timezone

    from .delivery import NOT_OURS, due_q
    from .models import Outbox

    return Outbox.objects.filter(due_q(timezone.now())).exclude(channel__in=NOT_OURS).exists()


def sweep() -> dict:
    from .delivery import kick_now
    from .periodic import sweep_all

    result = sweep_all()
    if result.get("notifications"):
        kick_now()
    return result


def register(app: Celery) -> None:
    app.task(name=DELIVER_TASK, ignore_result=True)(deliver)
    app.task(name=SWEEP_TASK, ignore_result=True)(sweep)
