"""The one list of periodic jobs. Every runner iterates it: the embedded sweeper thread in `kesu serve`,
Celery beat and its workers in the scaled mode (beat starts each pace's task, which runs that pace's
jobs in order; each job is a task of its own too), and `kesu sweep` for the deadline jobs.

Each job is a thin function of `now` around work that is safe to run from several processes at once
(unique rows or conditional UPDATEs claim every piece of work), so a job run twice, late or by two
runners at once changes nothing but timing. A new periodic duty is one more entry here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

# How often a job runs, by pace: delivery every few seconds, the rest at the sweep's pace.
DELIVERY, SWEEP = "delivery", "sweep"
PACE_SETTINGS = {DELIVERY: "KESU_DELIVERY_SECONDS", SWEEP: "KESU_SWEEP_SECONDS"}


@dataclass(frozen=True)
class Job:
    name: str  # stable code: the Celery task is kesu.jobs.<name>, the beat entry <name>
    run: Callable[[dt.datetime], Any]
    pace: str  # DELIVERY or SWEEP
    summary: str
    deadlines: bool = False  # part of "checking deadlines" (`kesu sweep` runs these)

    @property
    def task(self) -> str:
        return f"kesu.jobs.{self.name}"

    @property
    def seconds(self) -> float:
        """Seconds between runs, read from the settings when asked."""
        return pace_seconds(self.pace)


# Each runner below takes `now`; the import happens at call time so that loading this list (Celery,
# the CLI's --help) does not load every app.


def record_breaches(now: dt.datetime) -> Any:
    from kesu.complaints.sweep import sweep

    return sweep(now)


def warn_due_soon(now: dt.datetime) -> Any:
    from kesu.complaints.reminders import warn_due_soon

    return warn_due_soon(now)


def escalate_overdue(now: dt.datetime) -> Any:
    from kesu.complaints.reminders import escalate_overdue

    return escalate_overdue(now)


def send_digests(now: dt.datetime) -> Any:
    from kesu.complaints.reminders import send_digests

    return send_digests(now)


# One delivery run drains for at most this long, then hands the rest to the next run (so a backlog
# never pins one worker, and the sweep is never starved).
DELIVERY_BUDGET_SECONDS = 20.0


def deliver_outbox(now: dt.datetime) -> Any:
    from kesu.notify.delivery import deliver_due, kick_now, more_due

    result = deliver_due(time_budget=DELIVERY_BUDGET_SECONDS, on_backlog=kick_now)
    if result.total and more_due():  # stopped on the time budget: a worker goes on at once
        kick_now()
    return result


def deliver_webhooks(now: dt.datetime) -> Any:
    from kesu.api.webhooks import deliver_webhooks

    return deliver_webhooks()


def deliver_monthly_report(now: dt.datetime) -> Any:
    from kesu.reports.delivery import deliver_monthly

    return deliver_monthly(now)


JOBS: tuple[Job, ...] = (
    Job("sweep", record_breaches, SWEEP, "record each passed deadline once and alert", deadlines=True),
    Job("due_soon", warn_due_soon, SWEEP, "warn whoever owns a deadline about to pass", deadlines=True),
    Job(
        "escalate", escalate_overdue, SWEEP, "raise deadlines that stay passed up the ladder", deadlines=True
    ),
    Job("digest", send_digests, SWEEP, "the managers' morning digest of what is overdue", deadlines=True),
    Job("deliver", deliver_outbox, DELIVERY, "send due notifications from the outbox"),
    Job("webhooks", deliver_webhooks, DELIVERY, "deliver due webhook calls"),
    Job("monthly_report", deliver_monthly_report, SWEEP, "queue last month's report on its day"),
)
BY_NAME: dict[str, Job] = {job.name: job for job in JOBS}


def run(job: Job, now: dt.datetime | None = None) -> Any:
    return job.run(now or timezone.now())


def at_pace(pace: str) -> tuple[Job, ...]:
    """The jobs that run at one pace, in the list's order (the sweep before the escalations it feeds)."""
    return tuple(job for job in JOBS if job.pace == pace)


def pace_task(pace: str) -> str:
    """The Celery task beat starts for a pace: it runs that pace's jobs in order."""
    return f"kesu.jobs.every_{pace}"


def pace_seconds(pace: str) -> float:
    return float(getattr(settings, PACE_SETTINGS[pace]))


def check_deadlines(now: dt.datetime | None = None) -> dict[str, Any]:
    """Run the deadline jobs once, in the list's order (the sweep first: escalations climb from its
    breaches), and say what they did."""
    now = now or timezone.now()
    done = {job.name: job.run(now) for job in JOBS if job.deadlines}
    swept = done["sweep"]
    (due_soon, soon_sent), (escalations, esc_sent) = done["due_soon"], done["escalate"]
    return {
        "breaches": swept.breaches,
        "breach_notifications": swept.notifications,
        "by_kind": dict(swept.by_kind),
        "due_soon": due_soon,
        "escalations": escalations,
        "digests": done["digest"],
        "notifications": swept.notifications + soon_sent + esc_sent + done["digest"],
    }
