"""The complaint lifecycle: the only code that changes a complaint's state.

Every action is one transaction: lock the row and check its version (optimistic concurrency),
check the transition against TRANSITIONS and the user against ACTION_ROLES, write the change with
save(update_fields=...), recompute the deadlines, append the timeline event and queue the outbox
rows. Views, API, CLI, demo and tests all call these functions.

Each action accepts `at` (default: now) so history can be back-filled (demo data, imports, tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.notify import rules
from kesu.org.choices import DEPARTMENT_ROLES, Role
from kesu.org.models import Department, Office, Resident, Unit, User

from . import files as upload_checks
from .choices import (
    OPEN_STATUSES,
    SATISFIED_VALUES,
    CallbackMethod,
    Channel,
    CloseOutcome,
    DeclineReason,
    EventType,
    Nature,
    NatureSubtype,
    PreferredContact,
    Satisfaction,
    Severity,
    Status,
    Tier,
)
from .deadlines import apply_deadlines, calendar_for, company_tz, policy_for
from .errors import RoleNotAllowed, StaleVersion, TransitionNotAllowed
from .models import Attachment, Callback, Category, Complaint, ComplaintCounter, ComplaintEvent, SlaPolicy
from .scope import offices_for, units_for_resident
from .search import index_text
from .validation import MAX_CONTENT_CHARS, clean_text, normalize_phone

S = Status
R = Role
_MANAGERS = {R.SUPERVISOR, R.CS_MANAGER, R.DIRECTOR, R.QUALITY, R.ADMIN}
_CS = {R.RECEPTIONIST} | _MANAGERS
_DEPT = {R.HANDLER, R.DEPT_MANAGER}
_ALL_STAFF = _CS | _DEPT | {R.EXECUTIVE}
_RESIDENT = frozenset({R.RESIDENT})

# Which statuses each action may start from (the server-side transition table).
TRANSITIONS: dict[str, frozenset[str]] = {
    "assess": frozenset(OPEN_STATUSES),
    "dispatch": frozenset({S.RECEIVED, S.DISPATCHED, S.IN_PROGRESS, S.RECTIFYING}),
    "accept": frozenset({S.DISPATCHED}),
    "note": frozenset(OPEN_STATUSES),
    "escalate": frozenset(OPEN_STATUSES),
    "resolve": frozenset({S.RECEIVED, S.DISPATCHED, S.IN_PROGRESS, S.RECTIFYING}),
    "call_back": frozenset({S.RESOLVED}),
    "reopen": frozenset({S.RESOLVED}),
    "close": frozenset({S.RESOLVED}),
    "decline": frozenset({S.RECEIVED, S.DISPATCHED}),
    "withdraw": frozenset(OPEN_STATUSES),
    "link": frozenset(OPEN_STATUSES),
    "merge": frozenset(OPEN_STATUSES),
    "attach": frozenset(OPEN_STATUSES),
    "reveal_contact": frozenset(Status),
}

# Which roles may take each action (on complaints they can see). call_back is refined by policy.
ACTION_ROLES: dict[str, frozenset[str]] = {
    "register": frozenset(_ALL_STAFF | _RESIDENT),
    "assess": frozenset(_CS | _DEPT),  # department staff: nature only (责任部门判定有效性)
    "dispatch": frozenset(_CS),
    "accept": frozenset(_DEPT | _MANAGERS),
    "note": frozenset(_ALL_STAFF),
    "escalate": frozenset(_CS | _DEPT),
    "resolve": frozenset(_DEPT | _MANAGERS),
    "call_back": frozenset(_MANAGERS | {R.EXECUTIVE} | _RESIDENT),  # a resident confirms and rates on line
    "reopen": frozenset(_MANAGERS),
    "close": frozenset(_MANAGERS),
    "decline": frozenset(_MANAGERS),
    "withdraw": frozenset(_CS | _RESIDENT),
    "link": frozenset(_MANAGERS),
    "merge": frozenset(_MANAGERS),
    "attach": frozenset(_ALL_STAFF),
    "reveal_contact": frozenset(_CS | _DEPT | {R.EXECUTIVE}),
}

_CALLBACK_ROLES = {
    SlaPolicy.CallbackBy.SUPERVISOR: frozenset(_MANAGERS | {R.EXECUTIVE} | _RESIDENT),
    SlaPolicy.CallbackBy.MANAGER: frozenset({R.CS_MANAGER, R.DIRECTOR, R.QUALITY, R.EXECUTIVE, R.ADMIN}),
}

# Tolerance for clocks of other systems (call-centre logs) that run slightly ahead of ours.
_FUTURE_TOLERANCE = dt.timedelta(minutes=2)


# ---------------------------------------------------------------------------------------------
# helpers


def role_of(user: User) -> str:
    return R.ADMIN if user.is_superuser else user.role


def allowed_actions(c: Complaint, user: User) -> list[str]:
    """Actions this user may take on this complaint now (for showing only the possible buttons)."""
    role = role_of(user)
    result = []
    for action, states in TRANSITIONS.items():
        if c.status not in states or role not in ACTION_ROLES[action]:
            continue
        if action == "call_back" and role not in _callback_roles(c):
            continue
        if action == "accept" and role in _DEPT and c.department_id != user.department_id:
            continue
        result.append(action)
    return result


def _callback_roles(c: Complaint) -> frozenset[str]:
    return _CALLBACK_ROLES[policy_for(c.office_id, c.effective_severity).callback_by]


def _check_role(user: User, action: str) -> None:
    if role_of(user) not in ACTION_ROLES[action]:
        raise RoleNotAllowed(
            _("您的角色（%(role)s）不能执行“%(action)s”。")
            % {"role": user.get_role_display(), "action": _action_label(action)}
        )


def _action_label(action: str) -> str:
    return {
        "register": _("登记"),
        "assess": _("判定"),
        "dispatch": _("派单"),
        "accept": _("接单"),
        "note": _("记录进展"),
        "escalate": _("升级"),
        "resolve": _("处理完毕"),
        "call_back": _("回访"),
        "reopen": _("整改"),
        "close": _("结案"),
        "decline": _("不予受理"),
        "withdraw": _("撤回"),
        "link": _("关联重复投诉"),
        "merge": _("合并"),
        "attach": _("添加附件"),
        "reveal_contact": _("查看联系方式"),
    }[action]


def _begin(
    complaint: Complaint, user: User, action: str, version: int | None, *, check_version: bool = True
) -> Complaint:
    """Lock the row, check version, scope, role and state. Returns the fresh locked row."""
    _check_role(user, action)
    try:
        fresh = (
            Complaint.objects.visible_to(user)
            .select_for_update(of=("self",))
            .select_related("office", "category")
            .get(pk=complaint.pk)
        )
    except Complaint.DoesNotExist:
        # Same answer whether it does not exist or is out of scope.
        raise RoleNotAllowed(_("找不到该投诉，或您无权处理。")) from None
    expected = complaint.version if version is None else version
    if check_version and fresh.version != expected:
        raise StaleVersion()
    if fresh.status not in TRANSITIONS[action]:
        raise TransitionNotAllowed(
            _("投诉当前状态为“%(status)s”，不能%(action)s。")
            % {"status": fresh.get_status_display(), "action": _action_label(action)}
        )
    return fresh


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _set(c: Complaint, changes: dict[str, list[Any]], **values: Any) -> None:
    """Assign fields and remember old → new (as JSON-safe raw values) for the timeline."""
    for name, new in values.items():
        field = c._meta.get_field(name)
        attname = field.attname  # type: ignore[union-attr]
        old_raw = getattr(c, attname)
        setattr(c, name, new)
        new_raw = getattr(c, attname)
        if old_raw != new_raw:
            changes[attname] = [_json(old_raw), _json(new_raw)]


def _commit(
    c: Complaint,
    user: User | None,
    type: str,
    at: dt.datetime,
    changes: dict[str, list[Any]],
    *,
    from_status: str,
    note: str = "",
    visibility: str = ComplaintEvent.Visibility.INTERNAL,
    data: dict[str, Any] | None = None,
    became_major: bool = False,
    extra_fields: Iterable[str] = (),
) -> Complaint:
    """Recompute deadlines, save the changed fields with a new version, append the event, queue
    notifications. Always called inside the action's transaction."""
    before = {
        name: getattr(c, name)
        for name in ("forward_due_at", "report_due_at", "resolve_due_at", "callback_due_at")
    }
    for name in apply_deadlines(c):
        if name in before:
            changes[name] = [_json(before[name]), _json(getattr(c, name))]
    if c.owner_id is None and user is not None and role_of(user) != R.RESIDENT:
        # A complaint filed on line gets its first-contact owner at the first staff action.
        _set(c, changes, owner=user)
    c.version += 1
    fields = {n[:-3] if n.endswith("_id") else n for n in changes}
    fields |= {"version", "updated_at", "onsite_callback_required", *extra_fields}
    c.save(update_fields=sorted(fields))
    event = ComplaintEvent.objects.create(
        complaint=c,
        type=type,
        at=at,
        actor=user,
        from_status=from_status,
        to_status=c.status,
        changes=changes,
        note=note,
        visibility=visibility,
        data=data or {},
    )
    rules.on_event(event, became_major=became_major)
    return c


def _visibility(told: bool) -> str:
    """Whether an event is what the complainant was told (shown on the portal) or internal."""
    return ComplaintEvent.Visibility.COMPLAINANT if told else ComplaintEvent.Visibility.INTERNAL


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is not None and timezone.is_naive(at):
        raise ValueError("naive datetime")
    return at or timezone.now()


def _is_major(c: Complaint) -> bool:
    return c.effective_severity == Severity.MAJOR


def _category(value: Category | str | None, errors: dict[str, str]) -> Category | None:
    if value in (None, ""):
        return None
    if isinstance(value, Category):
        return value
    cat = Category.objects.filter(code=value, is_active=True).first()
    if cat is None:
        errors["category"] = _("未知的投诉分类“%(code)s”。") % {"code": str(value)[:30]}
    return cat


def _choice(value: str | None, choices: type, field: str, errors: dict[str, str]) -> str:
    if value in (None, ""):
        return ""
    if value not in choices.values:
        errors[field] = _("“%(value)s”不是有效的选项。") % {"value": str(value)[:30]}
        return ""
    return str(value)


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})


def _text(
    errors: dict[str, str], field: str, value: str | None, *, required: bool, max_chars: int = 5000
) -> str:
    try:
        return clean_text(value, field, required=required, max_chars=max_chars)
    except ValidationError as e:
        errors[field] = e.message_dict[field][0]
        return ""


# ---------------------------------------------------------------------------------------------
# intake


def _next_number(office: Office, received_at: dt.datetime) -> str:
    """Y01-202602-0042: per office and month of receipt, no gaps, no reuse (see ComplaintCounter)."""
    period = received_at.astimezone(company_tz()).strftime("%Y%m")
    counter, _created = ComplaintCounter.objects.select_for_update().get_or_create(
        office=office, period=period
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{office.code}-{period}-{counter.last:04d}"


def register(
    by: User,
    *,
    office: Office | str | None,
    channel: str,
    content: str,
    complainant_name: str = "",
    phone: str = "",
    unit: Unit | str | None = None,
    resident: Resident | None = None,
    address: str = "",
    received_at: dt.datetime | None = None,
    complained_party: str = "",
    complained_department: Department | None = None,
    complained_staff: User | None = None,
    on_spot_answer: str = "",
    anonymous_to_staff: bool = False,
    preferred_contact: str = "",
    committed_answer_at: dt.datetime | None = None,
    requested_by: dt.datetime | None = None,
    nature: str = "",
    nature_subtype: str = "",
    is_major: bool = False,
    severity: str = "",
    category: Category | str | None = None,
    received_by_company: bool | None = None,
    attachments: Sequence[tuple[IO[bytes], str]] = (),
    at: dt.datetime | None = None,
) -> Complaint:
    """Register a complaint (登记受理). All input is checked before anything is written; every
    problem is reported at once, by field."""
    _check_role(by, "register")
    now = _now(at)
    errors: dict[str, str] = {}

    # Office: an object or its code, and one the user works in.
    office_obj: Office | None = None
    if isinstance(office, Office):
        office_obj = office
    elif office:
        office_obj = Office.objects.filter(code=str(office).strip()).first()
        if office_obj is None:
            errors["office"] = _("未知的管理处“%(code)s”。") % {"code": str(office)[:20]}
    else:
        errors["office"] = _("请选择管理处。")
    if office_obj is not None and not offices_for(by).filter(pk=office_obj.pk).exists():
        errors["office"] = _("您不能为管理处“%(name)s”登记投诉。") % {"name": office_obj.name}

    if channel not in Channel.values:
        errors["channel"] = _("请选择有效的投诉渠道。")

    content = _text(errors, "content", content, required=True, max_chars=MAX_CONTENT_CHARS)

    if resident is not None:
        unit = unit or resident.unit
        complainant_name = complainant_name or resident.name
        phone = phone or resident.phone
    unit_obj: Unit | None = None
    if isinstance(unit, Unit):
        unit_obj = unit
    elif unit:
        unit_obj = Unit.objects.select_related("building").filter(code=str(unit).strip()).first()
        if unit_obj is None:
            errors["unit"] = _("未知的房屋“%(code)s”。") % {"code": str(unit)[:60]}
    if unit_obj is not None and office_obj is not None and unit_obj.building.office_id != office_obj.pk:
        errors["unit"] = _("房屋 %(unit)s 不属于该管理处。") % {"unit": unit_obj.code}
    if resident is not None and unit_obj is not None and resident.unit_id != unit_obj.pk:
        errors["resident"] = _("该住户不属于所选房屋。")
    if by.role == R.RESIDENT:
        # A resident files for one of their own homes, on line, now, and judges nothing.
        if unit_obj is None or not units_for_resident(by).filter(pk=unit_obj.pk).exists():
            errors["unit"] = _("请选择您名下的房屋。")
        elif not complainant_name:
            known = Resident.objects.filter(unit=unit_obj, phone=by.phone).first()
            complainant_name = known.name if known else ""
        phone = by.phone
        if channel not in (Channel.ONLINE, Channel.WECHAT):
            errors["channel"] = _("请选择有效的投诉渠道。")
        staff_only = {
            "received_at": received_at,
            "on_spot_answer": on_spot_answer,
            "committed_answer_at": committed_answer_at,
            "nature": nature,
            "severity": severity,
            "is_major": is_major,
            "complained_staff": complained_staff,
        }
        for field, value in staff_only.items():
            if value:
                errors[field] = _("此项由工作人员填写。")

    complainant_name = _text(errors, "complainant_name", complainant_name, required=True, max_chars=50)
    try:
        phone = normalize_phone(phone)
    except ValidationError as e:
        errors["phone"] = e.messages[0]
    address = _text(errors, "address", address, required=False, max_chars=200)
    complained_party = _text(errors, "complained_party", complained_party, required=False, max_chars=100)
    on_spot_answer = _text(errors, "on_spot_answer", on_spot_answer, required=False)

    received = received_at or now
    if timezone.is_naive(received):
        errors["received_at"] = _("受理时间必须带时区。")
    elif received > now + _FUTURE_TOLERANCE:
        errors["received_at"] = _("受理时间不能晚于现在。")
    elif received < now - dt.timedelta(days=366):
        errors["received_at"] = _("受理时间不能早于一年前。")
    for field, value in (("requested_by", requested_by), ("committed_answer_at", committed_answer_at)):
        if value is not None and (
            timezone.is_naive(value) or (not timezone.is_naive(received) and value <= received)
        ):
            errors[field] = _("该时间必须晚于受理时间。")

    channel_ok = channel in Channel.values
    nature = _choice(nature, Nature, "nature", errors)
    nature_subtype = _choice(nature_subtype, NatureSubtype, "nature_subtype", errors)
    if nature_subtype and nature == Nature.VALID:
        errors["nature_subtype"] = _("有效投诉不设沟通类型。")
    severity = _choice(severity, Severity, "severity", errors)
    preferred_contact = _choice(preferred_contact, PreferredContact, "preferred_contact", errors)
    category_obj = _category(category, errors)
    if (
        complained_department is not None
        and office_obj is not None
        and complained_department.office_id != office_obj.pk
    ):
        errors["complained_department"] = _("被投诉部门不属于该管理处。")
    if complained_staff is not None and office_obj is not None:
        works_here = complained_staff.offices.filter(pk=office_obj.pk).exists() or (
            complained_staff.department_id is not None
            and complained_staff.department.office_id == office_obj.pk
        )
        if not works_here:
            errors["complained_staff"] = _("被投诉人员不属于该管理处。")

    checked: list[tuple[IO[bytes], upload_checks.CheckedFile]] = []
    if len(attachments) > upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT:
        errors["attachments"] = _("附件最多 %(n)d 个。") % {"n": upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT}
    else:
        for f, name in attachments:
            try:
                checked.append((f, upload_checks.check_upload(f, name)))
            except ValidationError as e:
                errors["attachments"] = e.message_dict["attachments"][0]
                break
    _raise(errors)
    assert office_obj is not None and channel_ok

    with transaction.atomic():
        c = Complaint(
            office=office_obj,
            number=_next_number(office_obj, received),
            channel=channel,
            received_at=received,
            received_by=by,
            owner=None if by.role == R.RESIDENT else by,  # 首问负责制: whoever first receives it owns it
            received_by_company=by.is_company_wide if received_by_company is None else received_by_company,
            complainant_name=complainant_name,
            complainant_phone=phone,
            resident=resident,
            unit=unit_obj,
            address=address,
            content=content,
            search_text=index_text(content, complained_party, address),
            complained_party=complained_party,
            complained_department=complained_department,
            complained_staff=complained_staff,
            on_spot_answer=on_spot_answer,
            anonymous_to_staff=bool(anonymous_to_staff),
            preferred_contact=preferred_contact,
            requested_by=requested_by,
            nature=nature,
            nature_subtype=nature_subtype,
            is_major=bool(is_major),
            severity=severity,
            category=category_obj,
        )
        if nature or severity or category_obj or is_major:
            c.assessed_at, c.assessed_by = now, by
        if c.effective_severity == Severity.MAJOR:
            c.major_at = received
        policy = policy_for(office_obj, c.effective_severity)
        if on_spot_answer:
            # Answered on the spot (当场答复): handled at once, awaiting callback or closing.
            c.status = S.RESOLVED
            c.answered_at = c.resolved_at = received
            c.resolution = on_spot_answer
        else:
            c.committed_answer_at = committed_answer_at or received + dt.timedelta(hours=policy.answer_hours)
        cal = calendar_for(office_obj)
        apply_deadlines(c, policy, cal)
        c.save()
        data = {
            k: v
            for k, v in {
                "nature": nature,
                "is_major": bool(is_major),
                "severity": severity,
                "category": category_obj.code if category_obj else "",
                "channel": channel,
            }.items()
            if v
        }
        event = ComplaintEvent.objects.create(
            complaint=c,
            type=EventType.REGISTERED,
            at=now,
            actor=by,
            from_status="",
            to_status=c.status,
            data=data,
            note=on_spot_answer,
            visibility=ComplaintEvent.Visibility.COMPLAINANT
            if on_spot_answer
            else ComplaintEvent.Visibility.INTERNAL,
        )
        for f, info in checked:
            _store_attachment(c, by, f, info, now)
        rules.on_event(event, became_major=_is_major(c), night=not cal.in_window(received))
    return c


def _store_attachment(
    c: Complaint, by: User, f: IO[bytes], info: upload_checks.CheckedFile, at: dt.datetime
) -> Attachment:
    att = Attachment(
        complaint=c,
        original_name=info.name,
        kind=info.kind,
        content_type=info.content_type,
        size=info.size,
        sha256=info.sha256,
        uploaded_by=by,
        uploaded_at=at,
    )
    # The stored name is not the user's: it never carries their extension or path.
    ext = {"image": "img", "audio": "aud", "video": "vid", "document": "pdf"}[info.kind]
    att.file.save(f"{c.number}-{info.sha256[:12]}.{ext}", File(f), save=False)
    att.save()
    return att


@transaction.atomic
def add_attachment(
    complaint: Complaint,
    by: User,
    f: IO[bytes],
    name: str,
    *,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Attachment:
    now = _now(at)
    c = _begin(complaint, by, "attach", version)
    info = upload_checks.check_upload(f, name)
    if c.attachments.count() >= upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT:
        raise ValidationError(
            {"attachments": [_("附件最多 %(n)d 个。") % {"n": upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT}]}
        )
    att = _store_attachment(c, by, f, info, now)
    _commit(
        c,
        by,
        EventType.ATTACHMENT_ADDED,
        now,
        {},
        from_status=c.status,
        data={"attachment": att.pk, "name": info.name, "kind": info.kind, "size": info.size},
    )
    return att


# ---------------------------------------------------------------------------------------------
# judgement

_UNSET: Any = object()


@transaction.atomic
def assess(
    complaint: Complaint,
    by: User,
    *,
    nature: str = _UNSET,
    nature_subtype: str = _UNSET,
    is_major: bool = _UNSET,
    severity: str = _UNSET,
    category: Category | str | None = _UNSET,
    reason: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Judge (判定) nature, major flag, severity and category. Only the given fields change.
    Changing a value already set is a revision and needs a reason."""
    now = _now(at)
    c = _begin(complaint, by, "assess", version)
    role = role_of(by)
    errors: dict[str, str] = {}
    new: dict[str, Any] = {}
    if nature is not _UNSET:
        new["nature"] = _choice(nature, Nature, "nature", errors)
    if nature_subtype is not _UNSET:
        new["nature_subtype"] = _choice(nature_subtype, NatureSubtype, "nature_subtype", errors)
    if is_major is not _UNSET:
        new["is_major"] = bool(is_major)
    if severity is not _UNSET:
        new["severity"] = _choice(severity, Severity, "severity", errors)
    if category is not _UNSET:
        new["category"] = _category(category, errors)
    reason = _text(errors, "reason", reason, required=False, max_chars=1000)
    _raise(errors)

    changed = {k: v for k, v in new.items() if getattr(c, k) != v}
    if not changed:
        raise ValidationError({"__all__": [_("没有需要修改的判定内容。")]})
    nature_now = changed.get("nature", c.nature)
    if changed.get("nature_subtype", c.nature_subtype) and nature_now == Nature.VALID:
        errors["nature_subtype"] = _("有效投诉不设沟通类型。")
    revised = [k for k in changed if k != "is_major" and getattr(c, k) not in ("", None)]
    if changed.get("is_major") is False and c.is_major:
        revised.append("is_major")
    if role in DEPARTMENT_ROLES and set(changed) - {"nature", "nature_subtype"}:
        raise RoleNotAllowed(_("责任部门只能修改投诉性质（有效性）。"))
    if role == R.RECEPTIONIST and revised:
        raise RoleNotAllowed(_("客服接待只能做初次判定；修改判定请找客服主管或经理。"))
    if revised and not reason:
        errors["reason"] = _("修改已有的判定必须填写原因。")
    if any(v in ("", None) for k, v in changed.items() if k in ("nature", "severity", "category")):
        errors["__all__"] = _("判定结果不能清空。")
    _raise(errors)

    was_major = _is_major(c)
    changes: dict[str, list[Any]] = {}
    _set(c, changes, **changed, assessed_at=now, assessed_by=by)
    if _is_major(c) and c.major_at is None:
        _set(c, changes, major_at=now)
    return _commit(
        c,
        by,
        EventType.ASSESSED,
        now,
        changes,
        from_status=c.status,
        note=reason,
        data={"revised": sorted(revised)},
        became_major=_is_major(c) and not was_major,
        extra_fields=["assessed_at", "assessed_by"],
    )


# ---------------------------------------------------------------------------------------------
# handling


@transaction.atomic
def dispatch(
    complaint: Complaint,
    by: User,
    *,
    department: Department,
    handler: User | None = None,
    note: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Forward (转呈) to the responsible department, optionally to a named handler."""
    now = _now(at)
    c = _begin(complaint, by, "dispatch", version)
    errors: dict[str, str] = {}
    if department is None or department.office_id != c.office_id:
        errors["department"] = _("请选择本管理处的责任部门。")
    if handler is not None and (
        not handler.is_active
        or handler.role not in DEPARTMENT_ROLES
        or handler.department_id != getattr(department, "pk", None)
    ):
        errors["handler"] = _("处理人必须是该部门的在职人员。")
    note = _text(errors, "note", note, required=False)
    _raise(errors)
    if c.department_id == department.pk and c.handler_id == (handler.pk if handler else None):
        raise ValidationError({"department": [_("已派给该部门和处理人。")]})
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {"department": department, "handler": handler, "accepted_at": None}
    if c.status != S.RECTIFYING:
        values["status"] = S.DISPATCHED
    if c.forwarded_at is None:
        values["forwarded_at"] = now
    _set(c, changes, **values)
    return _commit(c, by, EventType.DISPATCHED, now, changes, from_status=from_status, note=note)


@transaction.atomic
def accept(
    complaint: Complaint,
    by: User,
    *,
    note: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """The responsible department takes the job (接单); the handler becomes the taker if none was named."""
    now = _now(at)
    c = _begin(complaint, by, "accept", version)
    if role_of(by) in DEPARTMENT_ROLES and by.department_id != c.department_id:
        raise RoleNotAllowed(_("只有被派单的部门可以接单。"))
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {"status": S.IN_PROGRESS, "accepted_at": now}
    if c.handler_id is None and role_of(by) in DEPARTMENT_ROLES:
        values["handler"] = by
    _set(c, changes, **values)
    return _commit(
        c, by, EventType.ACCEPTED, now, changes, from_status=S.DISPATCHED, note=note.strip()[:5000]
    )


@transaction.atomic
def note(
    complaint: Complaint,
    by: User,
    *,
    text: str,
    tell_complainant: bool = False,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """A progress note: internal, or told to the complainant (跟踪验证时应不断通报进度)."""
    now = _now(at)
    c = _begin(complaint, by, "note", version)
    errors: dict[str, str] = {}
    text = _text(errors, "text", text, required=True)
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    if tell_complainant and c.answered_at is None:
        _set(c, changes, answered_at=now)
    visibility = _visibility(tell_complainant)
    return _commit(
        c, by, EventType.NOTE, now, changes, from_status=c.status, note=text, visibility=visibility
    )


@transaction.atomic
def escalate(
    complaint: Complaint,
    by: User,
    *,
    reason: str,
    tier: int | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Pass the complaint up the ladder (front line → CS manager → director → company → executive).
    Reaching the company tier is the upward report (上报) that major complaints need within the hour."""
    now = _now(at)
    c = _begin(complaint, by, "escalate", version)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, max_chars=2000)
    target = c.tier + 1 if tier is None else tier
    if target not in Tier.values or target <= c.tier:
        errors["tier"] = _("只能升级到更高的处理层级。")
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {"tier": target}
    if target >= Tier.COMPANY and c.reported_at is None:
        values["reported_at"] = now
    _set(c, changes, **values)
    return _commit(
        c, by, EventType.ESCALATED, now, changes, from_status=c.status, note=reason, data={"tier": target}
    )


@transaction.atomic
def resolve(
    complaint: Complaint,
    by: User,
    *,
    resolution: str,
    tell_complainant: bool = True,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Record what was done (处理完毕). The callback clock starts now."""
    now = _now(at)
    c = _begin(complaint, by, "resolve", version)
    if role_of(by) in DEPARTMENT_ROLES and by.department_id != c.department_id:
        raise RoleNotAllowed(_("只有责任部门可以填写处理结果。"))
    errors: dict[str, str] = {}
    resolution = _text(errors, "resolution", resolution, required=True)
    _raise(errors)
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {
        "status": S.RESOLVED,
        "resolved_at": now,
        "resolution": resolution,
        "called_back_at": None,
        "satisfaction": "",
    }
    if c.answered_at is None:
        values["answered_at"] = now
    _set(c, changes, **values)
    visibility = _visibility(tell_complainant)
    return _commit(
        c,
        by,
        EventType.RESOLVED,
        now,
        changes,
        from_status=from_status,
        note=resolution,
        visibility=visibility,
    )


# ---------------------------------------------------------------------------------------------
# callback and close


@transaction.atomic
def call_back(
    complaint: Complaint,
    by: User,
    *,
    method: str,
    satisfaction: str,
    words: str,
    confirmed: bool = False,
    rectify_due_at: dt.datetime | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """回访: ask whether the complainant is satisfied and record their words.

    不满意 keeps the callback obligation open until the complaint is reopened for rectification
    (整改); given `rectify_due_at`, it is reopened in the same transaction."""
    now = _now(at)
    c = _begin(complaint, by, "call_back", version)
    if role_of(by) == R.RESIDENT:
        # The complainant confirms and rates on line (recorded as method 其他); 不满意 reopens it.
        if c.onsite_callback_required:
            raise RoleNotAllowed(_("重大投诉须由工作人员上门回访，请等候我们联系您。"))
        method, confirmed = CallbackMethod.OTHER, True
        if satisfaction == Satisfaction.DISSATISFIED and rectify_due_at is None:
            policy = policy_for(c.office_id, c.effective_severity)
            rectify_due_at = calendar_for(c.office).add_working_hours(now, policy.resolve_hours)
    elif role_of(by) not in _callback_roles(c):
        raise RoleNotAllowed(_("重大投诉须由客服中心经理或管理处主任回访。"))
    errors: dict[str, str] = {}
    if method not in CallbackMethod.values:
        errors["method"] = _("请选择回访方式。")
    elif c.onsite_callback_required and method != CallbackMethod.ONSITE:
        errors["method"] = _("重大投诉必须上门回访。")
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = _("请选择投诉人的满意程度。")
    words = _text(errors, "words", words, required=True, max_chars=2000)
    if rectify_due_at is not None:
        if satisfaction != Satisfaction.DISSATISFIED:
            errors["rectify_due_at"] = _("只有不满意时才需要整改期限。")
        elif timezone.is_naive(rectify_due_at) or rectify_due_at <= now:
            errors["rectify_due_at"] = _("整改期限必须晚于现在。")
    _raise(errors)
    Callback.objects.create(
        complaint=c,
        at=now,
        by=by,
        method=method,
        satisfaction=satisfaction,
        words=words,
        confirmed=bool(confirmed),
        due_at=c.callback_due_at,
    )
    changes: dict[str, list[Any]] = {}
    _set(c, changes, called_back_at=now, satisfaction=satisfaction)
    c = _commit(
        c,
        by,
        EventType.CALLED_BACK,
        now,
        changes,
        from_status=c.status,
        note=words,
        data={
            "method": method,
            "satisfaction": satisfaction,
            "confirmed": bool(confirmed),
            "due_at": _json(c.callback_due_at),
        },
    )
    if rectify_due_at is not None:
        changes = {}
        _set_reopened(c, changes, rectify_due_at)
        c = _commit(c, by, EventType.REOPENED, now, changes, from_status=S.RESOLVED, note=words)
    return c


def _set_reopened(c: Complaint, changes: dict[str, list[Any]], rectify_due_at: dt.datetime) -> None:
    _set(
        c,
        changes,
        status=S.RECTIFYING,
        rectify_due_at=rectify_due_at,
        reopen_count=c.reopen_count + 1,
        resolved_at=None,
        called_back_at=None,
    )


@transaction.atomic
def reopen(
    complaint: Complaint,
    by: User,
    *,
    reason: str,
    rectify_due_at: dt.datetime,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """整改: the complainant is not satisfied (or verification failed); rectify by a deadline."""
    now = _now(at)
    c = _begin(complaint, by, "reopen", version)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, max_chars=2000)
    if rectify_due_at is None or timezone.is_naive(rectify_due_at) or rectify_due_at <= now:
        errors["rectify_due_at"] = _("整改期限必须晚于现在。")
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    _set_reopened(c, changes, rectify_due_at)
    return _commit(c, by, EventType.REOPENED, now, changes, from_status=S.RESOLVED, note=reason)


@transaction.atomic
def close(
    complaint: Complaint,
    by: User,
    *,
    outcome: str = CloseOutcome.RESOLVED,
    lesson_cause: str = "",
    lesson_learned: str = "",
    lesson_prevention: str = "",
    note: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """结案 and file. A resolved complaint closes only when the complainant is satisfied (the latest
    callback, or an on-the-spot answer for a non-major complaint); a valid one also needs its lesson."""
    now = _now(at)
    c = _begin(complaint, by, "close", version)
    errors: dict[str, str] = {}
    if outcome not in CloseOutcome.values:
        errors["outcome"] = _("请选择结案方式。")
    lesson = {
        "lesson_cause": _text(errors, "lesson_cause", lesson_cause, required=False),
        "lesson_learned": _text(errors, "lesson_learned", lesson_learned, required=False),
        "lesson_prevention": _text(errors, "lesson_prevention", lesson_prevention, required=False),
    }
    note = _text(errors, "note", note, required=outcome != CloseOutcome.RESOLVED)
    missing = [
        label
        for field, label in (("nature", _("性质")), ("severity", _("严重程度")))
        if not getattr(c, field)
    ]
    if c.category_id is None:
        missing.append(_("分类"))
    if missing:
        errors["__all__"] = _("结案前须完成判定：%(fields)s。") % {"fields": "、".join(missing)}
    if c.nature == Nature.VALID and outcome in (CloseOutcome.RESOLVED, CloseOutcome.MEDIATION):
        for field, value in lesson.items():
            if not value:
                errors[field] = _("有效投诉结案须填写总结（原因、教训、预防措施）。")
    if outcome == CloseOutcome.RESOLVED:
        # Answered on the spot and never called back since: the complainant accepted it at the counter.
        on_spot_ok = (
            bool(c.on_spot_answer)
            and c.resolution == c.on_spot_answer
            and not _is_major(c)
            and not c.satisfaction
        )
        if c.satisfaction not in SATISFIED_VALUES and not on_spot_ok:
            if not c.satisfaction:
                raise TransitionNotAllowed(_("尚未回访，不能结案。"))
            raise TransitionNotAllowed(_("投诉人不满意，须整改后再次回访，不能结案。"))
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    _set(c, changes, status=S.CLOSED, closed_at=now, close_outcome=outcome, end_note=note, **lesson)
    return _commit(
        c, by, EventType.CLOSED, now, changes, from_status=S.RESOLVED, note=note, data={"outcome": outcome}
    )


@transaction.atomic
def decline(
    complaint: Complaint,
    by: User,
    *,
    reason: str,
    explanation: str,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """不予受理 with a recorded reason that is also told to the complainant."""
    now = _now(at)
    c = _begin(complaint, by, "decline", version)
    errors: dict[str, str] = {}
    if reason not in DeclineReason.values:
        errors["reason"] = _("请选择不予受理的原因。")
    explanation = _text(errors, "explanation", explanation, required=True, max_chars=2000)
    _raise(errors)
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    _set(c, changes, status=S.DECLINED, decline_reason=reason, end_note=explanation, closed_at=now)
    return _commit(
        c,
        by,
        EventType.DECLINED,
        now,
        changes,
        from_status=from_status,
        note=explanation,
        visibility=ComplaintEvent.Visibility.COMPLAINANT,
        data={"reason": reason},
    )


@transaction.atomic
def withdraw(
    complaint: Complaint, by: User, *, reason: str, version: int | None = None, at: dt.datetime | None = None
) -> Complaint:
    """The complainant withdraws the complaint (已撤回)."""
    now = _now(at)
    c = _begin(complaint, by, "withdraw", version)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, max_chars=2000)
    _raise(errors)
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    _set(c, changes, status=S.WITHDRAWN, end_note=reason, closed_at=now)
    return _commit(c, by, EventType.WITHDRAWN, now, changes, from_status=from_status, note=reason)


def _other(by: User, target: Complaint | str, this: Complaint, errors: dict[str, str]) -> Complaint | None:
    number = target.number if isinstance(target, Complaint) else str(target or "").strip()
    other = Complaint.objects.visible_to(by).filter(number=number).first() if number else None
    if other is None:
        errors["target"] = _("找不到投诉“%(number)s”。") % {"number": number[:30]}
    elif other.pk == this.pk:
        errors["target"] = _("不能关联投诉自身。")
    return other


@transaction.atomic
def link_repeat(
    complaint: Complaint,
    by: User,
    *,
    target: Complaint | str,
    reason: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Mark as a repeat complaint (重复投诉) of an earlier one that was not answered in time."""
    now = _now(at)
    c = _begin(complaint, by, "link", version)
    errors: dict[str, str] = {}
    other = _other(by, target, c, errors)
    reason = _text(errors, "reason", reason, required=False, max_chars=2000)
    if other is not None and not errors and other.office_id != c.office_id:
        errors["target"] = _("只能关联同一管理处的投诉。")
    if other is not None and not errors:
        seen, cur = {c.pk}, other
        while cur is not None:  # no cycles: the earlier complaint must not be a repeat of this one
            if cur.pk in seen:
                errors["target"] = _("不能形成循环关联。")
                break
            seen.add(cur.pk)
            cur = cur.repeat_of
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    _set(c, changes, repeat_of=other)
    return _commit(
        c,
        by,
        EventType.LINKED,
        now,
        changes,
        from_status=c.status,
        note=reason,
        data={"target": other.number},
    )


@transaction.atomic
def merge(
    complaint: Complaint,
    by: User,
    *,
    target: Complaint | str,
    reason: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Several residents, one problem: handle it once (SPEC §4). This complaint follows the target."""
    now = _now(at)
    _begin(
        complaint, by, "merge", version
    )  # role, scope and state first: refusals do not depend on the target
    errors: dict[str, str] = {}
    other = _other(by, target, complaint, errors)
    reason = _text(errors, "reason", reason, required=False, max_chars=2000)
    _raise(errors)
    assert other is not None
    # Lock both rows in id order (two opposite merges cannot deadlock), then check on the locked rows.
    list(Complaint.objects.select_for_update().filter(pk__in=sorted([complaint.pk, other.pk])).order_by("pk"))
    c = _begin(complaint, by, "merge", version)
    other = Complaint.objects.select_related("office").get(pk=other.pk)
    if other.office_id != c.office_id:
        errors["target"] = _("只能合并到同一管理处的投诉。")
    elif other.status not in OPEN_STATUSES or other.merged_into_id is not None:
        errors["target"] = _("只能合并到未完结的投诉。")
    _raise(errors)
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    _set(c, changes, status=S.MERGED, merged_into=other, closed_at=now)
    _commit(
        c,
        by,
        EventType.MERGED,
        now,
        changes,
        from_status=from_status,
        note=reason,
        data={"target": other.number},
    )
    # The target's timeline says what joined it; its version moves so concurrent editors notice.
    _commit(
        other,
        by,
        EventType.MERGED_IN,
        now,
        {},
        from_status=other.status,
        note=reason,
        data={"source": c.number},
    )
    return c


@transaction.atomic
def reveal_contact(complaint: Complaint, by: User, *, at: dt.datetime | None = None) -> str:
    """Show the full phone number to a role that needs it; every reveal is in the timeline."""
    from .scope import can_see_complainant

    now = _now(at)
    # Not a change to the complaint, so no version bump: nobody editing it is disturbed.
    c = _begin(complaint, by, "reveal_contact", None, check_version=False)
    if not can_see_complainant(by, c):
        raise RoleNotAllowed(_("您无权查看投诉人信息。"))
    ComplaintEvent.objects.create(
        complaint=c,
        type=EventType.CONTACT_REVEALED,
        at=now,
        actor=by,
        from_status=c.status,
        to_status=c.status,
    )
    return c.complainant_phone


__all__ = [
    "ACTION_ROLES",
    "TRANSITIONS",
    "accept",
    "add_attachment",
    "allowed_actions",
    "assess",
    "call_back",
    "close",
    "decline",
    "dispatch",
    "escalate",
    "link_repeat",
    "merge",
    "note",
    "register",
    "reopen",
    "resolve",
    "reveal_contact",
    "withdraw",
]
