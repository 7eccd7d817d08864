"""Who hears what (SPEC §2, §4): turns timeline events into outbox rows, inside the caller's transaction.

Staff messages carry the number, office, category and deadline, never the complainant's identity;
complainant messages go to the phone they gave. Staff rows are in-app rows, one per person; the
deliverer fans each out to that person's other channels and the office's group robots (decision 0005).
The wording comes from kesu.notify.messages (admins' templates, else the built-in text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.db.models import Q

from kesu.org.choices import COMPANY_ROLES, DEPARTMENT_ROLES, Role
from kesu.org.models import User

from . import messages
from .models import Outbox

if TYPE_CHECKING:
    from kesu.complaints.models import Complaint, ComplaintEvent

# The escalation ladder: which role each handling tier reaches (SPEC §4).
TIER_ROLES: dict[int, tuple[str, ...]] = {
    0: (Role.SUPERVISOR,),
    1: (Role.CS_MANAGER,),
    2: (Role.DIRECTOR,),
    3: (Role.QUALITY,),
    4: (Role.EXECUTIVE,),
}
TOP_TIER = max(TIER_ROLES)


def staff_for(office_id: int, roles: Iterable[str], department_id: int | None = None) -> list[User]:
    """Active users holding one of `roles` for this office (company roles: anywhere)."""
    roles = set(roles)
    q = Q()
    office_roles = roles - DEPARTMENT_ROLES - COMPANY_ROLES
    if office_roles:
        q |= Q(role__in=office_roles, offices=office_id)
    dept_roles = roles & DEPARTMENT_ROLES
    if dept_roles:
        dq = Q(role__in=dept_roles, department__office_id=office_id)
        if department_id is not None:
            dq &= Q(department_id=department_id)
        q |= dq
    company_roles = roles & COMPANY_ROLES
    if company_roles:
        q |= Q(role__in=company_roles)
    if not q:
        return []
    return list(User.objects.filter(q, is_active=True).distinct().order_by("pk"))


def _payload(c: Complaint, **extra: object) -> dict[str, object]:
    return {
        "number": c.number,
        "office": c.office.code,
        "office_id": c.office_id,
        "link": messages.complaint_link(c.number),
        **extra,
    }


def queue_for_users(
    c: Complaint,
    *,
    kind: str,
    users: Iterable[User],
    context: dict[str, object],
    key: Callable[[User], str],
    at: dt.datetime,
    event: ComplaintEvent | None = None,
    payload: dict[str, object] | None = None,
) -> int:
    """One in-app row per person (deduplicated), worded by the template for `kind`."""
    subject, body = messages.render(kind, Outbox.Channel.INAPP, context)
    rows = [
        Outbox(
            created_at=at,
            kind=kind,
            channel=Outbox.Channel.INAPP,
            user=u,
            complaint=c,
            event=event,
            subject=subject,
            body=body,
            payload=payload if payload is not None else _payload(c, event=event.type if event else ""),
            delivery_key=key(u),
            next_attempt_at=at,
        )
        for u in {u.pk: u for u in users}.values()
    ]
    Outbox.objects.bulk_create(rows)
    if rows:
        _kick()
    return len(rows)


def to_users(event: ComplaintEvent, kind: str, users: Iterable[User], **context: object) -> int:
    c = event.complaint
    return queue_for_users(
        c,
        kind=kind,
        users=users,
        context=messages.complaint_context(c, **context),
        key=lambda u: f"e{event.pk}:{kind}:u{u.pk}",
        at=event.at,
        event=event,
    )


def to_complainant(event: ComplaintEvent, kind: str, **context: object) -> int:
    c = event.complaint
    if not c.complainant_phone:
        return 0
    subject, body = messages.render(kind, Outbox.Channel.SMS, messages.complaint_context(c, **context))
    Outbox.objects.create(
        created_at=event.at,
        kind=kind,
        channel=Outbox.Channel.SMS,
        address=c.complainant_phone,
        complaint=c,
        event=event,
        subject=subject,
        body=body,
        payload=_payload(c, event=event.type),
        delivery_key=f"e{event.pk}:{kind}:sms",
        next_attempt_at=event.at,
    )
    _kick()
    return 1


def _portal_link(c: Complaint) -> str:
    """A signed link that opens this complaint for its complainant in the resident portal."""
    try:
        from kesu.portal.links import complaint_url
    except ImportError:  # a deployment without the portal
        return ""
    return complaint_url(c) if c.complainant_phone else ""


def _kick() -> None:
    # Scaled mode: ask a worker to deliver as soon as this transaction commits. Best effort: the
    # rows are already safe in the database and the periodic delivery picks them up regardless.
    from .delivery import kick_after_commit

    kick_after_commit()


def _major_alert(event: ComplaintEvent) -> None:
    c = event.complaint
    users = staff_for(c.office_id, (Role.DIRECTOR, Role.CS_MANAGER, Role.DEPT_MANAGER, Role.QUALITY))
    to_users(event, "major", users, deadline=messages.fmt(c.report_due_at))


def on_event(event: ComplaintEvent, *, became_major: bool = False, night: bool = False) -> None:
    """Queue the notifications an event causes. Called by services.py inside the action's transaction."""
    from kesu.complaints.choices import EventType

    c = event.complaint
    t = event.type
    if t == EventType.REGISTERED:
        to_complainant(event, "ack", deadline=messages.fmt(c.committed_answer_at))
        front_desk = staff_for(c.office_id, (Role.RECEPTIONIST, Role.SUPERVISOR))
        if getattr(event.actor, "role", None) == Role.RESIDENT:
            # Filed on line: nobody at the desk received it, so the desk (at night, the duty staff) hears.
            to_users(event, "online", [u for u in front_desk if u.on_night_duty or not night])
        elif night:
            to_users(event, "night", [u for u in front_desk if u.on_night_duty])
    elif t == EventType.DISPATCHED:
        if c.handler_id:
            users = [c.handler, *staff_for(c.office_id, (Role.DEPT_MANAGER,), c.department_id)]
        else:
            users = staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
        to_users(event, "dispatched", users, deadline=messages.fmt(c.rectify_due_at or c.resolve_due_at))
    elif t == EventType.NOTE and event.visibility == "complainant":
        to_complainant(event, "progress", note=event.note)
    elif t == EventType.RESOLVED:
        # The result doubles as the callback request: the resident can rate and confirm on line.
        to_complainant(event, "result", resolution=c.resolution[:200], portal_link=_portal_link(c))
        roles = (Role.CS_MANAGER, Role.DIRECTOR) if c.onsite_callback_required else (Role.SUPERVISOR,)
        to_users(
            event, "callback_due", staff_for(c.office_id, roles), deadline=messages.fmt(c.callback_due_at)
        )
    elif t == EventType.REOPENED:
        users = (
            staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
            if c.department_id
            else []
        )
        users += staff_for(c.office_id, (Role.CS_MANAGER, Role.DIRECTOR))
        to_users(event, "reopened", users, deadline=messages.fmt(c.rectify_due_at))
    elif t == EventType.DECLINED:
        to_complainant(event, "declined", note=event.note)
    elif t == EventType.ESCALATED:
        tier = event.data.get("tier", 0)
        to_users(event, "escalated", staff_for(c.office_id, TIER_ROLES.get(tier, ())), note=event.note)
    if became_major:
        _major_alert(event)
    from kesu.api.webhooks import queue_webhooks  # issue 4: webhooks, in this same transaction

    queue_webhooks(event)


# Who owns the next step when a deadline passes, by kind (before the ladder above them).
BREACH_ROLES: dict[str, tuple[str, ...]] = {
    "forward": (Role.SUPERVISOR, Role.CS_MANAGER),
    "report": (Role.DIRECTOR, Role.QUALITY),
    "answer": (Role.SUPERVISOR,),
    "resolve": (Role.HANDLER, Role.DEPT_MANAGER, Role.CS_MANAGER),
    "rectify": (Role.HANDLER, Role.DEPT_MANAGER, Role.CS_MANAGER, Role.DIRECTOR),
    "callback": (Role.SUPERVISOR, Role.CS_MANAGER),
}


def on_breach(event: ComplaintEvent, kind: str, tier: int) -> int:
    """A deadline passed: tell whoever owns the next step and the next tier of the ladder."""
    c = event.complaint
    roles = set(BREACH_ROLES[kind]) | set(TIER_ROLES.get(min(tier + 1, TOP_TIER), ()))
    if kind == "callback" and c.onsite_callback_required:
        roles |= {Role.DIRECTOR}
    users = [
        u
        for u in staff_for(c.office_id, roles)
        if u.role not in DEPARTMENT_ROLES or u.department_id == c.department_id
    ]
    if kind in ("answer",) and c.owner_id:
        users.append(c.owner)
    return to_users(
        event,
        f"overdue_{kind}",
        users,
        deadline=event.data.get("due_at_local", ""),
        deadline_label=event.data.get("label", kind),
    )


def next_step_owners(c: Complaint, kind: str) -> list[User]:
    """Who owns the step that meets deadline `kind` (for "about to pass" warnings)."""
    if kind == "forward":
        # 转呈: the CS staff who dispatch, and whoever first received it (首问负责制).
        users = staff_for(c.office_id, (Role.SUPERVISOR,))
        return [*users, c.owner] if c.owner_id else users
    if kind == "report":
        return staff_for(c.office_id, (Role.DIRECTOR,))
    if kind == "answer":
        return [c.owner] if c.owner_id else staff_for(c.office_id, (Role.SUPERVISOR,))
    if kind in ("resolve", "rectify"):
        if c.handler_id:
            return [c.handler]
        if c.department_id:
            return staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
        return staff_for(c.office_id, (Role.SUPERVISOR,))
    if kind == "callback":
        roles = (Role.CS_MANAGER, Role.DIRECTOR) if c.onsite_callback_required else (Role.SUPERVISOR,)
        return staff_for(c.office_id, roles)
    raise ValueError(f"unknown deadline kind {kind!r}")
