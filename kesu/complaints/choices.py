"""Stable codes (GLOSSARY.md): the database, API and exports use the codes; labels are for display."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    RECEIVED = "received", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已处理待回访")
    RECTIFYING = "rectifying", _("整改中")
    CLOSED = "closed", _("已完结")
    DECLINED = "declined", _("不予受理")
    WITHDRAWN = "withdrawn", _("已撤回")
    MERGED = "merged", _("已合并")


TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.DECLINED, Status.WITHDRAWN, Status.MERGED})
OPEN_STATUSES = frozenset(set(Status) - TERMINAL_STATUSES)
# Statuses in which the problem itself is still being worked on (the resolve clock runs).
WORKING_STATUSES = frozenset({Status.RECEIVED, Status.DISPATCHED, Status.IN_PROGRESS})
# Statuses in which the problem is not (or no longer) resolved: still worked on, or being rectified
# after a dissatisfied callback (整改中, whose own clock is the rectification deadline).
UNRESOLVED_STATUSES = WORKING_STATUSES | {Status.RECTIFYING}


class Nature(models.TextChoices):
    VALID = "valid", _("有效投诉")
    ASSIST = "assist", _("协助处理投诉")
    INVALID = "invalid", _("无效投诉")


class NatureSubtype(models.TextChoices):
    """Optional sub-type of non-valid (沟通性) complaints used by some procedures."""

    HELP = "help", _("求助型")
    ENQUIRY = "enquiry", _("咨询型")
    VENTING = "venting", _("发泄型")


class Severity(models.TextChoices):
    MAJOR = "major", _("重大")
    GENERAL = "general", _("一般")
    MINOR = "minor", _("轻微")


class Channel(models.TextChoices):
    PHONE = "phone", _("来电")
    VISIT = "visit", _("来访")
    LETTER = "letter", _("来函")
    ONLINE = "online", _("网上")
    WECHAT = "wechat", _("微信")
    EMAIL = "email", _("邮件")
    MEDIA = "media", _("媒体")
    REFERRAL = "referral", _("转办(如12345)")
    OTHER = "other", _("其他")


class PreferredContact(models.TextChoices):
    """When the complainant would like to be called (方便联系的时间)."""

    ANY = "any", _("随时")
    WORKDAY = "workday", _("工作日白天")
    EVENING = "evening", _("晚上")
    WEEKEND = "weekend", _("周末")


class CallbackMethod(models.TextChoices):
    PHONE = "phone", _("电话回访")
    ONSITE = "onsite", _("上门回访")
    OTHER = "other", _("其他")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


SATISFIED_VALUES = frozenset({Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED})


class CloseOutcome(models.TextChoices):
    """How a complaint ended (docs/procedures.md §5, other ends; withdrawal is its own status)."""

    RESOLVED = "resolved", _("处理完毕，投诉人满意")
    FACTS_UNTRUE = "facts_untrue", _("经核实情况不属实")
    NON_COOPERATION = "non_cooperation", _("投诉人不予配合")
    LITIGATION = "litigation", _("已进入诉讼或仲裁")
    MEDIATION = "mediation", _("经调解解决")


class DeclineReason(models.TextChoices):
    OUTSIDE_RESPONSIBILITY = "outside_responsibility", _("不属于公司责任范围")
    IN_LITIGATION = "in_litigation", _("已进入诉讼或仲裁")
    NO_FACTS = "no_facts", _("无具体事实")
    OTHER = "other", _("其他")


class Tier(models.IntegerChoices):
    """Handling tiers of the escalation ladder (docs/procedures.md §4): front line → managers → executive."""

    FRONT_LINE = 0, _("一线处理")
    CS_MANAGER = 1, _("客服中心经理")
    DIRECTOR = 2, _("管理处主任")
    COMPANY = 3, _("公司品质管理部")
    EXECUTIVE = 4, _("公司领导")


class ReportTarget(models.TextChoices):
    """Whom the office reports a major complaint to (重大投诉上报): both, within the hour by default."""

    QUALITY = "quality", _("公司品质管理部")
    EXECUTIVE = "executive", _("公司领导")


class Deadline(models.TextChoices):
    """Kinds of deadline (and so of overdue) a complaint can have."""

    FORWARD = "forward", _("转呈超时")
    REPORT = "report", _("上报超时")
    ANSWER = "answer", _("承诺答复超时")
    RESOLVE = "resolve", _("处理超时")
    RECTIFY = "rectify", _("整改超时")
    CALLBACK = "callback", _("回访超时")


class EventType(models.TextChoices):
    REGISTERED = "registered", _("登记受理")
    ASSESSED = "assessed", _("判定")
    DISPATCHED = "dispatched", _("转呈/派单")
    ACCEPTED = "accepted", _("接单处理")
    NOTE = "note", _("处理进展")
    ESCALATED = "escalated", _("升级上报")
    REPORTED = "reported", _("上报公司")
    RESOLVED = "resolved", _("处理完毕")
    CALLED_BACK = "called_back", _("回访")
    REOPENED = "reopened", _("整改")
    CLOSED = "closed", _("结案")
    DECLINED = "declined", _("不予受理")
    WITHDRAWN = "withdrawn", _("撤回")
    LINKED = "linked", _("关联重复投诉")
    MERGED = "merged", _("合并")
    MERGED_IN = "merged_in", _("并入投诉")
    ATTACHMENT_ADDED = "attachment_added", _("添加附件")
    OVERDUE = "overdue", _("超时")
    CONTACT_REVEALED = "contact_revealed", _("查看联系方式")
