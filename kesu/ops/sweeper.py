"""The embedded-mode sweeper: a daemon thread in `kesu serve` that checks deadlines every few seconds.

Correctness never depends on it: deadlines are columns and "overdue" is a query; the sweeper only
records breaches and queues notifications, and is safe to run beside other sweepers.
"""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connections

log = logging.getLogger("kesu.sweeper")


class Sweeper(threading.Thread):
    def __init__(self, interval: float = 30.0) -> None:
        super().__init__(name="kesu-sweeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        from kesu.complaints.sweep import sweep

        while not self.stopped.wait(self.interval):
            close_old_connections()
            try:
                result = sweep()
                if result.breaches:
                    log.info("sweep: %d breaches, %d notifications", result.breaches, result.notifications)
                from kesu.api.webhooks import deliver_webhooks  # issue 4: webhook deliveries

                deliver_webhooks()
                __import__("kesu.reports.delivery").reports.delivery.deliver_monthly()  # issue 5: monthly report
            except Exception:  # keep sweeping: one bad pass must not stop deadline checks for good
                log.exception("sweep failed")
            finally:
                connections.close_all()

    def stop(self) -> None:
        self.stopped.set()
