"""The embedded-mode sweeper: a daemon thread in `kesu serve` that delivers the outbox every few
seconds (KESU_DELIVERY_SECONDS) and checks deadlines every KESU_SWEEP_SECONDS.

Correctness never depends on it: deadlines are columns and "overdue" is a query; the sweeper only
records breaches, queues notifications and delivers outbox rows, and is safe to run beside other
sweepers and Celery workers (every step claims its work with a unique row or a conditional UPDATE).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger("kesu.sweeper")


class Sweeper(threading.Thread):
    def __init__(self, interval: float = 30.0, deliver_interval: float | None = None) -> None:
        super().__init__(name="kesu-sweeper", daemon=True)
        self.interval = interval
        self.deliver_interval = deliver_interval or settings.KESU_DELIVERY_SECONDS
        self.stopped = threading.Event()

    def run(self) -> None:
        next_sweep = time.monotonic() + self.interval
        while not self.stopped.wait(min(self.interval, self.deliver_interval)):
            close_old_connections()
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.interval
                    self.sweep_once()
                self.deliver_once()
            finally:
                connections.close_all()

    def sweep_once(self) -> None:
        from kesu.notify.periodic import sweep_all

        try:
            result = sweep_all()
            if result["notifications"]:
                log.info("sweep: %d breaches, %d notifications", result["breaches"], result["notifications"])
            __import__("kesu.reports.delivery").reports.delivery.deliver_monthly()  # issue 5: monthly report
        except Exception:  # keep sweeping: one bad pass must not stop deadline checks for good
            log.exception("sweep failed")

    def deliver_once(self) -> None:
        from kesu.notify.delivery import deliver_due

        try:
            # Bounded, so a large backlog never starves the sweep; the rest goes on next tick.
            deliver_due(time_budget=max(self.interval, 5.0))
        except Exception:
            log.exception("outbox delivery failed")
        try:
            from kesu.api.webhooks import deliver_webhooks  # issue 4: webhook deliveries

            deliver_webhooks()
        except Exception:
            log.exception("webhook delivery failed")

    def stop(self) -> None:
        self.stopped.set()
