"""What the portal keeps besides the complaint itself: sign-in codes and the resident's wishes at intake."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import PreferredContact


class LoginCode(models.Model):
    """One SMS sign-in code (短信验证码). Only a keyed hash is stored; the newest code of a phone is the
    only one that can work, once, within its lifetime and a few tries.

    A row is written for every request, also for phones that are not registered (`known` False, and
    nothing is sent): the answers, limits and timing are then the same whether a number is known or
    not, so the sign-in page cannot be used to find out who lives in the estate."""

    phone = models.CharField(max_length=20)
    nonce = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    known = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["phone", "created_at"], name="portal_code_phone_created")]

    def __str__(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.created_at:%Y-%m-%d %H:%M}"


class PortalSubmission(models.Model):
    """A complaint filed through the portal, with what the complaint record has no field for yet:
    the resident's wish to stay anonymous towards the staff involved and when to call them.

    `key` is the form's one-time key: a double tap or a resent form files one complaint, not two."""

    complaint = models.OneToOneField(
        "complaints.Complaint",
        on_delete=models.CASCADE,
        related_name="portal_submission",
        verbose_name=_("投诉"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("住户")
    )
    key = models.UUIDField(unique=True)
    anonymous = models.BooleanField(_("对涉及的工作人员保密身份"), default=False)
    preferred_contact = models.CharField(
        _("方便联系的时间"), max_length=10, choices=PreferredContact.choices, default=PreferredContact.ANY
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("住户端提交")
        verbose_name_plural = _("住户端提交")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.complaint_id)
