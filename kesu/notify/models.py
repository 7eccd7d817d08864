"""The outbox: every notification is first a row written in the same transaction as the change
that caused it. Workers only deliver rows, so a crashed worker delays a message, never loses it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


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
