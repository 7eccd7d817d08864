"""The embedded-mode runner: a daemon thread in `kesu serve` that runs every periodic job of
kesu.ops.jobs.JOBS on its own interval (notifications every few seconds, deadlines every half minute).

Correctness never depends on it: deadlines are columns and "overdue" is a query; the jobs only record
breaches, queue notifications and deliver outbox rows, and are safe to run beside other sweepers and
Celery workers (every step claims its work with a unique row or a conditional UPDATE).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections, connections

from . import jobs

log = logging.getLogger("kesu.sweeper")


class Sweeper(threading.Thread):
    """`interval` overrides the deadline jobs' interval and `deliver_interval` the delivery jobs'
    (tests, `kesu serve --sweep-seconds`); by default each job's own interval from the settings."""

    def __init__(self, interval: float | None = None, deliver_interval: float | None = None) -> None:
        super().__init__(name="kesu-sweeper", daemon=True)
        self.overrides = {jobs.SWEEP: interval, jobs.DELIVERY: deliver_interval}
        self.stopped = threading.Event()
        self.next_run: dict[str, float] = {}

    def seconds(self, job: jobs.Job) -> float:
        return self.overrides[job.pace] or job.seconds

    def run(self) -> None:
        start = time.monotonic()
        # Deliveries start at once; the other jobs after their first interval.
        self.next_run = {
            job.name: start + (0 if job.pace == jobs.DELIVERY else self.seconds(job)) for job in jobs.JOBS
        }
        tick = min(self.seconds(job) for job in jobs.JOBS)
        while not self.stopped.wait(tick):
            close_old_connections()
            try:
                self.run_due(time.monotonic())
            finally:
                connections.close_all()

    def run_due(self, clock: float) -> None:
        for job in jobs.JOBS:
            if clock >= self.next_run.get(job.name, 0):
                self.next_run[job.name] = clock + self.seconds(job)
                self.run_job(job)

    def run_job(self, job: jobs.Job) -> None:
        try:
            jobs.run(job)
        except Exception:  # keep going: one bad pass must not stop deadline checks or delivery for good
            log.exception("periodic job %s failed", job.name)

    def sweep_once(self) -> None:
        """Every job at the sweep's pace, once."""
        for job in jobs.JOBS:
            if job.pace == jobs.SWEEP:
                self.run_job(job)

    def deliver_once(self) -> None:
        """Every delivery job, once."""
        for job in jobs.JOBS:
            if job.pace == jobs.DELIVERY:
                self.run_job(job)

    def stop(self) -> None:
        self.stopped.set()
