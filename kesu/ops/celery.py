"""Celery for the scaled mode (KESU_REDIS_URL): beat schedules every job of kesu.ops.jobs.JOBS on its
interval and the workers run them, one task per job.

Redis only carries wake-up calls. The work itself is in the database (outbox rows, deadline
columns) and every job is idempotent: a lost, repeated or late task message changes nothing but
timing, and beat's next run picks up whatever a Redis outage left waiting.
"""

from __future__ import annotations

import logging

from celery import Celery
from django.conf import settings

from kesu.notify.celery_app import make_app

from . import jobs

log = logging.getLogger("kesu.jobs")


def _task(job: jobs.Job):
    def run_job() -> str:
        result = jobs.run(job)
        log.debug("%s: %s", job.name, result)
        return job.name

    run_job.__name__ = f"run_{job.name}"
    return run_job


# One callable per job, made once: an app built again (tests, a reloaded worker) registers the same ones.
_RUNNERS = {job.name: _task(job) for job in jobs.JOBS}


def make_worker_app(broker_url: str) -> Celery:
    """The app of `kesu worker` and `kesu beat`: a task and a schedule entry for every job."""
    app = make_app(broker_url)
    # A periodic message left in the queue (say, while every worker was down) expires: the next
    # one does the same work.
    app.conf.beat_schedule = {
        job.name: {"task": job.task, "schedule": job.seconds, "options": {"expires": max(job.seconds * 2, 5)}}
        for job in jobs.JOBS
    }
    app.conf.beat_schedule_filename = str(settings.KESU_HOME / "celerybeat-schedule")
    for job in jobs.JOBS:
        app.task(name=job.task, ignore_result=True)(_RUNNERS[job.name])
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
