"""Forms of the workspace: they check shape and types only; every rule is the lifecycle's
(kesu.complaints.services), whose errors come back onto the same fields (`apply_errors`).

Field names match the service's keyword arguments, so a service error keyed "reason" lands next to
the "reason" input.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kesu.complaints import deadlines
from kesu.complaints.choices import (
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
    Tier,
)
from kesu.complaints.models import Category, Complaint
from kesu.org.choices import DEPARTMENT_ROLES
from kesu.org.models import Department, Office, User

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def datetime_field(label, *, required=False, help_text="") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
    )


def text_area(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def blank(choices, label=None) -> list[tuple[str, str]]:
    return [("", label or _("— 请选择 —")), *choices]


def local_minute(value: dt.datetime) -> dt.datetime:
    """A local time without seconds, as a datetime-local input shows it."""
    return timezone.localtime(value).replace(second=0, microsecond=0)


class KesuForm(forms.Form):
    """Adds what the templates need: errors linked to their inputs for screen readers."""

    required_css_class = "is-required"

    def describe_errors(self) -> None:
        for name, bound in self._bound_items():
            if name in self.errors:
                attrs = bound.field.widget.attrs
                ids = set(filter(None, attrs.get("aria-describedby", "").split()))
                ids.add(f"{bound.auto_id}_error")
                if bound.help_text:
                    ids.add(f"{bound.auto_id}_helptext")
                attrs["aria-describedby"] = " ".join(sorted(ids))
                attrs["aria-invalid"] = "true"

    def _bound_items(self):
        for name in self.fields:
            yield name, self[name]


def apply_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put a lifecycle ValidationError onto the form: each message next to its field, the rest on top."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for key, messages in error.message_dict.items():
            name = aliases.get(key, key)
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


# ---------------------------------------------------------------------------------------------
# complaint actions


class ActionForm(KesuForm):
    """Every action form carries the version the user loaded (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    code = ""  # the action; it prefixes the ids, since one page holds several of these forms

    def __init__(self, *args, complaint: Complaint, user: User, **kwargs):
        self.complaint = complaint
        self.user = user
        kwargs.setdefault("auto_id", f"id_{self.code}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", complaint.version)
        super().__init__(*args, **kwargs)


# The major flag's help when the company's rule is on (settings.KESU_MAJOR_MUST_BE_VALID).
MAJOR_HELP_VALID_ONLY = _(
    "向政府部门或媒体投诉，或已造成/可能造成严重经济损失、人身伤害、声誉影响。"
    "重大投诉属于有效投诉：性质须为“有效投诉”。"
)


class AssessForm(ActionForm):
    code = "assess"
    nature = forms.ChoiceField(
        label=_("性质"), choices=blank(Nature.choices, _("— 未判定 —")), required=False
    )
    nature_subtype = forms.ChoiceField(
        label=_("沟通类型"),
        choices=blank(NatureSubtype.choices, _("— 无 —")),
        required=False,
        help_text=_("仅用于协助处理或无效投诉（沟通性投诉）。"),
    )
    is_major = forms.BooleanField(
        label=_("重大投诉"),
        required=False,
        help_text=_("向政府部门或媒体投诉，或已造成/可能造成严重经济损失、人身伤害、声誉影响。"),
    )
    severity = forms.ChoiceField(
        label=_("严重程度"), choices=blank(Severity.choices, _("— 未判定 —")), required=False
    )
    category = forms.ChoiceField(label=_("投诉内容分类"), required=False)
    reason = forms.CharField(
        label=_("判定说明"),
        required=False,
        widget=text_area(2),
        help_text=_("修改已有的判定时必填。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        c = self.complaint
        self.fields["category"].choices = blank(
            [(cat.code, cat.name) for cat in Category.objects.filter(is_active=True)], _("— 未判定 —")
        )
        if not self.is_bound:
            self.initial.update(
                nature=c.nature,
                nature_subtype=c.nature_subtype,
                is_major=c.is_major,
                severity=c.severity,
                category=c.category.code if c.category_id else "",
            )
        if self.department_only:
            # 责任部门判定有效性: department staff revise the nature only.
            for name in ("is_major", "severity", "category"):
                del self.fields[name]
        elif settings.KESU_MAJOR_MUST_BE_VALID:
            self.fields["is_major"].help_text = MAJOR_HELP_VALID_ONLY

    @property
    def department_only(self) -> bool:
        return self.user.role in DEPARTMENT_ROLES and not self.user.is_superuser

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        names = ["nature", "nature_subtype"]
        if not self.department_only:
            names += ["is_major", "severity", "category"]
        return {name: d[name] for name in names} | {"reason": d["reason"]}


class DispatchForm(ActionForm):
    code = "dispatch"
    department = forms.ModelChoiceField(
        label=_("责任部门"), queryset=Department.objects.none(), empty_label=_("— 请选择部门 —")
    )
    handler = forms.ModelChoiceField(
        label=_("处理人"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— 部门任何人接单 —"),
        help_text=_("可不指定，由部门接单。"),
    )
    note = forms.CharField(label=_("派单说明"), required=False, widget=text_area(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        c = self.complaint
        self.fields["department"].queryset = Department.objects.filter(office_id=c.office_id).order_by(
            "type", "name"
        )
        self.fields["department"].label_from_instance = lambda d: d.name  # the office is this one
        self.fields["handler"].queryset = (
            User.objects.filter(is_active=True, role__in=DEPARTMENT_ROLES, department__office_id=c.office_id)
            .select_related("department")
            .order_by("department__type", "department__name", "role", "username")
        )
        if not self.is_bound:
            self.initial.update(department=c.department_id, handler=c.handler_id)

    def handler_groups(self):
        """Handlers grouped by department, for an <optgroup> per department (kesu.js shows the
        group of the chosen department only)."""
        groups: dict[int, dict] = {}
        for u in self.fields["handler"].queryset:
            g = groups.setdefault(u.department_id, {"department": u.department, "users": []})
            g["users"].append(u)
        return list(groups.values())


class AcceptForm(ActionForm):
    code = "accept"
    note = forms.CharField(label=_("接单说明"), required=False, widget=text_area(2))


class NoteForm(ActionForm):
    """A progress note. Whom it is for has no default: a note meant for the resident that was saved as
    internal by default told nobody (issue 14), so the clerk chooses every time."""

    code = "note"
    text = forms.CharField(label=_("内容"), widget=text_area(3))
    audience = forms.ChoiceField(
        label=_("记录类型"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择记录类型：内部备注，或告知投诉人。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        told = (
            _("告知投诉人（以短信发给投诉人，住户端可见）")
            if self.complaint.complainant_phone
            else _("告知投诉人（住户端可见；无手机号，不发短信）")
        )
        self.fields["audience"].choices = [("internal", _("内部备注（投诉人看不到）")), ("complainant", told)]


class EscalateForm(ActionForm):
    code = "escalate"
    tier = forms.TypedChoiceField(label=_("升级至"), coerce=int)
    reason = forms.CharField(label=_("升级原因"), widget=text_area(2))
    important = forms.BooleanField(
        label=_("列为公司重点（直接由公司处理）"),
        required=False,
        help_text=_("公司重点投诉直接升级至公司层级，并告知投诉人现由公司品质管理部处理及答复时间。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kesu.complaints import services

        if not services.may_mark_important(self.user):
            del self.fields["important"]
        current = self.complaint.tier
        self.fields["tier"].choices = [(t.value, t.label) for t in Tier if t.value > current]
        if not self.is_bound and current + 1 in Tier.values:
            self.initial["tier"] = current + 1


class ReportForm(ActionForm):
    """上报公司: whom the office tells of a major complaint, and what it says."""

    code = "report"
    to = forms.MultipleChoiceField(
        label=_("上报对象"),
        choices=ReportTarget.choices,
        initial=list(ReportTarget.values),
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("上报内容"),
        widget=text_area(3),
        help_text=_("事件经过、影响和已采取的措施。"),
    )


class ResolveForm(ActionForm):
    code = "resolve"
    resolution = forms.CharField(
        label=_("处理结果（内部记录）"),
        widget=text_area(4),
        help_text=_("做了什么、原因和责任，只有工作人员看到。"),
    )
    tell_complainant = forms.BooleanField(
        label=_("告知投诉人处理结果（短信和住户页面）"), required=False, initial=True
    )
    told_words = forms.CharField(
        label=_("告知投诉人的话"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-told-words": "1"}),
        help_text=_("投诉人收到的原话，默认与处理结果相同，可修改（例如不写对员工的处理）。"),
    )


class CallBackForm(ActionForm):
    code = "call_back"
    method = forms.ChoiceField(label=_("回访方式"), choices=CallbackMethod.choices, widget=forms.RadioSelect)
    satisfaction = forms.ChoiceField(
        label=_("投诉人是否满意"), choices=Satisfaction.choices, widget=forms.RadioSelect
    )
    words = forms.CharField(label=_("投诉人意见（原话）"), widget=text_area(3))
    confirmed = forms.BooleanField(label=_("投诉人已确认/签字"), required=False)
    rectify_due_at = datetime_field(
        _("整改期限"), help_text=_("投诉人不满意时即转入整改；按处理时限自动填写，可修改。")
    )
    rectify_reason = forms.CharField(
        label=_("整改要求"),
        required=False,
        widget=text_area(2),
        help_text=_("不填则以投诉人意见作为整改要求。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        c = self.complaint
        if not self.is_bound:
            self.initial["method"] = (
                CallbackMethod.ONSITE if c.onsite_callback_required else CallbackMethod.PHONE
            )
            self.initial["rectify_due_at"] = rectify_due_initial(c)


def rectify_due_initial(c: Complaint) -> dt.datetime:
    """The lifecycle's default rectification deadline from now, to the minute, for the form to show."""
    return local_minute(deadlines.default_rectify_due(c, timezone.now()))


class ReopenForm(ActionForm):
    code = "reopen"
    reason = forms.CharField(label=_("整改要求"), widget=text_area(3))
    rectify_due_at = datetime_field(_("整改期限"), required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["rectify_due_at"] = rectify_due_initial(self.complaint)
            last = self.complaint.callbacks.order_by("-at", "-id").first()
            if last and last.satisfaction == Satisfaction.DISSATISFIED:
                self.initial["reason"] = last.words


class CloseForm(ActionForm):
    code = "close"
    outcome = forms.ChoiceField(
        label=_("结案方式"), choices=CloseOutcome.choices, initial=CloseOutcome.RESOLVED
    )
    lesson_cause = forms.CharField(label=_("原因分析"), required=False, widget=text_area(2))
    lesson_learned = forms.CharField(label=_("经验教训"), required=False, widget=text_area(2))
    lesson_prevention = forms.CharField(label=_("纠正预防措施"), required=False, widget=text_area(2))
    note = forms.CharField(
        label=_("结案说明"),
        required=False,
        widget=text_area(2),
        help_text=_("以“处理完毕”以外的方式结案时必填。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            return  # what is sent is any outcome; the lifecycle decides (and says why not)
        # Offer only the outcomes the lifecycle would accept now (services.close_outcomes), and say why
        # "resolved" is missing when it is (not yet called back): no form that is refused on save.
        from kesu.complaints import services

        offered = services.close_outcomes(self.complaint, self.user)
        field = self.fields["outcome"]
        field.choices = [(v, label) for v, label in CloseOutcome.choices if v in offered]
        if offered:
            self.initial.setdefault("outcome", offered[0])
        refusal = services.close_refusal(self.complaint, self.user, CloseOutcome.RESOLVED)
        if refusal is not None and offered:
            field.help_text = _("%(why)s可选择其他结案方式并写明结案说明。") % {"why": refusal.message}

    @property
    def lesson_required(self) -> bool:
        from kesu.complaints.choices import Nature

        return self.complaint.nature == Nature.VALID


class DeclineForm(ActionForm):
    code = "decline"
    reason = forms.ChoiceField(label=_("不予受理原因"), choices=blank(DeclineReason.choices))
    explanation = forms.CharField(
        label=_("向投诉人的解释"), widget=text_area(3), help_text=_("将记录并告知投诉人。")
    )


class WithdrawForm(ActionForm):
    code = "withdraw"
    reason = forms.CharField(label=_("撤回说明"), widget=text_area(2))


class LinkForm(ActionForm):
    code = "link"
    target = forms.CharField(
        label=_("原投诉编号"),
        max_length=30,
        help_text=_("本投诉是对该投诉未按时答复的重复投诉。例如 Y01-202611-0012"),
    )
    reason = forms.CharField(label=_("说明"), required=False, widget=text_area(2))


class MergeForm(ActionForm):
    code = "merge"
    target = forms.CharField(
        label=_("合并到投诉编号"),
        max_length=30,
        help_text=_("多位住户反映同一问题时，合并为一件处理。本投诉将随目标投诉一并处理。"),
    )
    reason = forms.CharField(label=_("说明"), required=False, widget=text_area(2))


class AttachForm(ActionForm):
    """The files themselves are read from request.FILES (several per submit)."""

    code = "attach"


# ---------------------------------------------------------------------------------------------
# intake (《客户投诉记录表》)


class IntakeForm(KesuForm):
    ANSWER_MODES = [
        ("committed", _("承诺答复时间")),
        ("on_spot", _("当场答复")),
    ]
    office = forms.ModelChoiceField(label=_("管理处"), queryset=None, empty_label=None)
    received_at = datetime_field(_("受理时间"), help_text=_("默认为现在；补登夜间来电时可改为实际来电时间。"))
    channel = forms.ChoiceField(
        label=_("投诉渠道"), choices=Channel.choices, initial=Channel.PHONE, widget=forms.RadioSelect
    )
    resident = forms.IntegerField(required=False, widget=forms.HiddenInput)
    unit = forms.CharField(
        label=_("栋/房号"),
        required=False,
        max_length=60,
        help_text=_("例如 3栋-1201"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    complainant_name = forms.CharField(
        label=_("投诉人"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    address = forms.CharField(label=_("地址（非住户时）"), required=False, max_length=200)
    preferred_contact = forms.ChoiceField(
        label=_("方便联系的时间"), choices=blank(PreferredContact.choices, _("— 未说明 —")), required=False
    )
    anonymous_to_staff = forms.BooleanField(
        label=_("投诉人要求对涉及的工作人员保密身份"),
        required=False,
        help_text=_("勾选后，责任部门的人员都看不到投诉人信息。"),
    )
    content = forms.CharField(
        label=_("投诉内容"),
        widget=text_area(5),
        help_text=_("如实记录投诉人所述：时间、地点、事情经过、诉求。"),
    )
    complained_party = forms.CharField(label=_("被投诉部门/人员"), required=False, max_length=100)
    complained_department = forms.ModelChoiceField(
        label=_("被投诉部门"), queryset=None, required=False, empty_label=_("— 无 —")
    )
    complained_staff = forms.ModelChoiceField(
        label=_("被投诉员工"),
        queryset=None,
        required=False,
        empty_label=_("— 无 —"),
        help_text=_("选定后，该员工及其部门将看不到投诉人信息。"),
    )
    answer_mode = forms.ChoiceField(
        label=_("答复方式"), choices=ANSWER_MODES, initial="committed", widget=forms.RadioSelect
    )
    on_spot_answer = forms.CharField(label=_("当场答复内容"), required=False, widget=text_area(3))
    committed_answer_at = datetime_field(_("承诺答复时间"), help_text=_("按处理时限自动填写，可修改。"))
    requested_by = datetime_field(_("投诉人要求完成时间"))
    nature = forms.ChoiceField(
        label=_("性质"), choices=blank(Nature.choices, _("— 稍后判定 —")), required=False
    )
    # 咨询型 answered on the spot is an enquiry settled at the counter: no callback (decision 0011).
    nature_subtype = forms.ChoiceField(
        label=_("沟通类型"),
        choices=blank(NatureSubtype.choices, _("— 无 —")),
        required=False,
        help_text=_("仅用于协助处理或无效投诉（沟通性投诉）。"),
    )
    is_major = forms.BooleanField(label=_("重大投诉"), required=False)
    severity = forms.ChoiceField(
        label=_("严重程度"), choices=blank(Severity.choices, _("— 稍后判定 —")), required=False
    )
    category = forms.ChoiceField(label=_("投诉内容分类"), required=False)
    repeat_choice = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user: User, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        office_ids = [o.pk for o in offices]
        self.fields["office"].queryset = Office.objects.filter(pk__in=office_ids).order_by("code")
        self.fields["complained_department"].queryset = Department.objects.filter(
            office_id__in=office_ids
        ).select_related("office")
        self.fields["complained_staff"].queryset = (
            User.objects.filter(is_active=True)
            .filter(Q(department__office_id__in=office_ids) | Q(offices__in=office_ids))
            .exclude(role="resident")
            .select_related("department")
            .distinct()
            .order_by("department__type", "username")
        )
        self.fields["complained_staff"].label_from_instance = lambda u: (
            f"{u} · {u.department.name if u.department_id else u.get_role_display()}"
        )
        self.fields["category"].choices = blank(
            [(cat.code, cat.name) for cat in Category.objects.filter(is_active=True)], _("— 稍后判定 —")
        )
        if len(offices) == 1:
            self.fields["office"].widget = forms.HiddenInput()
        for name in ("complained_department",):
            self.fields[name].label_from_instance = (
                (lambda d: d.name) if len(offices) == 1 else (lambda d: f"{d.office.code} {d.name}")
            )

    def clean(self):
        d = super().clean()
        if d.get("answer_mode") == "on_spot" and not (d.get("on_spot_answer") or "").strip():
            self.add_error("on_spot_answer", _("选择当场答复时，请填写答复内容。"))
        if d.get("answer_mode") != "on_spot":
            d["on_spot_answer"] = ""
        else:
            d["committed_answer_at"] = None
        return d
