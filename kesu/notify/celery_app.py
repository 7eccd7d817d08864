"""Celery for the scaled mode (KESU_REDIS_URL): workers deliver the outbox, beat runs the sweep.

Redis only carries wake-up calls. The work itself is in the database (outbox rows, deadline
columns), and both tasks are idempotent: a lost, repeated or late task message changes nothing but
timing, and beat's periodic runs pick up whatever a Redis outage left waiting.
"""

from __future__ import annotations

from celery import Celery
from django.conf import settings

from .delivery import DELIVER_TASK, SWEEP_TASK


def make_app(broker_url: str, *, producer_only: bool = False) -> Celery:
    app = Celery("kesu", broker=broker_url, set_as_current=not producer_only)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": 2, "visibility_timeout": 3600},
        broker_pool_limit=4,
        task_ignore_result=True,
        task_default_queue="kesu",
        task_acks_late=False,  # a lost task is harmless: the rows are in the database
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone=settings.TIME_ZONE,
        enable_utc=True,
    )
    if producer_only:
        # Web processes only drop wake-up calls: fail at once when Redis is down (no reconnect loop).
        app.conf.broker_transport_options = {
            **app.conf.broker_transport_options,
            "max_retries": 0,
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
        }
        return app
    # Expire periodic messages left in the queue (say, while every worker was down): the next
    # one does the same work.
    app.conf.beat_schedule = {
        "sweep": {
            "task": SWEEP_TASK,
            "schedule": settings.KESU_SWEEP_SECONDS,
            "options": {"expires": max(settings.KESU_SWEEP_SECONDS, 5)},
        },
        "deliver": {
            "task": DELIVER_TASK,
            "schedule": settings.KESU_DELIVERY_SECONDS,
            "options": {"expires": max(settings.KESU_DELIVERY_SECONDS * 2, 5)},
        },
    }
    app.conf.beat_schedule_filename = str(settings.KESU_HOME / "celerybeat-schedule")
    from . import tasks

    tasks.register(app)
    return app


_app: Celery | None = None


def get_app() -> Celery:
    """The worker/beat app for this process (built on first use from the settings)."""
    global _app
    if _app is None:
        if not settings.KESU_REDIS_URL:
            raise RuntimeError("KESU_REDIS_URL is not set")
        _app = make_app(settings.KESU_REDIS_URL)
    return _app
