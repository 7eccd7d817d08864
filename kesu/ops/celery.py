"""Celery for the scaled mode (KESU_REDIS_URL): beat starts every job of kesu.ops.jobs.JOBS on its pace's
interval and the workers run them.

Redis only carries wake-up calls. The work itself is in the database (outbox rows, deadline
columns) and every job is idempotent: a lost, repeated or late task message changes nothing but
timing, and beat's next run picks up whatever a Redis outage left waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery
from django.conf import settings

from kesu.notify.celery_app import make_app

from . import jobs

log = logging.getLogger("kesu.jobs")


def _task(job: jobs.Job) -> Callable[[], str]:
    def run_job() -> str:
        result = jobs.run(job)
        log.debug("%s: %s", job.name, result)
        return job.name

    run_job.__name__ = f"run_{job.name}"
    return run_job


def _pace(pace: str) -> Callable[[], list[str]]:
    def run_pace() -> list[str]:
        done = []
        for job in jobs.at_pace(pace):
            try:
                jobs.run(job)
            except Exception:  # one failing job must not keep the others of its pace from running
                log.exception("periodic job %s failed", job.name)
            else:
                done.append(job.name)
        return done

    run_pace.__name__ = f"every_{pace}"
    return run_pace


# One callable per job and per pace, made once: an app built again (tests, a reloaded worker)
# registers the same ones.
_RUNNERS: dict[str, Callable[[], object]] = {job.task: _task(job) for job in jobs.JOBS}
_RUNNERS |= {jobs.pace_task(pace): _pace(pace) for pace in jobs.PACE_SETTINGS}


def make_worker_app(broker_url: str) -> Celery:
    """The app of `kesu worker` and `kesu beat`: a task per job and per pace; beat starts each pace's
    task on its interval (two messages per interval whatever the number of jobs: a broker outage
    finds few in flight)."""
    app = make_app(broker_url)
    # A periodic message left in the queue (say, while every worker was down) expires: the next
    # one does the same work.
    app.conf.beat_schedule = {
        pace: {
            "task": jobs.pace_task(pace),
            "schedule": jobs.pace_seconds(pace),
            "options": {"expires": max(jobs.pace_seconds(pace) * 2, 5)},
        }
        for pace in jobs.PACE_SETTINGS
    }
    app.conf.beat_schedule_filename = str(settings.KESU_HOME / "celerybeat-schedule")
    for name, runner in _RUNNERS.items():
        app.task(name=name, ignore_result=True)(runner)
    return app


_app: Celery | None = None


def get_app() -> Celery:
    """The worker/beat app for this process (built on first use from the settings)."""
    global _app
    if _app is None:
        if not settings.KESU_REDIS_URL:
            raise RuntimeError("KESU_REDIS_URL is not set")
        _app = make_worker_app(settings.KESU_REDIS_URL)
    return _app
