"""The deliverer: take due outbox rows, send each through its channel, mark it sent.

Never loses: a row leaves "pending" only when its channel took it (sent) or it failed for good
(failed, with the reason, shown in the admin). Never duplicates: a row is claimed with a conditional
UPDATE (state pending, due, and the attempts count we read) that also pushes next_attempt_at one
lease ahead, so two deliverers never hold the same row; if a deliverer dies after sending and before
marking, the lease runs out, the row is sent again with the same delivery key, and the channel drops
the repeat. Sending happens outside any transaction. Webhook rows belong to the API's deliverer.

`deliver_due()` is the thin loop (the periodic job "deliver", tests); `process_one()` sends one.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .channels import Permanent, channel_for
from .models import Outbox

log = logging.getLogger("kesu.notify")

# Delivered elsewhere (kesu.api.webhooks): never claimed here.
NOT_OURS = (Outbox.Channel.WEBHOOK,)
# The periodic job that delivers the outbox (kesu.ops.jobs, "deliver"): what a wake-up call starts.
DELIVER_TASK = "kesu.jobs.deliver"


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost: int = 0  # our lease ran out and another deliverer took the row over

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.lost


_session = threading.local()


@contextmanager
def asynchronous_commits():
    """For a whole delivery run on PostgreSQL: the deliverer's own bookkeeping (claims, marks, fan-out
    rows) commits without waiting for the WAL flush (synchronous_commit off).

    Only a crash of the database server itself can lose the last fraction of a second of such
    commits, and then a row is sent again under the same delivery key, which the channel drops. That
    trade takes a disk flush (and, per message, three round trips) off every message. The outbox
    rows themselves are written durably by the lifecycle; the setting is reset afterwards, so
    whatever else this connection does (the sweep, an action) commits durably."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or getattr(_session, "asynchronous", False):
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    _session.asynchronous = True
    try:
        yield
    finally:
        _session.asynchronous = False
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except Exception:  # the connection broke: it is discarded, and its settings with it
            log.debug("could not reset synchronous_commit", exc_info=True)


def _commit_this_transaction_asynchronously() -> None:
    connection = transaction.get_connection()
    if connection.vendor == "postgresql" and not getattr(_session, "asynchronous", False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


@contextmanager
def bookkeeping():
    """One bookkeeping write outside a delivery run (e.g. a row sent at once by another app): its
    own transaction, committed asynchronously on PostgreSQL (see asynchronous_commits)."""
    if getattr(_session, "asynchronous", False) or transaction.get_connection().in_atomic_block:
        yield
        return
    with transaction.atomic():
        _commit_this_transaction_asynchronously()
        yield


def due_q(now: dt.datetime) -> Q:
    return Q(state=Outbox.State.PENDING) & (Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))


def more_due(now: dt.datetime | None = None) -> bool:
    return Outbox.objects.filter(due_q(now or timezone.now())).exclude(channel__in=NOT_OURS).exists()


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt n+1: base, 2×base, 4×base, … up to the cap."""
    seconds = settings.KESU_DELIVERY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.KESU_DELIVERY_BACKOFF_MAX_SECONDS))


def claim(now: dt.datetime, limit: int) -> list[Outbox]:
    """Take up to `limit` due rows for this deliverer. Each is claimed by a conditional UPDATE on the
    attempts count read here; on PostgreSQL rows another deliverer is claiming are skipped (SKIP
    LOCKED), on SQLite the IMMEDIATE transaction already serialises deliverers."""
    until = lease_until(now)
    with transaction.atomic():
        _commit_this_transaction_asynchronously()
        rows = list(
            Outbox.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(due_q(now))
            .exclude(channel__in=NOT_OURS)
            .order_by("next_attempt_at", "id")[:limit]
        )
        claimed = [row for row in rows if take(row, until)]
    return claimed


def lease_until(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(seconds=max(settings.KESU_DELIVERY_LEASE_SECONDS, 1.0))


def take(row: Outbox, until: dt.datetime) -> bool:
    """Claim one row for this deliverer until `until`: a conditional UPDATE on the attempts count read
    with the row, so of several deliverers (the outbox's, the webhooks', a sign-in code sent at once)
    exactly one wins each attempt. The row in hand is updated to match."""
    taken = Outbox.objects.filter(pk=row.pk, state=Outbox.State.PENDING, attempts=row.attempts).update(
        attempts=row.attempts + 1, next_attempt_at=until
    )
    if taken:
        row.attempts += 1
        row.next_attempt_at = until
    return bool(taken)


def _mine(row: Outbox) -> Q:
    # Still the claim we made: nobody took the row over after our lease ran out.
    return Q(pk=row.pk, state=Outbox.State.PENDING, attempts=row.attempts)


def process_one(row: Outbox, now: dt.datetime | None = None) -> str:
    """Send one claimed row and record the outcome: "sent", "retry", "failed" or "lost"."""
    try:
        channel_for(row.channel).send(row)
    except Permanent as e:
        return _fail(row, str(e))
    except Exception as e:  # Retry, or anything unexpected: try again later, up to the cap
        error = str(e) or e.__class__.__name__
        if row.attempts >= settings.KESU_DELIVERY_MAX_ATTEMPTS:
            return _fail(row, f"{error}（已重试 {row.attempts} 次）")
        wait = backoff(row.attempts)
        with bookkeeping():
            updated = Outbox.objects.filter(_mine(row)).update(
                next_attempt_at=(now or timezone.now()) + wait, last_error=error[:2000]
            )
        if updated:
            log.info("outbox %s (%s) retry in %ss: %s", row.pk, row.channel, wait.total_seconds(), error)
        return "retry" if updated else "lost"
    with bookkeeping():
        updated = Outbox.objects.filter(_mine(row)).update(state=Outbox.State.SENT, sent_at=timezone.now())
    return "sent" if updated else "lost"


def _fail(row: Outbox, error: str) -> str:
    with bookkeeping():
        updated = Outbox.objects.filter(_mine(row)).update(state=Outbox.State.FAILED, last_error=error[:2000])
    if updated:
        log.warning("outbox %s (%s → %s) failed: %s", row.pk, row.channel, row.address or row.user_id, error)
    return "failed" if updated else "lost"


_COUNTER = {"sent": "sent", "retry": "retried", "failed": "failed", "lost": "lost"}


def deliver_due(
    *,
    now: dt.datetime | None = None,
    batch: int | None = None,
    time_budget: float | None = None,
    on_backlog: Callable[[], object] | None = None,
) -> DeliveryResult:
    """Deliver due rows, batch after batch, until none is due or the time budget (seconds) is spent.

    `on_backlog` is called once when a full batch shows there is more than one deliverer's worth of
    work (the Celery task uses it to wake another worker)."""
    batch = batch or settings.KESU_DELIVERY_BATCH
    with asynchronous_commits():
        return _deliver(now, batch, time_budget, on_backlog)


def _deliver(now, batch, time_budget, on_backlog) -> DeliveryResult:
    started = time.monotonic()
    result = DeliveryResult()
    backlog_called = False
    while True:
        at = now or timezone.now()
        rows = claim(at, batch)
        if not rows:
            break
        if len(rows) == batch and on_backlog is not None and not backlog_called:
            backlog_called = True
            on_backlog()
        for row in rows:
            field = _COUNTER[process_one(row, now)]
            setattr(result, field, getattr(result, field) + 1)
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
    return result


# ---------------------------------------------------------------------------------------------
# waking a worker (scaled mode)

_producers: dict[str, object] = {}
_quiet_until = 0.0


def _producer(url: str):
    app = _producers.get(url)
    if app is None:
        from .celery_app import make_app

        app = _producers[url] = make_app(url, producer_only=True)
    return app


def kick_now(task: str = DELIVER_TASK) -> bool:
    """Ask a worker to deliver now. Best effort and quick: with Redis down it logs and returns False
    (and stays quiet for a few seconds); the rows wait in the database for the next periodic run."""
    global _quiet_until
    url = settings.KESU_REDIS_URL
    if not url or time.monotonic() < _quiet_until:
        return False
    try:
        _producer(url).send_task(task, retry=False, ignore_result=True, expires=300)
    except Exception as e:
        _quiet_until = time.monotonic() + 5
        log.warning("could not reach the task queue (%s); delivery waits for the next periodic run", e)
        return False
    return True


def kick_after_commit() -> None:
    """Wake a worker once the current transaction commits (once per transaction)."""
    if not settings.KESU_REDIS_URL:
        return
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        kick_now()
        return
    try:
        if any(entry[1] is kick_now for entry in connection.run_on_commit):
            return
    except (AttributeError, IndexError, TypeError):  # Django internals changed: kick more often
        pass
    transaction.on_commit(kick_now)
