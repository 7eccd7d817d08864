"""Who hears what (docs/procedures.md §2, §4): the notifications each timeline event causes, queued
in the outbox inside the caller's transaction.

This is lifecycle policy, so it lives with the lifecycle. Staff messages carry the number, office,
masked unit, category and deadline, never the complainant's identity; complainant messages go to the
phone they gave. Writing the rows and their wording is kesu.notify's (queue, messages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from kesu.notify import messages, queue
from kesu.org.choices import COMPANY_ROLES, DEPARTMENT_ROLES, Role
from kesu.org.models import User

from . import backfill
from .choices import Deadline, EventType, ReportTarget, Severity, Tier
from .links import complaint_url
from .models import Complaint, ComplaintEvent
from .policy import TIER_ROLES, TOP_TIER


def staff_for(office_id: int, roles: Iterable[str], department_id: int | None = None) -> list[User]:
    """Active users holding one of `roles` for this office (company roles: anywhere)."""
    roles = set(roles)
    key = ("staff_for", office_id, frozenset(roles), department_id)
    return list(backfill.remembered(key, lambda: _staff_for(office_id, roles, department_id)))


def _staff_for(office_id: int, roles: set[str], department_id: int | None) -> list[User]:
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


def complaint_context(c: Complaint, **extra: object) -> dict[str, object]:
    """The safe context templates see for a complaint: strings only, no identity of the complainant."""
    ctx: dict[str, object] = {
        "number": c.number,
        "office": c.office.name,
        "office_code": c.office.code,
        "unit": messages.mask_unit(c.unit.code) if c.unit is not None else "—",
        "category": c.category.name if c.category is not None else "未分类",
        "severity": str(c.get_severity_display()) if c.severity else "未判定",
        "content": c.content[:40],
        "deadline": "—",
        "deadline_label": "",
        "link": messages.complaint_link(c.number),
        "note": "",
        "resolution": "",
        "tier": "",
        "overdue_for": "",
        "on_spot": bool(c.on_spot_answer),
        "portal_link": "",
    }
    ctx.update(extra)
    return ctx


def payload(c: Complaint, **extra: object) -> dict[str, object]:
    return {
        "number": c.number,
        "office": c.office.code,
        "office_id": c.office_id,
        "link": messages.complaint_link(c.number),
        **extra,
    }


def to_staff(
    c: Complaint,
    kind: str,
    users: Iterable[User | None],
    context: dict[str, object],
    *,
    key: str,
    at: dt.datetime,
    event: ComplaintEvent | None = None,
    data: dict[str, object] | None = None,
) -> int:
    """In-app rows about complaint `c`, one per person; `key` is the message's delivery-key prefix and
    `context` what the template may say beyond the complaint's own safe fields."""
    return queue.to_users(
        kind,
        [u for u in users if u is not None],
        complaint_context(c, **context),
        key=lambda u: f"{key}:{kind}:u{u.pk}",
        at=at,
        payload=payload(c, **(data if data is not None else {"event": event.type if event else ""})),
        complaint_id=c.pk,
        event_id=event.pk if event else None,
    )


def to_users(event: ComplaintEvent, kind: str, users: Iterable[User | None], **context: object) -> int:
    return to_staff(event.complaint, kind, users, context, key=f"e{event.pk}", at=event.at, event=event)


def to_complainant(event: ComplaintEvent, kind: str, **context: object) -> int:
    c = event.complaint
    return queue.to_phone(
        kind,
        c.complainant_phone,
        complaint_context(c, **context),
        key=f"e{event.pk}:{kind}:sms",
        at=event.at,
        payload=payload(c, event=event.type),
        complaint_id=c.pk,
        event_id=event.pk,
    )


def _portal_link(c: Complaint) -> str:
    """A signed link that opens this complaint for its complainant in the resident portal."""
    return complaint_url(c) if c.complainant_phone else ""


# Who hears of a major complaint at once (docs/procedures.md §4): the office's managers, and company
# quality and the executive, whom it must reach within the hour, day or night.
MAJOR_ROLES = (Role.DIRECTOR, Role.CS_MANAGER, Role.DEPT_MANAGER, Role.QUALITY, Role.EXECUTIVE)


def _major_alert(event: ComplaintEvent) -> None:
    c = event.complaint
    to_users(event, "major", staff_for(c.office_id, MAJOR_ROLES), deadline=messages.fmt(c.report_due_at))


def _company_takes_over(event: ComplaintEvent, company: dict[str, object]) -> None:
    """The matter went beyond the office: company quality (and, for a major complaint, the executive)
    hear it is theirs; the complainant hears who handles it now and the time promised."""
    c = event.complaint
    if event.type != EventType.ESCALATED:  # a manual escalation tells its own tier below
        roles = (Role.QUALITY, Role.EXECUTIVE) if c.effective_severity == Severity.MAJOR else (Role.QUALITY,)
        to_users(event, "escalated", staff_for(c.office_id, roles), note=str(EventType(event.type).label))
    committed = company.get("committed")
    to_complainant(
        event,
        "company",
        handler=str(Tier.COMPANY.label),
        deadline=messages.fmt(dt.datetime.fromisoformat(committed)) if isinstance(committed, str) else "",
    )


def on_event(event: ComplaintEvent, *, became_major: bool = False, night: bool = False) -> None:
    """Queue the notifications an event causes. Called by services.py inside the action's transaction."""
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
    elif t == EventType.ASSESSED and "committed_answer_at" in event.changes:
        # The judgement brought the promised answer forward: the complainant hears the new time.
        to_complainant(event, "promise", deadline=messages.fmt(c.committed_answer_at))
    elif t == EventType.DISPATCHED:
        # A named handler and the department's manager, else everyone in the department.
        roles = (Role.DEPT_MANAGER,) if c.handler_id else (Role.HANDLER, Role.DEPT_MANAGER)
        users = [c.handler, *staff_for(c.office_id, roles, c.department_id)]
        to_users(event, "dispatched", users, deadline=messages.fmt(c.rectify_due_at or c.resolve_due_at))
    elif t == EventType.NOTE and event.visibility == ComplaintEvent.Visibility.COMPLAINANT:
        to_complainant(event, "progress", note=event.note)
    elif t == EventType.RESOLVED:
        # The result doubles as the callback request: the resident can rate and confirm on line.
        # Only the words meant for the complainant, and only when they are to be told.
        if c.resolution_told:
            to_complainant(event, "result", resolution=c.resolution_told[:200], portal_link=_portal_link(c))
        to_users(event, "callback_due", callback_owners(c), deadline=messages.fmt(c.callback_due_at))
    elif t == EventType.REOPENED:
        department = (
            staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
            if c.department_id
            else []
        )
        to_users(
            event,
            "reopened",
            department + staff_for(c.office_id, (Role.CS_MANAGER, Role.DIRECTOR)),
            deadline=messages.fmt(c.rectify_due_at),
        )
    elif t == EventType.DECLINED:
        to_complainant(event, "declined", note=event.note)
    elif t == EventType.REPORTED:
        # 上报公司: the quality department and the executive hear it from the office, at once.
        role_of_target = {ReportTarget.QUALITY: Role.QUALITY, ReportTarget.EXECUTIVE: Role.EXECUTIVE}
        wanted = [role_of_target[code] for code in event.data.get("to", ()) if code in role_of_target]
        to_users(event, "reported", staff_for(c.office_id, wanted), note=event.note)
    elif t == EventType.ESCALATED:
        tier = event.data.get("tier", 0)
        tier_roles: set[str] = set(TIER_ROLES.get(tier, ()))
        if tier >= Tier.COMPANY and c.effective_severity == Severity.MAJOR:
            tier_roles |= {Role.QUALITY, Role.EXECUTIVE}  # reaching the company is a major's upward report
        to_users(event, "escalated", staff_for(c.office_id, tier_roles), note=event.note)
    company = event.data.get("to_company")
    if isinstance(company, dict):
        _company_takes_over(event, company)
    if became_major:
        _major_alert(event)


# Who owns the next step when a deadline passes, by kind (before the ladder above them).
BREACH_ROLES: dict[str, tuple[str, ...]] = {
    Deadline.FORWARD: (Role.SUPERVISOR, Role.CS_MANAGER),
    Deadline.REPORT: (Role.DIRECTOR, Role.QUALITY, Role.EXECUTIVE),  # both were to hear within the hour
    Deadline.ANSWER: (Role.SUPERVISOR,),
    Deadline.RESOLVE: (Role.HANDLER, Role.DEPT_MANAGER, Role.CS_MANAGER),
    Deadline.RECTIFY: (Role.HANDLER, Role.DEPT_MANAGER, Role.CS_MANAGER, Role.DIRECTOR),
    Deadline.CALLBACK: (Role.SUPERVISOR, Role.CS_MANAGER),
}


def on_breach(event: ComplaintEvent, kind: str, tier: int, due_at: dt.datetime) -> int:
    """A deadline passed: tell whoever owns the next step and the next tier of the ladder."""
    c = event.complaint
    roles = set(BREACH_ROLES[kind]) | set(TIER_ROLES.get(min(tier + 1, TOP_TIER), ()))
    if kind == Deadline.CALLBACK and c.onsite_callback_required:
        roles |= {Role.DIRECTOR}
    users: list[User | None] = [
        u
        for u in staff_for(c.office_id, roles)
        if u.role not in DEPARTMENT_ROLES or u.department_id == c.department_id
    ]
    if kind == Deadline.ANSWER:
        users.append(c.owner)
    return to_users(
        event,
        f"overdue_{kind}",
        users,
        deadline=messages.fmt(due_at),
        deadline_label=str(Deadline(kind).label),
    )


def callback_owners(c: Complaint) -> list[User]:
    """Who calls back: a major complaint's managers on site, else the CS supervisors."""
    roles = (Role.CS_MANAGER, Role.DIRECTOR) if c.onsite_callback_required else (Role.SUPERVISOR,)
    return staff_for(c.office_id, roles)


def next_step_owners(c: Complaint, kind: str) -> list[User | None]:
    """Who owns the step that meets deadline `kind` (for "about to pass" warnings)."""
    if kind == Deadline.FORWARD:
        # 转呈: the CS staff who dispatch, and whoever first received it (首问负责制).
        return [*staff_for(c.office_id, (Role.SUPERVISOR,)), c.owner]
    if kind == Deadline.REPORT:
        return list(staff_for(c.office_id, (Role.DIRECTOR,)))
    if kind == Deadline.ANSWER:
        return [c.owner] if c.owner is not None else list(staff_for(c.office_id, (Role.SUPERVISOR,)))
    if kind in (Deadline.RESOLVE, Deadline.RECTIFY):
        if c.handler is not None:
            return [c.handler]
        roles = (Role.HANDLER, Role.DEPT_MANAGER) if c.department_id else (Role.SUPERVISOR,)
        return list(staff_for(c.office_id, roles, c.department_id))
    if kind == Deadline.CALLBACK:
        return list(callback_owners(c))
    raise ValueError(f"unknown deadline kind {kind!r}")
