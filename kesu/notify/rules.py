"""Who hears what (SPEC §2, §4): turns timeline events into outbox rows, inside the caller's transaction.

Staff messages carry the number, office, category and deadline, never the complainant's identity;
complainant messages go to the phone they gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.org.choices import COMPANY_ROLES, DEPARTMENT_ROLES, Role
from kesu.org.models import User

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


def _fmt(value) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _staff_text(c: Complaint) -> str:
    category = c.category.name if c.category_id else _("未分类")
    return _("%(office)s · %(category)s · %(content)s") % {
        "office": c.office.name,
        "category": category,
        "content": c.content[:40],
    }


def to_users(event: ComplaintEvent, kind: str, users: Iterable[User], subject: str, body: str) -> int:
    c = event.complaint
    rows = [
        Outbox(
            created_at=event.at,
            kind=kind,
            channel=Outbox.Channel.INAPP,
            user=u,
            complaint=c,
            event=event,
            subject=subject,
            body=body,
            payload={"number": c.number, "office": c.office.code, "event": event.type},
            delivery_key=f"e{event.pk}:{kind}:u{u.pk}",
            next_attempt_at=event.at,
        )
        for u in {u.pk: u for u in users}.values()
    ]
    Outbox.objects.bulk_create(rows)
    return len(rows)


def to_complainant(event: ComplaintEvent, kind: str, body: str) -> int:
    c = event.complaint
    if not c.complainant_phone:
        return 0
    Outbox.objects.create(
        created_at=event.at,
        kind=kind,
        channel=Outbox.Channel.SMS,
        address=c.complainant_phone,
        complaint=c,
        event=event,
        subject=_("投诉 %(number)s") % {"number": c.number},
        body=body,
        payload={"number": c.number, "office": c.office.code, "event": event.type},
        delivery_key=f"e{event.pk}:{kind}:sms",
        next_attempt_at=event.at,
    )
    return 1


def _major_alert(event: ComplaintEvent) -> None:
    c = event.complaint
    users = staff_for(c.office_id, (Role.DIRECTOR, Role.CS_MANAGER, Role.DEPT_MANAGER, Role.QUALITY))
    to_users(
        event,
        "major",
        users,
        _("重大投诉 %(number)s") % {"number": c.number},
        _("重大投诉，请立即处理；须于 %(due)s 前上报公司。%(text)s")
        % {"due": _fmt(c.report_due_at), "text": _staff_text(c)},
    )


def on_event(event: ComplaintEvent, *, became_major: bool = False, night: bool = False) -> None:
    """Queue the notifications an event causes. Called by services.py inside the action's transaction."""
    from kesu.complaints.choices import EventType

    c = event.complaint
    t = event.type
    if t == EventType.REGISTERED:
        if c.on_spot_answer:
            to_complainant(
                event,
                "ack",
                _("您的投诉（编号 %(number)s）已受理并当场答复，感谢您的监督。") % {"number": c.number},
            )
        else:
            to_complainant(
                event,
                "ack",
                _("您的投诉已受理，编号 %(number)s，我们将于 %(due)s 前给您答复。")
                % {"number": c.number, "due": _fmt(c.committed_answer_at)},
            )
        if night:
            duty = [
                u for u in staff_for(c.office_id, (Role.RECEPTIONIST, Role.SUPERVISOR)) if u.on_night_duty
            ]
            to_users(event, "night", duty, _("夜间新投诉 %(number)s") % {"number": c.number}, _staff_text(c))
    elif t == EventType.DISPATCHED:
        if c.handler_id:
            users = [c.handler, *staff_for(c.office_id, (Role.DEPT_MANAGER,), c.department_id)]
        else:
            users = staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
        to_users(
            event,
            "dispatched",
            users,
            _("新派单 %(number)s") % {"number": c.number},
            _("请于 %(due)s 前处理完毕。%(text)s")
            % {"due": _fmt(c.rectify_due_at or c.resolve_due_at), "text": _staff_text(c)},
        )
    elif t == EventType.NOTE and event.visibility == "complainant":
        to_complainant(
            event,
            "progress",
            _("您的投诉 %(number)s 有新进展：%(note)s") % {"number": c.number, "note": event.note},
        )
    elif t == EventType.RESOLVED:
        to_complainant(
            event,
            "result",
            _("您的投诉 %(number)s 已处理：%(text)s") % {"number": c.number, "text": c.resolution[:200]},
        )
        roles = (Role.CS_MANAGER, Role.DIRECTOR) if c.onsite_callback_required else (Role.SUPERVISOR,)
        to_users(
            event,
            "callback_due",
            staff_for(c.office_id, roles),
            _("待回访 %(number)s") % {"number": c.number},
            _("请于 %(due)s 前回访。%(text)s") % {"due": _fmt(c.callback_due_at), "text": _staff_text(c)},
        )
    elif t == EventType.REOPENED:
        users = (
            staff_for(c.office_id, (Role.HANDLER, Role.DEPT_MANAGER), c.department_id)
            if c.department_id
            else []
        )
        users += staff_for(c.office_id, (Role.CS_MANAGER, Role.DIRECTOR))
        to_users(
            event,
            "reopened",
            users,
            _("投诉整改 %(number)s") % {"number": c.number},
            _("投诉人不满意，须于 %(due)s 前整改完毕。%(text)s")
            % {"due": _fmt(c.rectify_due_at), "text": _staff_text(c)},
        )
    elif t == EventType.DECLINED:
        to_complainant(
            event,
            "declined",
            _("您的投诉 %(number)s 不予受理，原因：%(note)s") % {"number": c.number, "note": event.note},
        )
    elif t == EventType.ESCALATED:
        tier = event.data.get("tier", 0)
        to_users(
            event,
            "escalated",
            staff_for(c.office_id, TIER_ROLES.get(tier, ())),
            _("投诉升级 %(number)s") % {"number": c.number},
            _("已升级至您处理，原因：%(note)s。%(text)s") % {"note": event.note, "text": _staff_text(c)},
        )
    if became_major:
        _major_alert(event)


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
    roles = set(BREACH_ROLES[kind]) | set(TIER_ROLES.get(min(tier + 1, 4), ()))
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
        _("投诉超时 %(number)s") % {"number": c.number},
        _("%(kind)s：时限 %(due)s 已过。%(text)s")
        % {
            "kind": event.data.get("label", kind),
            "due": event.data.get("due_at_local", ""),
            "text": _staff_text(c),
        },
    )
