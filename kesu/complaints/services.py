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
from dataclasses import dataclass, replace
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from kesu.org.choices import COMPANY_ROLES, DEPARTMENT_ROLES, Role
from kesu.org.models import Department, Office, Resident, Unit, User

from . import alerts, backfill, events, policy
from . import files as upload_checks
from .choices import (
    OPEN_STATUSES,
    SATISFIED_VALUES,
    WORKING_STATUSES,
    CallbackMethod,
    Channel,
    CloseOutcome,
    DeclineReason,
    Nature,
    NatureSubtype,
    PreferredContact,
    ReportTarget,
    Satisfaction,
    Severity,
    Status,
    Tier,
)
from .deadlines import (
    DEADLINE_FIELDS,
    apply_deadlines,
    calendar_for,
    committed_answer_due,
    company_tz,
    default_rectify_due,
    policy_for,
    promise_after_judgement,
)
from .errors import ComplaintError, RoleNotAllowed, StaleVersion, TransitionNotAllowed
from .models import Attachment, Callback, Category, Complaint, ComplaintCounter, ComplaintEvent, SlaPolicy
from .scope import complainant_view, offices_for, units_for_resident
from .search import complaint_index
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
    "report": frozenset(OPEN_STATUSES),
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
    # The office reports its major complaints upward (上报公司): its CS-centre manager or director.
    "report": frozenset({R.CS_MANAGER, R.DIRECTOR, R.ADMIN}),
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

# Who may end a complaint without satisfying a complainant who said they were not satisfied.
_UNSATISFIED_CLOSE_ROLES = frozenset({R.CS_MANAGER, R.DIRECTOR, R.QUALITY, R.ADMIN})

# Tolerance for clocks of other systems (call-centre logs) that run slightly ahead of ours.
_FUTURE_TOLERANCE = dt.timedelta(minutes=2)


# ---------------------------------------------------------------------------------------------
# helpers


def role_of(user: User) -> str:
    return R.ADMIN if user.is_superuser else user.role


def allowed_actions(c: Complaint, user: User) -> list[str]:
    """Actions this user may take on this complaint now (for showing only the possible buttons):
    role and status as TRANSITIONS and ACTION_ROLES say, and no refusal from `_refusal`, which the
    actions themselves raise, so a button shown is one the action accepts."""
    role = role_of(user)
    return [
        action
        for action, states in TRANSITIONS.items()
        if c.status in states and role in ACTION_ROLES[action] and _refusal(c, user, action) is None
    ]


def _refusal(c: Complaint, user: User, action: str) -> ComplaintError | None:
    """Why this user may not take this action on this complaint, beyond role and status (None: they
    may, whatever they send). Asked by `allowed_actions` and raised by each action after `_begin`."""
    role = role_of(user)
    if action == "accept" and role in DEPARTMENT_ROLES and user.department_id != c.department_id:
        return RoleNotAllowed(_("只有被派单的部门可以接单。"))
    if action == "resolve" and role in DEPARTMENT_ROLES and user.department_id != c.department_id:
        return RoleNotAllowed(_("只有责任部门可以填写处理结果。"))
    if action == "call_back":
        if role == R.RESIDENT:
            # The complainant confirms and rates on line once, never where staff must call on site.
            if c.onsite_callback_required:
                return RoleNotAllowed(_("重大投诉须由工作人员上门回访，请等候我们联系您。"))
            if not _resident_may_rate(c, R.RESIDENT):
                return TransitionNotAllowed(_("您已评价过本次处理结果，谢谢。"))
        elif role not in _callback_roles(c):
            return RoleNotAllowed(_("重大投诉须由客服中心经理或管理处主任回访。"))
    if action == "report" and not report_pending(c):
        return TransitionNotAllowed(
            _("该投诉已上报公司。") if c.reported_at else _("只有重大投诉需要上报公司。")
        )
    if action == "reveal_contact" and not complainant_view(user, c).visible:
        return RoleNotAllowed(_("您无权查看投诉人信息。"))
    if action == "assess" and c.complained_staff_id is not None and c.complained_staff_id == user.pk:
        # Nobody judges the validity of a complaint about themselves (their manager or the desk does).
        return RoleNotAllowed(_("被投诉的工作人员不能判定针对本人的投诉。"))
    return None


def _check_refusal(c: Complaint, user: User, action: str) -> None:
    refusal = _refusal(c, user, action)
    if refusal is not None:
        raise refusal


def _resident_may_rate(c: Complaint, role: str) -> bool:
    """A resident confirms and rates a result once (a new result may be rated again), and never a
    complaint that staff must call back on site."""
    return role != R.RESIDENT or not (c.satisfaction or c.onsite_callback_required)


def _callback_roles(c: Complaint) -> frozenset[str]:
    return _CALLBACK_ROLES[SlaPolicy.CallbackBy(policy_for(c.office_id, c.effective_severity).callback_by)]


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
        "report": _("上报公司"),
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
    """Lock the row, check version, scope, role and state. Returns the fresh locked row (a complaint
    held in memory by a backfill is its own fresh row: nobody else can see it yet)."""
    _check_role(user, action)
    if backfill.held(complaint):
        fresh = backfill.as_read_back(complaint)
    else:
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


def _save(
    c: Complaint, user: User | None, changes: dict[str, list[Any]], *, extra_fields: Iterable[str] = ()
) -> None:
    """Recompute the deadlines and save the changed fields with a new version (recording the deadlines'
    old → new in `changes`). Always called inside the action's transaction, before its event."""
    before = {name: getattr(c, name) for name in DEADLINE_FIELDS}
    for name in apply_deadlines(c):
        changes[name] = [_json(before[name]), _json(getattr(c, name))]
    if c.owner_id is None and user is not None and role_of(user) != R.RESIDENT:
        # A complaint filed on line gets its first-contact owner at the first staff action.
        _set(c, changes, owner=user)
    c.version += 1
    if backfill.held(c):
        return  # written when the backfill flushes
    fields = {n[:-3] if n.endswith("_id") else n for n in changes}
    c.save(update_fields=sorted(fields | {"version", "updated_at", *extra_fields}))


def _announce(event: ComplaintEvent, *, became_major: bool = False, night: bool = False) -> Complaint:
    """The event's notifications and its subscribers (webhooks, …), in the same transaction (for a
    complaint held by a backfill: when it flushes)."""
    held = backfill.held(event.complaint)
    if held is not None:
        return held.announce(event, became_major=became_major, night=night)
    alerts.on_event(event, became_major=became_major, night=night)
    events.publish(event)
    return event.complaint


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


def _choice(value: str | None, choices: type[models.TextChoices], field: str, errors: dict[str, str]) -> str:
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


@dataclass
class Intake:
    """What the front desk (or a resident on line) tells us about a new complaint: the fields of the
    complaint record (《客户投诉记录表》). Objects or their codes; checked by `register`."""

    office: Office | str | None
    channel: str
    content: str
    complainant_name: str = ""
    phone: str = ""
    unit: Unit | str | None = None
    resident: Resident | None = None
    address: str = ""
    received_at: dt.datetime | None = None
    complained_party: str = ""
    complained_department: Department | None = None
    complained_staff: User | None = None
    on_spot_answer: str = ""
    anonymous_to_staff: bool = False
    preferred_contact: str = ""
    committed_answer_at: dt.datetime | None = None
    requested_by: dt.datetime | None = None
    nature: str = ""
    nature_subtype: str = ""
    is_major: bool = False
    severity: str = ""
    category: Category | str | None = None
    received_by_company: bool | None = None
    # The earlier complaint the clerk confirmed this repeats (重复投诉), by object or number.
    repeat_of: Complaint | str | None = None
    # The earlier complaints the clerk was asked about and said this does not repeat (不是重复投诉):
    # recorded, so they do not ask again for this home or caller (kesu.complaints.repeats.ruled_out).
    not_repeat_of: Sequence[Complaint | str] = ()
    attachments: Sequence[tuple[IO[bytes], str]] = ()


# What a resident filing on line may not say: the staff's judgement and the desk's own records.
_STAFF_ONLY = (
    "received_at",
    "on_spot_answer",
    "committed_answer_at",
    "nature",
    "severity",
    "is_major",
    "complained_staff",
)


@dataclass
class _Checked:
    """An intake after checking: every value clean, objects looked up."""

    office: Office
    unit: Unit | None
    category: Category | None
    received: dt.datetime
    repeat_of: Complaint | None
    not_repeat_of: list[Complaint]
    files: list[tuple[IO[bytes], upload_checks.CheckedFile]]


def register(
    by: User, intake: Intake | None = None, /, *, at: dt.datetime | None = None, **fields: Any
) -> Complaint:
    """Register a complaint (登记受理), from an Intake or its fields as keywords. All input is checked
    before anything is written, and every problem is reported at once, by field; then the complaint,
    its timeline, its attachments, its repeat link and its notifications are one transaction."""
    _check_role(by, "register")
    now = _now(at)
    intake = Intake(**fields) if intake is None else replace(intake, **fields)
    checked = _check_intake(by, intake, now)
    with transaction.atomic():
        return _file(by, intake, checked, now)


def _check_intake(by: User, i: Intake, now: dt.datetime) -> _Checked:
    errors: dict[str, str] = {}
    office = _intake_office(by, i.office, errors)
    if i.channel not in Channel.values:
        errors["channel"] = _("请选择有效的投诉渠道。")
    i.content = _text(errors, "content", i.content, required=True, max_chars=MAX_CONTENT_CHARS)
    if i.resident is not None:
        i.unit = i.unit or i.resident.unit
        i.complainant_name = i.complainant_name or i.resident.name
        i.phone = i.phone or i.resident.phone
    unit = _intake_unit(i, office, errors)
    if by.role == R.RESIDENT:
        _check_resident_intake(by, i, unit, errors)
    i.complainant_name = _text(errors, "complainant_name", i.complainant_name, required=True, max_chars=50)
    try:
        i.phone = normalize_phone(i.phone)
    except ValidationError as e:
        errors["phone"] = e.messages[0]
    i.address = _text(errors, "address", i.address, required=False, max_chars=200)
    i.complained_party = _text(errors, "complained_party", i.complained_party, required=False, max_chars=100)
    i.on_spot_answer = _text(errors, "on_spot_answer", i.on_spot_answer, required=False)
    received = _intake_times(i, now, errors)
    _intake_judgement(i, errors)
    category = _category(i.category, errors)
    _intake_complained(i, office, errors)
    repeat_of = _intake_repeat(by, i.repeat_of, office, errors)
    not_repeat_of = _intake_not_repeat(by, i.not_repeat_of, repeat_of, office, errors)
    files = _intake_files(i.attachments, errors)
    _raise(errors)
    assert office is not None
    return _Checked(office, unit, category, received, repeat_of, not_repeat_of, files)


def _intake_office(by: User, value: Office | str | None, errors: dict[str, str]) -> Office | None:
    """An office object or its code, and one the user works in."""
    office: Office | None = None
    if isinstance(value, Office):
        office = value
    elif value:
        office = Office.objects.filter(code=str(value).strip()).first()
        if office is None:
            errors["office"] = _("未知的管理处“%(code)s”。") % {"code": str(value)[:20]}
    else:
        errors["office"] = _("请选择管理处。")
    if office is not None and not backfill.remembered(
        ("registers_for", by.pk, office.pk), lambda: offices_for(by).filter(pk=office.pk).exists()
    ):
        errors["office"] = _("您不能为管理处“%(name)s”登记投诉。") % {"name": office.name}
    return office


def _intake_unit(i: Intake, office: Office | None, errors: dict[str, str]) -> Unit | None:
    unit: Unit | None = None
    if isinstance(i.unit, Unit):
        unit = i.unit
    elif i.unit:
        unit = Unit.objects.select_related("building").filter(code=str(i.unit).strip()).first()
        if unit is None:
            errors["unit"] = _("未知的房屋“%(code)s”。") % {"code": str(i.unit)[:60]}
    if unit is not None and office is not None and unit.building.office_id != office.pk:
        errors["unit"] = _("房屋 %(unit)s 不属于该管理处。") % {"unit": unit.code}
    if i.resident is not None and unit is not None and i.resident.unit_id != unit.pk:
        errors["resident"] = _("该住户不属于所选房屋。")
    return unit


def _check_resident_intake(by: User, i: Intake, unit: Unit | None, errors: dict[str, str]) -> None:
    """A resident files for one of their own homes, on line, now, and judges nothing."""
    if unit is None or not units_for_resident(by).filter(pk=unit.pk).exists():
        errors["unit"] = _("请选择您名下的房屋。")
    elif not i.complainant_name:
        known = Resident.objects.filter(unit=unit, phone=by.phone).first()
        i.complainant_name = known.name if known else ""
    i.phone = by.phone
    if i.channel not in (Channel.ONLINE, Channel.WECHAT):
        errors["channel"] = _("请选择有效的投诉渠道。")
    for field in _STAFF_ONLY:
        if getattr(i, field):
            errors[field] = _("此项由工作人员填写。")
    for field in ("repeat_of", "not_repeat_of"):
        if getattr(i, field):
            errors[field] = _("此项由工作人员填写。")


def _intake_times(i: Intake, now: dt.datetime, errors: dict[str, str]) -> dt.datetime:
    received = i.received_at or now
    if timezone.is_naive(received):
        errors["received_at"] = _("受理时间必须带时区。")
    elif received > now + _FUTURE_TOLERANCE:
        errors["received_at"] = _("受理时间不能晚于现在。")
    elif received < now - dt.timedelta(days=366):
        errors["received_at"] = _("受理时间不能早于一年前。")
    for field in ("requested_by", "committed_answer_at"):
        value = getattr(i, field)
        if value is not None and (
            timezone.is_naive(value) or (not timezone.is_naive(received) and value <= received)
        ):
            errors[field] = _("该时间必须晚于受理时间。")
    return received


def _intake_judgement(i: Intake, errors: dict[str, str]) -> None:
    i.nature = _choice(i.nature, Nature, "nature", errors)
    i.nature_subtype = _choice(i.nature_subtype, NatureSubtype, "nature_subtype", errors)
    if i.nature_subtype and i.nature == Nature.VALID:
        errors["nature_subtype"] = _("有效投诉不设沟通类型。")
    _check_major_nature(bool(i.is_major), i.nature, errors)
    i.severity = _choice(i.severity, Severity, "severity", errors)
    i.preferred_contact = _choice(i.preferred_contact, PreferredContact, "preferred_contact", errors)


def _check_major_nature(is_major: bool, nature: str, errors: dict[str, str]) -> None:
    """In the estate procedure a 重大投诉 is a kind of valid complaint (KESU_MAJOR_MUST_BE_VALID): the
    major flag with another nature is refused. A complaint not yet judged for nature may be major."""
    if is_major and nature and nature != Nature.VALID and settings.KESU_MAJOR_MUST_BE_VALID:
        errors["is_major"] = _("重大投诉属于有效投诉：性质为“%(nature)s”的投诉不能判定为重大投诉。") % {
            "nature": Nature(nature).label
        }


def _intake_complained(i: Intake, office: Office | None, errors: dict[str, str]) -> None:
    if office is None:
        return
    if i.complained_department is not None and i.complained_department.office_id != office.pk:
        errors["complained_department"] = _("被投诉部门不属于该管理处。")
    staff = i.complained_staff
    if staff is not None:
        works_here = staff.offices.filter(pk=office.pk).exists() or (
            staff.department is not None and staff.department.office_id == office.pk
        )
        if not works_here:
            errors["complained_staff"] = _("被投诉人员不属于该管理处。")


def _intake_repeat(
    by: User, value: Complaint | str | None, office: Office | None, errors: dict[str, str]
) -> Complaint | None:
    if not value:
        return None
    number = value.number if isinstance(value, Complaint) else str(value).strip()
    earlier = Complaint.objects.visible_to(by).filter(number=number).first()
    if earlier is None:
        errors["repeat_of"] = _("找不到投诉“%(number)s”。") % {"number": number[:30]}
    elif office is not None and earlier.office_id != office.pk:
        errors["repeat_of"] = _("只能关联同一管理处的投诉。")
    return earlier


def _intake_not_repeat(
    by: User,
    values: Sequence[Complaint | str],
    repeat_of: Complaint | None,
    office: Office | None,
    errors: dict[str, str],
) -> list[Complaint]:
    """The earlier complaints the clerk said this is not a repeat of: each as `_intake_repeat`
    checks it, and not the one it is said to repeat."""
    found: dict[int, Complaint] = {}
    for value in values:
        one: dict[str, str] = {}
        earlier = _intake_repeat(by, value, office, one)
        if one:
            errors["not_repeat_of"] = one["repeat_of"]
        elif earlier is not None:
            found[earlier.pk] = earlier
    if repeat_of is not None and repeat_of.pk in found:
        errors["not_repeat_of"] = _("同一投诉不能既是重复投诉又不是重复投诉。")
    return list(found.values())


def _intake_files(
    attachments: Sequence[tuple[IO[bytes], str]], errors: dict[str, str]
) -> list[tuple[IO[bytes], upload_checks.CheckedFile]]:
    checked: list[tuple[IO[bytes], upload_checks.CheckedFile]] = []
    if len(attachments) > upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT:
        errors["attachments"] = _("附件最多 %(n)d 个。") % {"n": upload_checks.MAX_ATTACHMENTS_PER_COMPLAINT}
        return checked
    refused: list[str] = []  # each bad file's own message, not only the first one's
    for f, name in attachments:
        try:
            checked.append((f, upload_checks.check_upload(f, name)))
        except ValidationError as e:
            refused += e.message_dict["attachments"]
    if refused:
        errors["attachments"] = " ".join(refused)
    return checked


def _file(by: User, i: Intake, k: _Checked, now: dt.datetime) -> Complaint:
    """Write the checked intake: the complaint with its deadlines, the registered event, the files,
    the repeat link, and the notifications."""
    c = Complaint(
        office=k.office,
        number=_next_number(k.office, k.received),
        channel=i.channel,
        received_at=k.received,
        received_by=by,
        owner=None if by.role == R.RESIDENT else by,  # 首问负责制: whoever first receives it owns it
        received_by_company=by.is_company_wide if i.received_by_company is None else i.received_by_company,
        complainant_name=i.complainant_name,
        complainant_phone=i.phone,
        resident=i.resident,
        unit=k.unit,
        address=i.address,
        content=i.content,
        search_text=complaint_index(i.content, i.complained_party),
        complained_party=i.complained_party,
        complained_department=i.complained_department,
        complained_staff=i.complained_staff,
        on_spot_answer=i.on_spot_answer,
        anonymous_to_staff=bool(i.anonymous_to_staff),
        preferred_contact=i.preferred_contact,
        requested_by=i.requested_by,
        nature=i.nature,
        nature_subtype=i.nature_subtype,
        is_major=bool(i.is_major),
        severity=i.severity,
        category=k.category,
    )
    if i.nature or i.severity or k.category or i.is_major:
        c.assessed_at, c.assessed_by = now, by
    if c.effective_severity == Severity.MAJOR:
        c.major_at = k.received
    if i.on_spot_answer:
        # Answered on the spot (当场答复): handled at once, awaiting callback or closing.
        c.status = S.RESOLVED
        c.answered_at = c.resolved_at = k.received
        c.resolution = i.on_spot_answer
    else:
        c.committed_answer_at = i.committed_answer_at or committed_answer_due(
            k.office, c.effective_severity, k.received
        )
    cal = calendar_for(k.office)
    apply_deadlines(c, cal=cal)
    bf = backfill.active()
    if bf is not None and not k.files:
        bf.hold(c)  # written when the backfill flushes
    else:
        c.save()
    event = events.registered(
        c, by, now, told=bool(i.on_spot_answer), not_repeat_of=[e.number for e in k.not_repeat_of]
    )
    for f, info in k.files:
        _store_attachment(c, by, f, info, now)
    _announce(event, became_major=_is_major(c), night=not cal.in_window(k.received))
    if k.repeat_of is not None:
        _confirm_repeat(c, by, k.repeat_of, now)
    return c


def _confirm_repeat(c: Complaint, by: User, earlier: Complaint, now: dt.datetime) -> None:
    """The clerk confirmed at intake that this repeats an earlier complaint: linked at once if their
    role may link (a supervisor's decision, ACTION_ROLES["link"]), else a note asks the supervisor."""
    if role_of(by) in ACTION_ROLES["link"]:
        changes: dict[str, list[Any]] = {}
        _set(c, changes, repeat_of=earlier)
        _to_company(c, changes, now)  # a repeat complaint is the company's (docs/decisions/0014)
        _save(c, by, changes)
        reason = _("登记时确认为重复投诉。")
        event = events.linked(
            c, by, now, changes, target=earlier.number, reason=reason, company=_company_data(c, changes)
        )
        _announce(event)
    else:
        text = _("接待人员登记时确认：这是 %(number)s 的重复投诉，请主管核实并关联。") % {
            "number": earlier.number
        }
        _save(c, by, {})
        _announce(events.noted(c, by, now, {}, text=text, told=False))


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
    _save(c, by, {})
    _announce(
        events.attachment_added(c, by, now, attachment=att.pk, name=info.name, kind=info.kind, size=info.size)
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
    _check_refusal(c, by, "assess")
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
    _check_major_nature(changed.get("is_major", c.is_major), nature_now, errors)
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
    sooner = promise_after_judgement(c)
    if sooner is not None:
        _set(c, changes, committed_answer_at=sooner)  # the complainant is told (alerts)
    _save(c, by, changes, extra_fields=["assessed_at", "assessed_by"])
    event = events.assessed(c, by, now, changes, reason=reason, revised=revised)
    return _announce(event, became_major=_is_major(c) and not was_major)


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
    _save(c, by, changes)
    return _announce(events.dispatched(c, by, now, changes, from_status=from_status, note=note))


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
    _check_refusal(c, by, "accept")
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {"status": S.IN_PROGRESS, "accepted_at": now}
    if c.handler_id is None and role_of(by) in DEPARTMENT_ROLES:
        values["handler"] = by
    _set(c, changes, **values)
    _save(c, by, changes)
    return _announce(events.accepted(c, by, now, changes, from_status=S.DISPATCHED, note=note.strip()[:5000]))


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
    _save(c, by, changes)
    return _announce(events.noted(c, by, now, changes, text=text, told=tell_complainant))


def may_mark_important(user: User) -> bool:
    """Whether this user may mark a complaint important to the company (escalate(important=True))."""
    return role_of(user) in COMPANY_ROLES


@transaction.atomic
def escalate(
    complaint: Complaint,
    by: User,
    *,
    reason: str,
    tier: int | None = None,
    important: bool = False,
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Pass the complaint up the ladder (front line → CS manager → director → company → executive).
    Reaching the company tier is the upward report (上报) that major complaints need within the hour.
    `important`: the company (quality department) marks the complaint important and takes it over: it
    goes straight to the company tier (docs/decisions/0014)."""
    now = _now(at)
    c = _begin(complaint, by, "escalate", version)
    errors: dict[str, str] = {}
    reason = _text(errors, "reason", reason, required=True, max_chars=2000)
    if important and not may_mark_important(by):
        raise RoleNotAllowed(_("只有公司品质管理部可以将投诉列为公司重点。"))
    target = c.tier + 1 if tier is None else tier
    if important:
        target = max(target, Tier.COMPANY)
    if target not in Tier.values or target <= c.tier:
        errors["tier"] = _("只能升级到更高的处理层级。")
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    if target >= Tier.COMPANY:
        _to_company(c, changes, now, tier=target)
    else:
        _set(c, changes, tier=target)
    _save(c, by, changes)
    event = events.escalated(
        c,
        by,
        now,
        changes,
        reason=reason,
        tier=target,
        important=important,
        company=_company_data(c, changes),
    )
    return _announce(event)


def _to_company(
    c: Complaint, changes: dict[str, list[Any]], now: dt.datetime, *, tier: int = Tier.COMPANY
) -> None:
    """The matter goes beyond the office (to the company tier): that is the upward report, and the
    company makes the complainant a promise it can keep — the answer time still standing, or, when it
    has passed unanswered, a new one from now by the policy (the complainant is told: alerts)."""
    if c.tier >= tier:
        return
    _set(c, changes, tier=tier)
    if c.reported_at is None:
        _set(c, changes, reported_at=now)
    if (
        c.answered_at is None
        and c.is_open
        and (c.committed_answer_at is None or c.committed_answer_at <= now)
    ):
        _set(c, changes, committed_answer_at=committed_answer_due(c.office, c.effective_severity, now))


def company_promise(c: Complaint) -> dt.datetime | None:
    """The time the complainant is promised once the company handles it: the answer time while
    unanswered, else the rectification or resolution deadline (None once resolved)."""
    if c.answered_at is None and c.committed_answer_at is not None:
        return c.committed_answer_at
    if c.status == S.RECTIFYING:
        return c.rectify_due_at
    return c.resolve_due_at if c.status in WORKING_STATUSES else None


def _company_data(c: Complaint, changes: dict[str, list[Any]]) -> dict[str, Any] | None:
    """What the event records when this change took the matter to the company tier (None otherwise)."""
    old, new = changes.get("tier", [c.tier, c.tier])
    if not (old < Tier.COMPANY <= new):
        return None
    return {"role": Role.QUALITY, "committed": events.iso(company_promise(c))}


def report_pending(c: Complaint) -> bool:
    """A major complaint the office has still to report to the company (its report deadline stands)."""
    return c.report_due_at is not None and c.reported_at is None


@transaction.atomic
def report(
    complaint: Complaint,
    by: User,
    *,
    summary: str,
    to: Sequence[str] = tuple(ReportTarget.values),
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """上报公司: the office tells the company (quality department and executive) of a major complaint:
    who reported, to whom, what was said. Meets the report deadline; the handling tier stays."""
    now = _now(at)
    c = _begin(complaint, by, "report", version)
    _check_refusal(c, by, "report")
    errors: dict[str, str] = {}
    summary = _text(errors, "summary", summary, required=True, max_chars=2000)
    targets = sorted(set(to or ()))
    if not targets or set(targets) - set(ReportTarget.values):
        errors["to"] = _("请选择上报对象。")
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    _set(c, changes, reported_at=now)
    _save(c, by, changes)
    return _announce(events.reported(c, by, now, changes, to=targets, summary=summary))


@transaction.atomic
def resolve(
    complaint: Complaint,
    by: User,
    *,
    resolution: str,
    tell_complainant: bool = True,
    told_words: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """Record what was done (处理完毕). The callback clock starts now.

    `resolution` is the handler's record (internal: "已对当班人员批评教育"); `told_words` what the
    complainant is told by SMS and in the portal (default: the resolution itself)."""
    now = _now(at)
    c = _begin(complaint, by, "resolve", version)
    _check_refusal(c, by, "resolve")
    errors: dict[str, str] = {}
    resolution = _text(errors, "resolution", resolution, required=True)
    told_words = _text(errors, "told_words", told_words, required=False)
    _raise(errors)
    told = (told_words or resolution) if tell_complainant else ""
    from_status = c.status
    changes: dict[str, list[Any]] = {}
    values: dict[str, Any] = {
        "status": S.RESOLVED,
        "resolved_at": now,
        "resolution": resolution,
        "resolution_told": told,
        "called_back_at": None,
        "satisfaction": "",
    }
    if c.answered_at is None:
        values["answered_at"] = now
    _set(c, changes, **values)
    _save(c, by, changes)
    event = events.resolved(c, by, now, changes, from_status=from_status, resolution=resolution, told=told)
    return _announce(event)


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
    rectify_reason: str = "",
    version: int | None = None,
    at: dt.datetime | None = None,
) -> Complaint:
    """回访: ask whether the complainant is satisfied and record their words.

    不满意 always starts rectification (整改) in the same transaction: by `rectify_due_at`, or when
    nobody names a time the policy's default (deadlines.default_rectify_due); `rectify_reason` says
    what is to be rectified (default: the complainant's words)."""
    now = _now(at)
    c = _begin(complaint, by, "call_back", version)
    _check_refusal(c, by, "call_back")
    if role_of(by) == R.RESIDENT:
        # The complainant confirms and rates on line (recorded as method 其他); 不满意 reopens it.
        method, confirmed = CallbackMethod.OTHER, True
    errors: dict[str, str] = {}
    if method not in CallbackMethod.values:
        errors["method"] = _("请选择回访方式。")
    elif c.onsite_callback_required and method != CallbackMethod.ONSITE:
        errors["method"] = _("重大投诉必须上门回访。")
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = _("请选择投诉人的满意程度。")
    words = _text(errors, "words", words, required=True, max_chars=2000)
    rectify_reason = _text(errors, "rectify_reason", rectify_reason, required=False, max_chars=2000)
    if rectify_due_at is not None:
        if satisfaction != Satisfaction.DISSATISFIED:
            errors["rectify_due_at"] = _("只有不满意时才需要整改期限。")
        elif timezone.is_naive(rectify_due_at) or rectify_due_at <= now:
            errors["rectify_due_at"] = _("整改期限必须晚于现在。")
    _raise(errors)
    if satisfaction == Satisfaction.DISSATISFIED and rectify_due_at is None:
        rectify_due_at = default_rectify_due(c, now)
    callback = Callback(
        complaint=c,
        at=now,
        by=by,
        method=method,
        satisfaction=satisfaction,
        words=words,
        confirmed=bool(confirmed),
        due_at=c.callback_due_at,
    )
    held = backfill.held(c)
    if held is not None:
        held.keep(callback)
    else:
        callback.save(force_insert=True)
    changes: dict[str, list[Any]] = {}
    due_at = c.callback_due_at
    _set(c, changes, called_back_at=now, satisfaction=satisfaction)
    _save(c, by, changes)
    event = events.called_back(
        c,
        by,
        now,
        changes,
        method=method,
        satisfaction=satisfaction,
        words=words,
        confirmed=bool(confirmed),
        due_at=due_at,
    )
    c = _announce(event)
    if rectify_due_at is not None:
        changes = {}
        _set_reopened(c, changes, rectify_due_at)
        _save(c, by, changes)
        reason = rectify_reason or words
        c = _announce(events.reopened(c, by, now, changes, from_status=S.RESOLVED, reason=reason))
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
    _save(c, by, changes)
    return _announce(events.reopened(c, by, now, changes, from_status=S.RESOLVED, reason=reason))


# --- close preconditions (issue 14): what close() refuses whatever is typed, so that pages offer only
# the ways of closing the lifecycle would accept -----------------------------------------------------
_LESSON_MISSING = {
    "lesson_cause": _lazy("有效投诉结案须填写原因分析。"),
    "lesson_learned": _lazy("有效投诉结案须填写经验教训。"),
    "lesson_prevention": _lazy("有效投诉结案须填写纠正预防措施。"),
}


def _unsatisfied_close(c: Complaint, outcome: str) -> bool:
    """Ending a complaint that was sent back for rectification (every 不满意 callback does that) other
    than by satisfying its complainant: a manager's decision with a recorded reason (the note). The
    report counts the same complaints (reopen_count > 0, outcome not "resolved")."""
    return outcome in CloseOutcome.values and outcome != CloseOutcome.RESOLVED and c.reopen_count > 0


def close_refusal(c: Complaint, by: User, outcome: str) -> ComplaintError | None:
    """Why close(c, by, outcome=…) would be refused whatever the form says (None: it would not)."""
    if report_pending(c):
        return TransitionNotAllowed(_("重大投诉尚未上报公司，请先“上报公司”再结案。"))
    if _unsatisfied_close(c, outcome) and role_of(by) not in _UNSATISFIED_CLOSE_ROLES:
        return RoleNotAllowed(
            _("投诉人曾表示不满意：以“%(outcome)s”结案须由客服中心经理或管理处主任决定，并写明原因。")
            % {"outcome": CloseOutcome(outcome).label}
        )
    # Satisfied at the latest callback, or answered on the spot and never called back since: the
    # complainant accepted it at the counter (an enquiry settled there owes no callback at all).
    satisfied = c.satisfaction in SATISFIED_VALUES or policy.may_close_without_callback(c)
    if outcome == CloseOutcome.RESOLVED and not satisfied:
        if not c.satisfaction:
            return TransitionNotAllowed(_("尚未回访，不能结案。"))
        return TransitionNotAllowed(_("投诉人不满意，须整改后再次回访，不能结案。"))
    return None


def _judgement_missing(c: Complaint) -> list[str]:
    """What a complaint still lacks of its judgement before it may close."""
    missing = [
        label
        for field, label in (("nature", _("性质")), ("severity", _("严重程度")))
        if not getattr(c, field)
    ]
    if c.category_id is None:
        missing.append(_("分类"))
    return missing


def close_outcomes(c: Complaint, by: User) -> list[str]:
    """The ways this user may close this complaint now ([] when closing is not possible at all: not
    allowed, not yet judged, or refused for every outcome). Pages offer the close form only then."""
    if "close" not in allowed_actions(c, by) or _judgement_missing(c):
        return []
    return [o for o in CloseOutcome.values if close_refusal(c, by, o) is None]


# --- end close preconditions -------------------------------------------------------------------------


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
    missing = _judgement_missing(c)
    if missing:
        errors["__all__"] = _("结案前须完成判定：%(fields)s。") % {"fields": "、".join(missing)}
    refusal = close_refusal(c, by, outcome)
    if refusal is not None:
        raise refusal
    unsatisfied = _unsatisfied_close(c, outcome)
    if c.nature == Nature.VALID and outcome in (CloseOutcome.RESOLVED, CloseOutcome.MEDIATION):
        # One message per field, each naming what is missing (not one sentence three times).
        for field, value in lesson.items():
            if not value:
                errors[field] = str(_LESSON_MISSING[field])
    _raise(errors)
    changes: dict[str, list[Any]] = {}
    _set(c, changes, status=S.CLOSED, closed_at=now, close_outcome=outcome, end_note=note, **lesson)
    _save(c, by, changes)
    event = events.closed(
        c, by, now, changes, from_status=S.RESOLVED, note=note, outcome=outcome, unsatisfied=unsatisfied
    )
    return _announce(event)


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
    _save(c, by, changes)
    event = events.declined(
        c, by, now, changes, from_status=from_status, explanation=explanation, reason=reason
    )
    return _announce(event)


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
    _save(c, by, changes)
    return _announce(events.withdrawn(c, by, now, changes, from_status=from_status, reason=reason))


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
        seen: set[int] = {c.pk}
        cur: Complaint | None = other
        while cur is not None:  # no cycles: the earlier complaint must not be a repeat of this one
            if cur.pk in seen:
                errors["target"] = _("不能形成循环关联。")
                break
            seen.add(cur.pk)
            cur = cur.repeat_of
    _raise(errors)
    assert other is not None
    changes: dict[str, list[Any]] = {}
    _set(c, changes, repeat_of=other)
    _to_company(c, changes, now)  # a repeat complaint is the company's (docs/decisions/0014)
    _save(c, by, changes)
    event = events.linked(
        c, by, now, changes, target=other.number, reason=reason, company=_company_data(c, changes)
    )
    return _announce(event)


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
    """Several residents, one problem: handle it once (docs/procedures.md §4). This complaint follows the target."""
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
    _save(c, by, changes)
    _announce(events.merged(c, by, now, changes, from_status=from_status, target=other.number, reason=reason))
    # The target's timeline says what joined it; its version moves so concurrent editors notice.
    _save(other, by, {})
    _announce(events.merged_in(other, by, now, source=c.number, reason=reason))
    return c


@transaction.atomic
def reveal_contact(complaint: Complaint, by: User, *, at: dt.datetime | None = None) -> str:
    """Show the full phone number to a role that needs it, and only to a viewer who may know who
    complained (scope.complainant_view); every reveal is in the timeline."""
    now = _now(at)
    # Not a change to the complaint, so no version bump: nobody editing it is disturbed.
    c = _begin(complaint, by, "reveal_contact", None, check_version=False)
    _check_refusal(c, by, "reveal_contact")
    events.contact_revealed(c, by, now)
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
    "report",
    "resolve",
    "reveal_contact",
    "withdraw",
]
