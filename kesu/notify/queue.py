"""Writing outbox rows: the one way any app queues a notification.

Callers decide who hears what (the lifecycle's kesu.complaints.alerts, the monthly report's delivery)
and call these inside their own transaction; the wording comes from kesu.notify.messages (admins'
templates, else the built-in text). Staff rows are in-app rows, one per person; the deliverer fans each
out to that person's other channels and the office's group robots (decision 0005).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import messages
from .delivery import kick_after_commit
from .models import Outbox

if TYPE_CHECKING:
    from kesu.org.models import User


def _row(kind: str, channel: str, context: dict[str, object], **fields: Any) -> Outbox:
    subject, body = messages.render(kind, channel, context)
    return Outbox(kind=kind, channel=channel, subject=subject, body=body, **fields)


_collected: contextvars.ContextVar[list[Outbox] | None] = contextvars.ContextVar(
    "kesu_outbox_collected", default=None
)


@contextlib.contextmanager
def collecting() -> Iterator[list[Outbox]]:
    """Rows queued inside are appended to the yielded list instead of written: the caller inserts them
    in bulk (back-filled history, kesu.complaints.backfill)."""
    rows: list[Outbox] = []
    token = _collected.set(rows)
    try:
        yield rows
    finally:
        _collected.reset(token)


def write(rows: list[Outbox], *, ignore_conflicts: bool = False, batch_size: int | None = None) -> None:
    """Insert outbox rows (or collect them, inside `collecting`)."""
    collected = _collected.get()
    if collected is not None and not ignore_conflicts:
        collected.extend(rows)
        return
    Outbox.objects.bulk_create(rows, ignore_conflicts=ignore_conflicts, batch_size=batch_size)
    if rows:
        # Scaled mode: a worker delivers as soon as this transaction commits. Best effort: the rows
        # are safe in the database and the periodic delivery picks them up regardless.
        kick_after_commit()


def to_users(
    kind: str,
    users: Iterable[User],
    context: dict[str, object],
    *,
    key: Callable[[User], str],
    at: dt.datetime,
    payload: dict[str, Any],
    complaint_id: int | None = None,
    event_id: int | None = None,
    ignore_conflicts: bool = False,
) -> int:
    """One in-app row per person (deduplicated), worded by the template for `kind`. `key` gives each
    row's delivery key: a repeat of the same key is a repeat of the same message."""
    about = {"complaint_id": complaint_id, "event_id": event_id, "payload": payload}
    rows = [
        _row(
            kind,
            Outbox.Channel.INAPP,
            context,
            user=u,
            delivery_key=key(u),
            created_at=at,
            next_attempt_at=at,
            **about,
        )
        for u in {u.pk: u for u in users}.values()
    ]
    write(rows, ignore_conflicts=ignore_conflicts)
    return len(rows)


def to_phone(
    kind: str,
    phone: str,
    context: dict[str, object],
    *,
    key: str,
    at: dt.datetime,
    payload: dict[str, Any],
    complaint_id: int | None = None,
    event_id: int | None = None,
) -> int:
    """One SMS row to a phone number that is not a user's (a complainant's)."""
    if not phone:
        return 0
    about = {"complaint_id": complaint_id, "event_id": event_id, "payload": payload}
    row = _row(
        kind,
        Outbox.Channel.SMS,
        context,
        address=phone,
        delivery_key=key,
        created_at=at,
        next_attempt_at=at,
        **about,
    )
    write([row])
    return 1
