"""Timeline events (ComplaintEvent): one factory per event type, and the subscribers that hear each
committed event.

An event is a business record, not a side effect: type, actor, time, status from → to, the changed
fields old → new and a small data payload of codes, numbers and ISO times only (never a translated
label or a formatted local time), so history renders in any language and any time zone.

Publishing: the lifecycle (services.py, sweep.py, reminders.py) calls `publish(event)` inside the
transaction that wrote the event. Apps above the core (webhooks in kesu.api, later repairs, surveys)
register a subscriber in their AppConfig.ready(); a subscriber writes its own rows (outbox rows, …) in
that same transaction, so they exist exactly when the change committed. The core never imports them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import backfill
from .choices import EventType
from .models import ComplaintEvent

if TYPE_CHECKING:
    from kesu.org.models import User

    from .models import Complaint

Subscriber = Callable[[ComplaintEvent], object]
_subscribers: list[Subscriber] = []

INTERNAL = ComplaintEvent.Visibility.INTERNAL
TOLD = ComplaintEvent.Visibility.COMPLAINANT


def subscribe(subscriber: Subscriber) -> None:
    """Hear every committed timeline event (called from an AppConfig.ready(); idempotent)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def subscribers() -> tuple[Subscriber, ...]:
    return tuple(_subscribers)


def publish(event: ComplaintEvent) -> None:
    """Hand a new event to every subscriber, inside the transaction that wrote it."""
    for subscriber in _subscribers:
        subscriber(event)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _new(
    c: Complaint,
    type: str,
    at: dt.datetime,
    actor: User | None,
    *,
    from_status: str | None = None,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
    told: bool = False,
    data: dict[str, Any] | None = None,
) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint=c,
        type=type,
        at=at,
        actor=actor,
        from_status=c.status if from_status is None else from_status,
        to_status=c.status,
        changes=changes or {},
        note=note,
        visibility=TOLD if told else INTERNAL,
        data=data or {},
    )
    held = backfill.held(c)
    if held is not None:
        held.keep(event)  # written when the backfill flushes
    else:
        event.save(force_insert=True)
    return event


# ---------------------------------------------------------------------------------------------
# staff and residents' actions (services.py)


def registered(
    c: Complaint, by: User, at: dt.datetime, *, told: bool, not_repeat_of: Sequence[str] = ()
) -> ComplaintEvent:
    """登记受理: the judgement given at intake, if any; the on-the-spot answer as the note; the
    earlier complaints the desk said this does not repeat (kesu.complaints.repeats.ruled_out)."""
    data = {
        "nature": c.nature,
        "is_major": c.is_major,
        "severity": c.severity,
        "category": c.category.code if c.category is not None else "",
        "channel": c.channel,
        "not_repeat_of": sorted(not_repeat_of),
    }
    return _new(
        c,
        EventType.REGISTERED,
        at,
        by,
        from_status="",
        note=c.on_spot_answer,
        told=told,
        data={k: v for k, v in data.items() if v},
    )


def assessed(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, reason: str, revised: list[str]
) -> ComplaintEvent:
    return _new(
        c, EventType.ASSESSED, at, by, changes=changes, note=reason, data={"revised": sorted(revised)}
    )


def dispatched(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, note: str
) -> ComplaintEvent:
    return _new(c, EventType.DISPATCHED, at, by, from_status=from_status, changes=changes, note=note)


def accepted(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, note: str
) -> ComplaintEvent:
    return _new(c, EventType.ACCEPTED, at, by, from_status=from_status, changes=changes, note=note)


def noted(c: Complaint, by: User, at: dt.datetime, changes: dict, *, text: str, told: bool) -> ComplaintEvent:
    return _new(c, EventType.NOTE, at, by, changes=changes, note=text, told=told)


def escalated(
    c: Complaint,
    by: User,
    at: dt.datetime,
    changes: dict,
    *,
    reason: str,
    tier: int,
    important: bool = False,
    company: dict[str, Any] | None = None,
) -> ComplaintEvent:
    """升级; `important`: the company marked it important; `company` (to_company): the matter went
    beyond the office, who handles it now (a role code) and the time promised the complainant."""
    data: dict[str, Any] = {"tier": tier}
    if important:
        data["important"] = True
    if company:
        data["to_company"] = company
    return _new(c, EventType.ESCALATED, at, by, changes=changes, note=reason, data=data)


def reported(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, to: list[str], summary: str
) -> ComplaintEvent:
    return _new(c, EventType.REPORTED, at, by, changes=changes, note=summary, data={"to": sorted(to)})


def resolved(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, resolution: str, told: str
) -> ComplaintEvent:
    """处理完毕: the handler's record as the note; `told`, the words the complainant was told ("" if
    they were not told)."""
    return _new(
        c,
        EventType.RESOLVED,
        at,
        by,
        from_status=from_status,
        changes=changes,
        note=resolution,
        told=bool(told),
        data={"told": told} if told else {},
    )


def called_back(
    c: Complaint,
    by: User,
    at: dt.datetime,
    changes: dict,
    *,
    method: str,
    satisfaction: str,
    words: str,
    confirmed: bool,
    due_at: dt.datetime | None,
) -> ComplaintEvent:
    data = {"method": method, "satisfaction": satisfaction, "confirmed": confirmed, "due_at": iso(due_at)}
    return _new(c, EventType.CALLED_BACK, at, by, changes=changes, note=words, data=data)


def reopened(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, reason: str
) -> ComplaintEvent:
    return _new(c, EventType.REOPENED, at, by, from_status=from_status, changes=changes, note=reason)


def closed(
    c: Complaint,
    by: User,
    at: dt.datetime,
    changes: dict,
    *,
    from_status: str,
    note: str,
    outcome: str,
    unsatisfied: bool = False,
) -> ComplaintEvent:
    """结案; `unsatisfied`: ended other than by satisfying a complainant who said they were not."""
    data: dict[str, Any] = {"outcome": outcome}
    if unsatisfied:
        data["unsatisfied"] = True
    return _new(c, EventType.CLOSED, at, by, from_status=from_status, changes=changes, note=note, data=data)


def declined(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, explanation: str, reason: str
) -> ComplaintEvent:
    return _new(
        c,
        EventType.DECLINED,
        at,
        by,
        from_status=from_status,
        changes=changes,
        note=explanation,
        told=True,
        data={"reason": reason},
    )


def withdrawn(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, reason: str
) -> ComplaintEvent:
    return _new(c, EventType.WITHDRAWN, at, by, from_status=from_status, changes=changes, note=reason)


def linked(
    c: Complaint,
    by: User,
    at: dt.datetime,
    changes: dict,
    *,
    target: str,
    reason: str,
    company: dict[str, Any] | None = None,
) -> ComplaintEvent:
    """关联重复投诉; `company` as for `escalated`: a repeat complaint goes to the company tier."""
    data: dict[str, Any] = {"target": target}
    if company:
        data["to_company"] = company
    return _new(c, EventType.LINKED, at, by, changes=changes, note=reason, data=data)


def merged(
    c: Complaint, by: User, at: dt.datetime, changes: dict, *, from_status: str, target: str, reason: str
) -> ComplaintEvent:
    return _new(
        c,
        EventType.MERGED,
        at,
        by,
        from_status=from_status,
        changes=changes,
        note=reason,
        data={"target": target},
    )


def merged_in(c: Complaint, by: User, at: dt.datetime, *, source: str, reason: str) -> ComplaintEvent:
    return _new(c, EventType.MERGED_IN, at, by, note=reason, data={"source": source})


def attachment_added(
    c: Complaint, by: User, at: dt.datetime, *, attachment: int, name: str, kind: str, size: int
) -> ComplaintEvent:
    data = {"attachment": attachment, "name": name, "kind": kind, "size": size}
    return _new(c, EventType.ATTACHMENT_ADDED, at, by, data=data)


def contact_revealed(c: Complaint, by: User, at: dt.datetime) -> ComplaintEvent:
    """Not a change to the complaint: an audit entry that this person saw the full phone number."""
    return _new(c, EventType.CONTACT_REVEALED, at, by)


# ---------------------------------------------------------------------------------------------
# the system's own entries (no actor, status unchanged)


def overdue(c: Complaint, at: dt.datetime, *, kind: str, due_at: dt.datetime) -> ComplaintEvent:
    """超时: deadline `kind` passed at `due_at` (recorded once per deadline by the sweep)."""
    return _new(c, EventType.OVERDUE, at, None, data={"kind": kind, "due_at": iso(due_at), "tier": c.tier})


def auto_escalated(
    c: Complaint, at: dt.datetime, *, kind: str, tier: int, due_at: dt.datetime
) -> ComplaintEvent:
    """The ladder raised a deadline that stays passed to `tier`. The handling tier stays; the ladder
    only raises the alarm."""
    data = {
        "tier": tier,
        "automatic": True,
        "kind": kind,
        "due_at": iso(due_at),
        "overdue_minutes": int((at - due_at).total_seconds() // 60),
    }
    return _new(c, EventType.ESCALATED, at, None, data=data)
