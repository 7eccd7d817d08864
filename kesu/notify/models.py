"""The outbox and its delivery settings.

Every notification is first an Outbox row written in the same transaction as the change that caused
it. Deliverers only read and mark rows, so a crashed worker delays a message, never loses it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import DEFAULT_GROUP_KINDS, Kind


class Outbox(models.Model):
    class Channel(models.TextChoices):
        INAPP = "inapp", _("站内通知")
        SMS = "sms", _("短信")
        EMAIL = "email", _("邮件")
        WECOM = "wecom", _("企业微信")
        DINGTALK = "dingtalk", _("钉钉")
        WEBHOOK = "webhook", _("Webhook")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    created_at = models.DateTimeField()
    kind = models.CharField(_("类型"), max_length=40)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)  # phone / e-mail when not a user
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    event = models.ForeignKey(
        "complaints.ComplaintEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    payload = models.JSONField(default=dict, blank=True)
    # The channel uses this to drop a message it already received (a worker may die between
    # sending and marking the row sent).
    delivery_key = models.CharField(max_length=120, unique=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="outbox_pending"),
            models.Index(fields=["user", "read_at"], name="outbox_user_read"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user or self.address}"


def _check_kinds(value: str) -> None:
    known = {k.value for k in Kind}
    unknown = [k for k in _split(value) if k not in known and not k.startswith("overdue_")]
    if unknown:
        raise ValidationError(_("未知的通知类型：%(kinds)s") % {"kinds": "、".join(unknown)})


def _split(value: str) -> list[str]:
    return [k.strip() for k in value.replace("，", ",").split(",") if k.strip()]


def kinds_match(kinds: str, kind: str) -> bool:
    """Does a kinds list ("" = all) cover this kind? "overdue" covers every overdue_* kind."""
    from .choices import family

    wanted = _split(kinds)
    return not wanted or kind in wanted or family(kind) in wanted


class NotificationPreference(models.Model):
    """Where one person hears their notifications besides the in-app list (which always gets them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("用户"),
    )
    email = models.BooleanField(_("邮件"), default=True, help_text=_("发到账号的邮箱地址"))
    sms = models.BooleanField(_("短信"), default=False, help_text=_("发到账号的手机号"))
    wecom_webhook = models.URLField(_("企业微信机器人地址"), max_length=300, blank=True)
    dingtalk_webhook = models.URLField(_("钉钉机器人地址"), max_length=300, blank=True)
    dingtalk_secret = models.CharField(_("钉钉加签密钥"), max_length=100, blank=True)
    kinds = models.CharField(
        _("只转发这些类型"),
        max_length=300,
        blank=True,
        validators=[_check_kinds],
        help_text=_("逗号分隔，如 major,overdue,escalation；留空表示全部。站内通知总是全部保留。"),
    )

    class Meta:
        verbose_name = _("个人通知设置")
        verbose_name_plural = _("个人通知设置")

    def __str__(self) -> str:
        return str(self.user)


class OfficeChannel(models.Model):
    """An office's group robots (企业微信群机器人 / 钉钉群机器人): one message per event to the group."""

    office = models.OneToOneField(
        "org.Office", on_delete=models.CASCADE, related_name="notify_channel", verbose_name=_("管理处")
    )
    wecom_webhook = models.URLField(_("企业微信群机器人地址"), max_length=300, blank=True)
    dingtalk_webhook = models.URLField(_("钉钉群机器人地址"), max_length=300, blank=True)
    dingtalk_secret = models.CharField(_("钉钉加签密钥"), max_length=100, blank=True)
    kinds = models.CharField(
        _("发到群里的类型"),
        max_length=300,
        default=DEFAULT_GROUP_KINDS,
        validators=[_check_kinds],
        help_text=_("逗号分隔；留空表示全部。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("管理处群通知")
        verbose_name_plural = _("管理处群通知")

    def __str__(self) -> str:
        return str(self.office)


class MessageTemplate(models.Model):
    """An admin's wording for one kind of message (Django template syntax over a safe context)."""

    class Audience(models.TextChoices):
        ANY = "", _("所有渠道")
        INAPP = "inapp", _("员工（站内通知及转发）")
        SMS = "sms", _("短信")

    kind = models.CharField(_("通知类型"), max_length=40, choices=Kind.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Audience.choices, blank=True, default="")
    subject = models.CharField(_("标题模板"), max_length=200)
    body = models.TextField(_("内容模板"))
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知模板")
        verbose_name_plural = _("通知模板")
        ordering = ["kind", "channel"]
        constraints = [models.UniqueConstraint(fields=["kind", "channel"], name="template_unique_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_channel_display()}"

    def clean(self) -> None:
        from .messages import check_template

        errors = {}
        for field in ("subject", "body"):
            problem = check_template(getattr(self, field))
            if problem:
                errors[field] = problem
        if errors:
            raise ValidationError(errors)


class DueSoonWarning(models.Model):
    """A "deadline about to pass" warning, recorded once per deadline (unique) by whichever sweep wins."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)
    due_at = models.DateTimeField()
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind", "due_at"], name="due_soon_unique")
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M}"


class Escalation(models.Model):
    """A passed deadline escalated to one more tier of the ladder; once per breach and tier."""

    breach = models.ForeignKey("complaints.SlaBreach", on_delete=models.CASCADE, related_name="escalations")
    tier = models.PositiveSmallIntegerField()
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("超时升级")
        verbose_name_plural = _("超时升级")
        constraints = [models.UniqueConstraint(fields=["breach", "tier"], name="escalation_unique")]

    def __str__(self) -> str:
        return f"{self.breach_id} → {self.tier}"


class DigestRun(models.Model):
    """The morning digest was built for this date (the first sweep after the digest time claims it)."""

    date = models.DateField(unique=True)
    at = models.DateTimeField()
    messages = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.date)
