"""Codes the portal stores (labels are what residents see)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PreferredContact(models.TextChoices):
    """When the resident would like to be called (方便联系的时间)."""

    ANY = "any", _("随时")
    WORKDAY = "workday", _("工作日白天")
    EVENING = "evening", _("晚上")
    WEEKEND = "weekend", _("周末")
