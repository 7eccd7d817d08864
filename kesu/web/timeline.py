"""The handling record (投诉处理记录表) as people read it: timeline events rendered from their stored
codes and raw values (never stored labels), so history shows in the reader's language, and the
people in it as the reader may know them (kesu.complaints.scope.complainant_view: the complainant's
portal account is "业主/住户" to those who may not know who complained)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.choices import (
    CallbackMethod,
    CloseOutcome,
    DeclineReason,
    EventType,
    ReportTarget,
    Satisfaction,
    Status,
    Tier,
)
from kesu.complaints.models import Category, Complaint, ComplaintEvent
from kesu.complaints.scope import ComplainantView, complainant_view
from kesu.org.models import Department, User

# Bookkeeping columns that every change touches; they add nothing to the record.
_SKIP = {"assessed_at", "assessed_by_id", "version", "onsite_callback_required", "updated_at"}
# Computed deadlines (shown small); the rectification deadline is a person's decision, shown in full.
_DEADLINES = {"forward_due_at", "report_due_at", "resolve_due_at", "callback_due_at"}
# Changes the event's note already says (the resolution is the note of the "resolved" event).
_SHOWN_AS_NOTE = {"resolution", "resolution_told", "end_note"}
_FK_MODELS = {
    "department_id": Department,
    "handler_id": User,
    "category_id": Category,
    "repeat_of_id": Complaint,
    "merged_into_id": Complaint,
}


@dataclass
class Change:
    label: str
    old: str
    new: str
    deadline: bool = False
    muted: bool = False  # a value cleared by the step (e.g. the old callback time on reopening)


@dataclass
class Entry:
    event: ComplaintEvent
    title: str
    actor: str
    from_status: str = ""
    to_status: str = ""
    changes: list[Change] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    told: bool = False  # the complainant was told this (visibility "complainant")
    tone: str = "internal"  # internal | told | callback | alert | audit

    @property
    def at(self) -> dt.datetime:
        return self.event.at

    @property
    def summary(self) -> str:
        """One line for the paper handling record: the note, the details, what changed."""
        parts = [self.note.strip().rstrip("。；;")] if self.note.strip() else []
        parts += [f"{k}：{v}" for k, v in self.details]
        parts += [f"{ch.label}：{ch.new}" for ch in self.changes if not ch.deadline and not ch.muted]
        return "；".join(parts)


def _fmt_dt(value: Any) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d %H:%M")


def _same_minute(value: Any, at: dt.datetime) -> bool:
    if not isinstance(value, str):
        return False
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return abs((when - at).total_seconds()) < 60


def _label(choices: type, value: Any) -> str:
    if value in ("", None):
        return "—"
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _field_label(attname: str) -> str:
    name = attname[:-3] if attname.endswith("_id") else attname
    try:
        return str(Complaint._meta.get_field(name).verbose_name)
    except Exception:  # an unknown column in an old event: show its name
        return name


def _lookups(events: list[ComplaintEvent]) -> dict[str, dict[Any, str]]:
    """One query per related model for every id mentioned in the events' changes."""
    wanted: dict[str, set] = {k: set() for k in _FK_MODELS}
    for e in events:
        for key, pair in (e.changes or {}).items():
            if key in wanted:
                wanted[key].update(v for v in pair if v)
    names: dict[str, dict[Any, str]] = {}
    complaint_ids = wanted["repeat_of_id"] | wanted["merged_into_id"]
    numbers = (
        dict(Complaint.objects.filter(pk__in=complaint_ids).values_list("pk", "number"))
        if complaint_ids
        else {}
    )
    for key, model in _FK_MODELS.items():
        ids = wanted[key]
        if not ids:
            names[key] = {}
        elif model is Complaint:
            names[key] = numbers
        else:
            names[key] = {
                o.pk: str(o) if model is not Department else o.name for o in model.objects.filter(pk__in=ids)
            }
    return names


def _value(attname: str, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if value in ("", None):
        return "—"
    if attname in names:
        return names[attname].get(value, f"#{value}")
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if attname.endswith("_at") or attname == "requested_by":
        return _fmt_dt(value)
    f = Complaint._meta.get_field(attname[:-3] if attname.endswith("_id") else attname)
    if getattr(f, "choices", None):
        return str(dict(f.choices).get(value, value))
    return str(value)


def _title(e: ComplaintEvent) -> str:
    if e.type == EventType.ESCALATED and (e.data or {}).get("automatic"):
        return _("超时自动升级")
    if e.type == EventType.NOTE:
        return _("告知投诉人进展") if e.visibility == ComplaintEvent.Visibility.COMPLAINANT else _("内部备注")
    return _label(EventType, e.type)


def _details(e: ComplaintEvent, view: ComplainantView) -> list[tuple[str, str]]:
    d = e.data or {}
    t = e.type
    out: list[tuple[str, str]] = []
    if t == EventType.REGISTERED:
        if d.get("channel"):
            from kesu.complaints.choices import Channel

            out.append((_("渠道"), _label(Channel, d["channel"])))
        if d.get("not_repeat_of"):
            out.append((_("确认不是重复投诉"), "、".join(str(n) for n in d["not_repeat_of"])))
    elif t == EventType.CALLED_BACK:
        out += [
            (_("回访方式"), _label(CallbackMethod, d.get("method"))),
            (_("满意度"), _label(Satisfaction, d.get("satisfaction"))),
            (_("投诉人确认"), _("已确认/签字") if d.get("confirmed") else _("未确认")),
        ]
    elif t == EventType.CLOSED:
        out.append((_("结案方式"), _label(CloseOutcome, d.get("outcome"))))
    elif t == EventType.DECLINED:
        out.append((_("原因"), _label(DeclineReason, d.get("reason"))))
    elif t == EventType.ESCALATED:
        out.append((_("升级至"), _label(Tier, d.get("tier"))))
        if d.get("automatic") and d.get("kind"):
            from kesu.complaints.choices import Deadline

            out.append((_("超时"), _label(Deadline, d["kind"])))
            out.append((_("时限"), _fmt_dt(d.get("due_at"))))
    elif t == EventType.RESOLVED and d.get("told") and d["told"] != e.note:
        out.append((_("告知投诉人"), str(d["told"])))
    elif t == EventType.REPORTED:
        out.append((_("上报对象"), "、".join(_label(ReportTarget, code) for code in d.get("to", ()))))
    elif t in (EventType.LINKED, EventType.MERGED):
        out.append((_("目标投诉"), str(d.get("target", ""))))
    elif t == EventType.MERGED_IN:
        out.append((_("并入的投诉"), str(d.get("source", ""))))
    elif t == EventType.ATTACHMENT_ADDED:
        out.append((_("附件"), view.file_name(str(d.get("name", "")), d.get("attachment", ""))))
    elif t == EventType.OVERDUE:
        kind = d.get("kind")
        if kind:
            from kesu.complaints.choices import Deadline

            out.append((_("超时"), _label(Deadline, kind)))
        out.append((_("时限"), _fmt_dt(d.get("due_at") or d.get("due_at_local"))))
    elif t == EventType.ASSESSED and d.get("revised"):
        out.append((_("修改判定"), "、".join(_field_label(f) for f in d["revised"])))
    return out


def _tone(e: ComplaintEvent) -> str:
    if e.type == EventType.CALLED_BACK:
        return "callback"  # the complainant's own words: neither internal nor a message to them
    if e.type == EventType.OVERDUE or (e.type == EventType.ESCALATED and (e.data or {}).get("automatic")):
        return "alert"
    if e.type == EventType.CONTACT_REVEALED:
        return "audit"
    if e.visibility == ComplaintEvent.Visibility.COMPLAINANT:
        return "told"
    return "internal"


def entries(events: list[ComplaintEvent], view: ComplainantView) -> list[Entry]:
    """One complaint's events (with actor loaded) → entries for templates, in time order, for the
    reader `view` is of."""
    names = _lookups(events)
    result = []
    for e in events:
        changes = []
        details = _details(e, view)
        said = {label for label, _v in details}
        for attname, pair in (e.changes or {}).items():
            if attname in _SKIP or attname == "status":
                continue
            old, new = (list(pair) + [None, None])[:2]
            if attname in _SHOWN_AS_NOTE or (old in ("", None) and _same_minute(new, e.at)):
                continue  # the note says it, or "done at" = the event's own time
            label = _field_label(attname)
            if label in said:
                continue  # the details already say it (满意度, 结案方式 …)
            new_text = _value(attname, new, names)
            changes.append(
                Change(
                    label,
                    _value(attname, old, names),
                    new_text,
                    deadline=attname in _DEADLINES,
                    muted=new in ("", None) and attname not in _DEADLINES,
                )
            )
        changes.sort(key=lambda c: (c.deadline, c.muted))
        result.append(
            Entry(
                event=e,
                title=_title(e),
                actor=view.person(e.actor) if e.actor_id else _("系统"),
                from_status=_label(Status, e.from_status) if e.from_status else "",
                to_status=_label(Status, e.to_status) if e.to_status else "",
                changes=changes,
                details=details,
                note=e.note,
                told=e.visibility == ComplaintEvent.Visibility.COMPLAINANT,
                tone=_tone(e),
            )
        )
    return result


def for_complaint(c: Complaint, viewer) -> list[Entry]:
    """The complaint's handling record as `viewer` may read it."""
    return entries(list(c.events.select_related("actor").order_by("at", "id")), complainant_view(viewer, c))
