"""Kinds of notification: the codes outbox rows, templates and preferences use."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    # To the complainant (SMS)
    ACK = "ack", _("受理回执（投诉人）")
    PROGRESS = "progress", _("处理进展（投诉人）")
    RESULT = "result", _("处理结果（投诉人）")
    DECLINED = "declined", _("不予受理（投诉人）")
    PROMISE = "promise", _("答复时间提前（投诉人）")
    COMPANY = "company", _("转公司处理（投诉人）")
    # To staff
    NIGHT = "night", _("夜间新投诉")
    ONLINE = "online", _("网上新投诉")
    DISPATCHED = "dispatched", _("新派单")
    MAJOR = "major", _("重大投诉")
    CALLBACK_DUE = "callback_due", _("待回访")
    REOPENED = "reopened", _("整改")
    ESCALATED = "escalated", _("人工升级")
    REPORTED = "reported", _("重大投诉上报公司")
    OVERDUE = "overdue", _("超时（所有 overdue_* 类型）")
    DUE_SOON = "due_soon", _("即将超时")
    ESCALATION = "escalation", _("超时逐级升级")
    DIGEST = "digest", _("每日超时汇总")
    MONTHLY_REPORT = "monthly_report", _("月度投诉报告（品质管理部）")


def family(kind: str) -> str:
    """overdue_resolve → overdue: templates and filters may name the family instead of each kind."""
    return "overdue" if kind.startswith("overdue_") else kind


# Kinds an office's group robot (WeCom/DingTalk) hears by default: what the whole office should see.
DEFAULT_GROUP_KINDS = "major,night,overdue,escalated,escalation"
