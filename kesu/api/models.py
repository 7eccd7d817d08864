"""Integration keys, idempotency records and webhook subscriptions of the REST API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kesu.org.models import Office

# Complaint events a webhook may subscribe to: the nine, plus the other ways a complaint ends
# (an integration mirroring complaints must hear that one was declined, withdrawn or merged).
WEBHOOK_EVENTS: tuple[str, ...] = (
    "registered",
    "assessed",
    "dispatched",
    "overdue",
    "escalated",
    "reported",
    "resolved",
    "called_back",
    "reopened",
    "closed",
    "declined",
    "withdrawn",
    "merged",
)


class ApiKey(models.Model):
    """An integration key. Only the SHA-256 of the key is stored; the key is shown once, when made.

    The key acts as its user, limited further to `offices` (none: all of the user's) and `scope`.
    """

    class Scope(models.TextChoices):
        READ = "read", _("只读")
        WRITE = "write", _("读写")

    name = models.CharField(_("名称"), max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("用户")
    )
    # The first characters of the key, kept to recognise it in lists and logs ("kesu_Ab12Cd34").
    prefix = models.CharField(_("前缀"), max_length=20, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    offices = models.ManyToManyField(
        Office,
        blank=True,
        related_name="+",
        verbose_name=_("限定管理处"),
        help_text=_("不选：用户的全部管理处"),
    )
    scope = models.CharField(_("权限"), max_length=5, choices=Scope.choices, default=Scope.WRITE)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first response to a POST made with an `Idempotency-Key`, replayed for repeats.

    The row is inserted in the same transaction as the change the request makes, before it: a
    concurrent identical request blocks on the unique index until the first commits, then replays it.
    """

    principal = models.CharField(max_length=40)  # "key:<id>" or "user:<id>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and the parsed body
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class WebhookSubscription(models.Model):
    """POST a signed JSON body to `url` for each chosen event of a complaint in `offices`.

    Deliveries are outbox rows written in the same transaction as the change; `secret` signs them
    (HMAC-SHA256, header X-Kesu-Signature), so it is stored as given, not hashed.
    """

    name = models.CharField(_("名称"), max_length=100, blank=True)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=100)
    events = models.JSONField(_("事件"), default=list)
    offices = models.ManyToManyField(
        Office,
        blank=True,
        related_name="+",
        verbose_name=_("管理处"),
        help_text=_("不选：所有者可见的全部管理处"),
    )
    # Deliveries carry what this user may see (scope and complainant confidentiality).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
        verbose_name=_("所有者"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.url
