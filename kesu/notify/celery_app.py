"""The Celery app's common configuration (scaled mode, KESU_REDIS_URL). Web processes build a
producer-only app from it to wake a worker when rows are queued; the worker and beat app, with one
task and one schedule entry per periodic job, is kesu.ops.celery's.
"""

from __future__ import annotations

from celery import Celery
from django.conf import settings


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
