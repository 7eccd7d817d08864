"""Template helpers of the workspace: deadline badges, masked personal data, status colours."""

from __future__ import annotations

from django import template
from django.utils import timezone

from kesu.complaints.choices import Status
from kesu.complaints.validation import mask_name, mask_phone

from .. import clock

register = template.Library()

_STATUS_TONE = {
    Status.RECEIVED: "new",
    Status.DISPATCHED: "work",
    Status.IN_PROGRESS: "work",
    Status.RESOLVED: "wait",
    Status.RECTIFYING: "warn",
    Status.CLOSED: "done",
    Status.DECLINED: "end",
    Status.WITHDRAWN: "end",
    Status.MERGED: "end",
}


@register.filter
def status_tone(status: str) -> str:
    return _STATUS_TONE.get(status, "end")


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value or "")


@register.filter
def masked_name(value: str) -> str:
    return mask_name(value or "")


@register.filter
def complained_parts(c) -> str:
    """被投诉部门/人员 in one line: the words typed, the department and the staff member chosen, each
    once and only those given ("工程部", not "— · 工程部"; "工程部", not "工程部 · 工程部")."""
    parts: list[str] = []
    for part in (
        (c.complained_party or "").strip(),
        c.complained_department.name if c.complained_department_id else "",
        str(c.complained_staff) if c.complained_staff_id else "",
    ):
        if part and part not in parts:
            parts.append(part)
    return " · ".join(parts)


@register.inclusion_tag("web/includes/due.html")
def due_badge(due, show_label=True, show_time=False):
    return {"d": due, "show_label": show_label, "show_time": show_time}


@register.simple_tag
def next_due(c):
    return clock.next_due(c, timezone.now())


@register.inclusion_tag("web/includes/field.html")
def field(bound, cls="", **attrs):
    for name, value in attrs.items():
        bound.field.widget.attrs[name.replace("_", "-")] = value
    return {"field": bound, "cls": cls}
