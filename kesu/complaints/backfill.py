"""Back-filling finished history in bulk (the demo company): the lifecycle's own functions, run on
complaints held in memory, and every row they write inserted at the end in a few statements.

Inside ``with Backfill() as bf:`` every ``services.register`` and every action on a complaint
registered there works as always (the same checks, fields, deadlines, timeline events, callbacks and
notifications, the number from the counter table), except that nothing is written until
``bf.flush()``:

- a complaint registered inside is held in memory; an action on it takes the held row as it stands
  (no read back, no row lock: nobody else can see it yet), its datetimes in UTC as the database
  gives them back, so timelines read exactly as they would;
- its timeline events and callbacks are kept in order;
- each event's announcement (its notifications and the event subscribers) waits for the flush, with a
  copy of the complaint as it was at that moment, so messages say what was true then.

``flush()`` inserts the complaints, their events and callbacks, then announces every event in order
and inserts the outbox rows at once. Subscribers that read the database meanwhile see the complaints'
final rows. Actions on complaints not registered inside take the ordinary path, so held and written
complaints may be mixed in one transaction (repeat and merge targets must be written ones).

Whoever opens a backfill promises that staff, offices and webhook subscriptions stand still while it
is open: reads of them are done once (``remembered``).

The lifecycle asks ``held(c)``, ``keep(obj)``, ``announce(...)`` and ``remembered(...)``; the rules
stay in services.py.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime as dt
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models

from .models import Callback, Complaint, ComplaintEvent

_active: contextvars.ContextVar[Backfill | None] = contextvars.ContextVar("kesu_backfill", default=None)
_known: contextvars.ContextVar[dict[Hashable, Any] | None] = contextvars.ContextVar(
    "kesu_backfill_known", default=None
)

BATCH = 500


@dataclass
class _Announcement:
    event: ComplaintEvent
    complaint: Complaint  # the held complaint; event.complaint is its copy as it was then
    became_major: bool
    night: bool


@dataclass
class Backfill:
    complaints: list[Complaint] = field(default_factory=list)
    events: list[ComplaintEvent] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    announcements: list[_Announcement] = field(default_factory=list)
    _ids: set[int] = field(default_factory=set)
    _tokens: list[contextvars.Token[Any]] = field(default_factory=list)

    def __enter__(self) -> Backfill:
        self._tokens = [_active.set(self), _known.set({})]
        return self

    def __exit__(self, *exc: object) -> None:
        active, known = self._tokens
        _known.reset(known)
        _active.reset(active)
        self._tokens = []

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Complaints registered inside are written at once, step by step, as without a backfill."""
        token = _active.set(None)
        try:
            yield
        finally:
            _active.reset(token)

    # -- what the lifecycle asks -----------------------------------------------------------

    def hold(self, c: Complaint) -> None:
        self.complaints.append(c)
        self._ids.add(id(c))

    def holds(self, c: Complaint) -> bool:
        return id(c) in self._ids

    def keep(self, obj: models.Model) -> None:
        if isinstance(obj, ComplaintEvent):
            self.events.append(obj)
        elif isinstance(obj, Callback):
            self.callbacks.append(obj)
        else:
            raise TypeError(f"a backfill keeps events and callbacks, not {type(obj).__name__}")

    def announce(self, event: ComplaintEvent, *, became_major: bool, night: bool) -> Complaint:
        c = event.complaint
        event.complaint = copy.copy(c)  # the complaint as it is now, for the messages
        self.announcements.append(_Announcement(event, c, became_major, night))
        return c

    # -- writing ---------------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything held (inside the caller's transaction); returns the number of complaints."""
        from kesu.notify import queue

        from . import alerts, events

        Complaint.objects.bulk_create(self.complaints, batch_size=BATCH)
        for a in self.announcements:
            a.event.complaint.pk = a.complaint.pk  # the copy is the same row
        ComplaintEvent.objects.bulk_create(self.events, batch_size=BATCH)
        Callback.objects.bulk_create(self.callbacks, batch_size=BATCH)
        with queue.collecting() as rows:
            for a in self.announcements:
                alerts.on_event(a.event, became_major=a.became_major, night=a.night)
                events.publish(a.event)
        queue.write(rows, batch_size=BATCH)
        n = len(self.complaints)
        self.complaints, self.events, self.callbacks, self.announcements = [], [], [], []
        self._ids = set()
        return n


T = TypeVar("T")


def remembered(key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, done once per key inside a backfill (whose user promises that staff, offices and
    webhook subscriptions stand still meanwhile): who holds a role in an office, who may register for
    which office, which subscriptions an office has. Elsewhere simply `read()`."""
    known = _known.get()
    if known is None:
        return read()
    if key not in known:
        known[key] = read()
    return known[key]  # type: ignore[no-any-return]


def active() -> Backfill | None:
    return _active.get()


def held(c: Complaint) -> Backfill | None:
    """The backfill holding this complaint in memory, if any."""
    bf = _active.get()
    return bf if bf is not None and bf.holds(c) else None


def as_read_back(c: Complaint) -> Complaint:
    """The held row as the database would give it back: datetimes in UTC."""
    for f in c._meta.concrete_fields:
        if isinstance(f, models.DateTimeField):
            value = getattr(c, f.attname)
            if value is not None:
                setattr(c, f.attname, value.astimezone(dt.UTC))
    return c
