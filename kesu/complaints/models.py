"""The complaint record (《客户投诉记录表》), its timeline, callbacks, attachments and SLA policy."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kesu.org.models import Department, Office, Resident, Unit

from .choices import (
    OPEN_STATUSES,
    CallbackMethod,
    Channel,
    CloseOutcome,
    Deadline,
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
from .sla_defaults import FORM_DEFAULTS

if TYPE_CHECKING:
    from kesu.org.models import User


class Category(models.Model):
    """Content category (投诉内容分类): the company's configurable list; 11 defaults."""

    code = models.SlugField(_("编码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    description = models.CharField(_("包括"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("投诉内容分类")
        verbose_name_plural = _("投诉内容分类")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Time limits for one severity (docs/procedures.md §4). office=None is the company default; an office row overrides it."""

    class CallbackBy(models.TextChoices):
        SUPERVISOR = "supervisor", _("客服主管及以上")
        MANAGER = "manager", _("客服中心经理或管理处主任")

    office = models.ForeignKey(
        Office,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        verbose_name=_("管理处"),
    )
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    forward_minutes = models.PositiveIntegerField(_("转呈时限(分钟)"))
    night_waits_for_morning = models.BooleanField(
        _("夜间受理次日上班起算"),
        default=FORM_DEFAULTS["night_waits_for_morning"],
        help_text=_("非工作时间受理的，转呈时限从下一个工作时段开始计算"),
    )
    report_minutes = models.PositiveIntegerField(_("上报公司时限(分钟)"), null=True, blank=True)
    answer_hours = models.PositiveIntegerField(_("承诺答复时限(小时)"), default=FORM_DEFAULTS["answer_hours"])
    answer_in_working_window = models.BooleanField(
        _("承诺答复时间落在工作时段内"),
        default=FORM_DEFAULTS["answer_in_working_window"],
        help_text=_(
            "按小时算出的答复时间若在下班后或节假日，提前到此前最后一个工作时段结束时（至少留出一个完整工作日）；不勾选则按自然小时。"
        ),
    )
    resolve_hours = models.PositiveIntegerField(_("处理时限(小时)"))
    resolve_in_working_hours = models.BooleanField(
        _("处理时限按工作小时计"), default=FORM_DEFAULTS["resolve_in_working_hours"]
    )
    honour_requested_time = models.BooleanField(
        _("不晚于投诉人要求的时间"), default=FORM_DEFAULTS["honour_requested_time"]
    )
    callback_hours = models.PositiveIntegerField(_("回访时限(小时)"), default=FORM_DEFAULTS["callback_hours"])
    callback_in_working_hours = models.BooleanField(
        _("回访时限按工作小时计"), default=FORM_DEFAULTS["callback_in_working_hours"]
    )
    callback_onsite_required = models.BooleanField(
        _("须上门回访"), default=FORM_DEFAULTS["callback_onsite_required"]
    )
    callback_by = models.CharField(
        _("回访人"), max_length=12, choices=CallbackBy.choices, default=FORM_DEFAULTS["callback_by"]
    )
    # The escalation ladder's waits while a deadline stays passed (sla_defaults.ESCALATION_MINUTES).
    escalate_director_minutes = models.PositiveIntegerField(
        _("超时升级至管理处主任(分钟)"),
        default=FORM_DEFAULTS["escalate_director_minutes"],
        help_text=_("时限已过仍未办结：超时提醒后再过多少分钟通知管理处主任。"),
    )
    escalate_company_minutes = models.PositiveIntegerField(
        _("超时升级至公司品质管理部(分钟)"),
        default=FORM_DEFAULTS["escalate_company_minutes"],
        help_text=_("上一级收到升级通知后再过多少分钟通知公司品质管理部。"),
    )
    escalate_executive_minutes = models.PositiveIntegerField(
        _("超时升级至公司领导(分钟)"),
        default=FORM_DEFAULTS["escalate_executive_minutes"],
        help_text=_("上一级收到升级通知后再过多少分钟通知公司领导。"),
    )

    class Meta:
        verbose_name = _("处理时限")
        verbose_name_plural = _("处理时限")
        ordering = ["office__code", "severity"]
        constraints = [
            models.UniqueConstraint(fields=["office", "severity"], name="sla_unique_office_severity"),
            models.UniqueConstraint(
                fields=["severity"], condition=Q(office__isnull=True), name="sla_unique_company_severity"
            ),
        ]

    def __str__(self) -> str:
        scope = self.office.code if self.office is not None else _("公司默认")
        return f"{scope} {self.get_severity_display()}"


class ComplaintQuerySet(models.QuerySet["Complaint"]):
    def visible_to(self, user: User) -> ComplaintQuerySet:
        from .scope import visible_complaints

        return visible_complaints(self, user)

    def open(self) -> ComplaintQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, kind: str | None = None, now: dt.datetime | None = None) -> ComplaintQuerySet:
        from .deadlines import overdue_q

        return self.filter(overdue_q(kind, now))


class Complaint(models.Model):
    # Identity
    number = models.CharField(_("编号"), max_length=30, unique=True, editable=False)
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("管理处")
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    # Intake (docs/procedures.md §2)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("受理时间"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("接待人")
    )
    # 首问负责制: the staff member who first received it; for a complaint a resident filed on line,
    # the first staff member who acts on it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_complaints",
        verbose_name=_("首问负责人"),
    )
    received_by_company = models.BooleanField(_("公司直接受理"), default=False)
    complainant_name = models.CharField(_("投诉人"), max_length=50)
    complainant_phone = models.CharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
        verbose_name=_("住户"),
    )
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("栋/房号"),
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    content = models.TextField(_("投诉内容"))
    search_text = models.TextField(editable=False, blank=True, default="")  # search.complaint_index
    complained_party = models.CharField(_("被投诉部门/人员"), max_length=100, blank=True)
    complained_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("被投诉部门"),
    )
    complained_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints_against",
        verbose_name=_("被投诉人员"),
    )
    # The complainant asked that the staff involved not learn who they are (beyond the default rule).
    anonymous_to_staff = models.BooleanField(_("对涉及的工作人员保密身份"), default=False)
    preferred_contact = models.CharField(
        _("方便联系的时间"), max_length=10, choices=PreferredContact.choices, blank=True
    )
    on_spot_answer = models.TextField(_("当场答复"), blank=True)
    requested_by = models.DateTimeField(_("投诉人要求完成时间"), null=True, blank=True)
    committed_answer_at = models.DateTimeField(_("承诺答复时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("首次答复时间"), null=True, blank=True)

    # Judgement (docs/procedures.md §3)
    nature = models.CharField(_("性质"), max_length=10, choices=Nature.choices, blank=True)
    nature_subtype = models.CharField(_("沟通类型"), max_length=10, choices=NatureSubtype.choices, blank=True)
    is_major = models.BooleanField(_("重大投诉"), default=False)
    # When it was first judged major: the major time limits (report within the hour, …) run from here.
    major_at = models.DateTimeField(_("判定为重大的时间"), null=True, blank=True)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("分类"),
        db_index=False,  # complaint_category_received leads with it
    )
    assessed_at = models.DateTimeField(_("判定时间"), null=True, blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Handling
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
        verbose_name=_("责任部门"),
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_complaints",
        verbose_name=_("处理人"),
    )
    tier = models.PositiveSmallIntegerField(_("处理层级"), choices=Tier.choices, default=Tier.FRONT_LINE)
    forwarded_at = models.DateTimeField(_("转呈时间"), null=True, blank=True)
    reported_at = models.DateTimeField(_("上报公司时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)  # the handler's record, internal
    resolution_told = models.TextField(_("告知投诉人的处理结果"), blank=True)  # the words the complainant got
    called_back_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("整改次数"), default=0)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    close_outcome = models.CharField(_("结案方式"), max_length=20, choices=CloseOutcome.choices, blank=True)
    lesson_cause = models.TextField(_("原因分析"), blank=True)
    lesson_learned = models.TextField(_("经验教训"), blank=True)
    lesson_prevention = models.TextField(_("纠正预防措施"), blank=True)
    decline_reason = models.CharField(
        _("不予受理原因"), max_length=30, choices=DeclineReason.choices, blank=True
    )
    end_note = models.TextField(_("说明"), blank=True)
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
        verbose_name=_("重复投诉于"),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
        verbose_name=_("合并至"),
    )

    # Deadlines: computed on every change (deadlines.py); "overdue" is a query over these columns.
    forward_due_at = models.DateTimeField(_("转呈时限"), null=True, blank=True)
    report_due_at = models.DateTimeField(_("上报时限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("处理时限"), null=True, blank=True)
    callback_due_at = models.DateTimeField(_("回访时限"), null=True, blank=True)
    rectify_due_at = models.DateTimeField(_("整改时限"), null=True, blank=True)
    onsite_callback_required = models.BooleanField(_("须上门回访"), default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = _("投诉")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["office", "received_at"], name="complaint_office_received"),
            models.Index(fields=["received_at"], name="complaint_received"),
            # A category's latest complaints (the report's examples, the list filtered by category).
            models.Index(fields=["category", "received_at"], name="complaint_category_received"),
            # The monthly report's resolution hours (median, 90th percentile) from the index alone.
            models.Index(
                fields=["received_at", "resolved_at", "office", "status"],
                condition=Q(nature="valid", resolved_at__isnull=False),
                name="complaint_valid_resolved",
            ),
            models.Index(fields=["department", "status"], name="complaint_department_status"),
            # Partial indexes on open complaints: the sweep and the queues only look at these.
            models.Index(
                fields=["status", "resolve_due_at"],
                condition=Q(status__in=["received", "dispatched", "in_progress", "resolved", "rectifying"]),
                name="complaint_open_due",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def effective_severity(self) -> str:
        """The severity whose time limits apply: 重大投诉 always runs on the major limits."""
        if self.is_major:
            return Severity.MAJOR
        return self.severity or Severity.GENERAL


class ComplaintCounter(models.Model):
    """Last number used per office and month; incremented under a row lock inside the intake transaction,
    so numbers have no gaps (a rolled-back intake rolls its increment back) and are never reused."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE)
    period = models.CharField(max_length=6)  # YYYYMM
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "period"], name="counter_unique_office_period")
        ]

    def __str__(self) -> str:
        return f"{self.office_id}:{self.period}:{self.last}"


class ComplaintEventQuerySet(models.QuerySet["ComplaintEvent"]):
    """The timeline is append-only, in bulk too."""

    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("ComplaintEvent is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("ComplaintEvent is append-only")


class ComplaintEvent(models.Model):
    """Append-only timeline: the audit trail and the handling record (投诉处理记录表).

    Stores codes and raw values, never translated labels, so it renders in any language.
    """

    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("内部")
        COMPLAINANT = "complainant", _("已告知投诉人")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=20, choices=EventType.choices)
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    changes = models.JSONField(default=dict, blank=True)  # field -> [old, new]
    data = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.INTERNAL)

    objects = ComplaintEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("处理记录")
        verbose_name_plural = _("处理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["complaint", "at"], name="event_complaint_at")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.type} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:  # a row read from the database is never written again
            raise RuntimeError("ComplaintEvent is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("ComplaintEvent is append-only")


class Callback(models.Model):
    """回访记录: one row per callback; the latest decides whether the complaint may close."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="callbacks")
    at = models.DateTimeField(_("回访时间"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callbacks_made",
    )
    method = models.CharField(_("回访方式"), max_length=10, choices=CallbackMethod.choices)
    satisfaction = models.CharField(_("满意度"), max_length=20, choices=Satisfaction.choices)
    words = models.TextField(_("投诉人意见"))
    confirmed = models.BooleanField(_("投诉人已确认/签字"), default=False)
    due_at = models.DateTimeField(_("回访时限"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.method} {self.satisfaction}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        AUDIO = "audio", _("录音")
        VIDEO = "video", _("视频")
        DOCUMENT = "document", _("文档")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    original_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.original_name


class SlaBreach(models.Model):
    """One row per deadline that passed. The unique constraint is what makes the sweep record each
    breach once even when two sweepers run at the same time."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="breaches")
    kind = models.CharField(max_length=10, choices=Deadline.choices)
    due_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    tier = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "kind", "due_at"], name="breach_unique")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M}"
