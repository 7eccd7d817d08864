"""Message wording: Chinese templates, editable by admins (通知模板), over a small safe context.

Templates use Django template syntax but see only strings (number, office, masked unit, category,
severity, deadline, link, …), never model objects, so a template cannot reach the complainant's
identity or anything else. A template that fails to render falls back to the built-in text.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils import timezone

from .choices import family
from .models import MessageTemplate

log = logging.getLogger("kesu.notify")

# The built-in wording (subject, body) by kind, in the same syntax admins use.
SUMMARY = "{{ office }} · {{ category }} · {{ content }}"
DEFAULTS: dict[str, tuple[str, str]] = {
    "ack": (
        "投诉 {{ number }}",
        "{% if on_spot %}您的投诉（编号 {{ number }}）已受理并当场答复，感谢您的监督。"
        "{% else %}您的投诉已受理，编号 {{ number }}，我们将于 {{ deadline }} 前给您答复。{% endif %}",
    ),
    "progress": ("投诉 {{ number }}", "您的投诉 {{ number }} 有新进展：{{ note }}"),
    "promise": (
        "投诉 {{ number }}",
        "您的投诉 {{ number }} 已列为重点处理，我们将提前于 {{ deadline }} 前给您答复。",
    ),
    "result": (
        "投诉 {{ number }}",
        "您的投诉 {{ number }} 已处理：{{ resolution }}"
        "{% if portal_link %} 请评价并确认：{{ portal_link }}{% endif %}",
    ),
    "declined": ("投诉 {{ number }}", "您的投诉 {{ number }} 不予受理，原因：{{ note }}"),
    "company": (
        "投诉 {{ number }}",
        "您的投诉 {{ number }} 已转由{{ handler }}处理"
        "{% if deadline %}，我们将于 {{ deadline }} 前给您答复{% endif %}。",
    ),
    "night": ("夜间新投诉 {{ number }}", SUMMARY),
    "online": ("网上新投诉 {{ number }}", "住户在网上提交了投诉，请及时受理。" + SUMMARY),
    "dispatched": ("新派单 {{ number }}", "请于 {{ deadline }} 前处理完毕。" + SUMMARY),
    "major": (
        "重大投诉 {{ number }}",
        "重大投诉，请立即处理；须于 {{ deadline }} 前上报公司。" + SUMMARY,
    ),
    "callback_due": ("待回访 {{ number }}", "请于 {{ deadline }} 前回访。" + SUMMARY),
    "reopened": ("投诉整改 {{ number }}", "投诉人不满意，须于 {{ deadline }} 前整改完毕。" + SUMMARY),
    "escalated": ("投诉升级 {{ number }}", "已升级至您处理，原因：{{ note }}。" + SUMMARY),
    "reported": ("重大投诉上报 {{ number }}", "{{ office }}上报重大投诉：{{ note }}" + SUMMARY),
    "overdue": ("投诉超时 {{ number }}", "{{ deadline_label }}：时限 {{ deadline }} 已过。" + SUMMARY),
    "due_soon": (
        "即将超时 {{ number }}",
        "{{ deadline_label }}：时限 {{ deadline }} 即将到期，请及时处理。" + SUMMARY,
    ),
    "escalation": (
        "超时升级 {{ number }}",
        "{{ deadline_label }}：时限 {{ deadline }} 已过 {{ overdue_for }} 仍未办结，升级至{{ tier }}。"
        + SUMMARY,
    ),
    "digest": (
        "超时投诉汇总 {{ date }}",
        "截至 {{ time }}，您负责的范围内有 {{ count }} 件超时投诉：\n{{ lines }}",
    ),
    "monthly_report": (
        "{{ title }}",
        "{{ title }}已生成：受理投诉 {{ total }} 宗，有效投诉 {{ valid }} 宗，重大投诉 {{ major }} 宗；"
        "有效投诉处理及时率 {{ in_time }}，回访满意率 {{ satisfaction }}。\n\n{{ summary }}",
    ),
}

# What admins may use in templates (shown in the admin as help).
VARIABLES: dict[str, str] = {
    "number": "投诉编号",
    "office": "管理处名称",
    "office_code": "管理处编码",
    "unit": "栋/房号（部分隐藏，如 3栋-12**）",
    "category": "投诉分类",
    "severity": "严重程度",
    "content": "投诉内容（前40字）",
    "deadline": "相关时限（如 2026-03-12 10:00）",
    "deadline_label": "时限类型（如 处理超时）",
    "link": "投诉详情链接",
    "note": "说明/原因/进展",
    "resolution": "处理结果",
    "tier": "升级到的层级",
    "handler": "现由谁处理（转公司处理短信，如 公司品质管理部）",
    "overdue_for": "已超时多久",
    "on_spot": "是否当场答复",
    "portal_link": "住户查看、评价和确认的链接（处理结果短信）",
    "date / time / count / lines": "每日汇总：日期、时间、件数、明细",
    "title / total / valid / major / in_time / satisfaction / summary": "月报：标题、受理、有效、重大、处理及时率、回访满意率、总结",
}

_engine = Engine(debug=False, autoescape=False, libraries={}, loaders=[])


@lru_cache(maxsize=256)
def _compile(source: str) -> Template:
    return _engine.from_string(source)


def check_template(source: str) -> str:
    """An error message when the template does not compile, else ""."""
    try:
        _compile(source)
    except TemplateSyntaxError as e:
        return f"模板语法错误：{e}"
    return ""


def render_text(source: str, context: dict[str, object]) -> str:
    return _compile(source).render(Context(context, autoescape=False)).strip()


_CACHE_KEY = "kesu:notify-templates"


def _templates() -> dict[tuple[str, str], tuple[str, str]]:
    # The cache may be Redis (scaled mode): an outage there must not stop a complaint being
    # registered, so any cache error just means reading the (small) table.
    try:
        rows = cache.get(_CACHE_KEY)
    except Exception:
        rows, cached = None, False
    else:
        cached = True
    if rows is None:
        rows = {
            (t.kind, t.channel): (t.subject, t.body)
            for t in MessageTemplate.objects.filter(is_active=True).only("kind", "channel", "subject", "body")
        }
        if cached:
            _quietly(cache.set, _CACHE_KEY, rows, 60)
    return rows


def _quietly(call, *args) -> None:
    try:
        call(*args)
    except Exception:
        log.warning("cache unavailable for notification templates", exc_info=True)


@receiver([post_save, post_delete], sender=MessageTemplate)
def _forget_templates(**kwargs) -> None:
    _quietly(cache.delete, _CACHE_KEY)
    transaction.on_commit(lambda: _quietly(cache.delete, _CACHE_KEY))


def render(kind: str, channel: str, context: dict[str, object]) -> tuple[str, str]:
    """(subject, body) for a message: the admin's template for this kind (and channel) if there is
    one, else the built-in text."""
    fam = family(kind)
    audience = "sms" if channel == "sms" else "inapp"
    rows = _templates()
    custom = next(
        (rows[key] for key in ((kind, audience), (kind, ""), (fam, audience), (fam, "")) if key in rows), None
    )
    default = DEFAULTS.get(kind) or DEFAULTS.get(fam) or ("{{ number }}", SUMMARY)
    if custom is not None:
        try:
            return _clip(render_text(custom[0], context)), render_text(custom[1], context)
        except Exception:  # an admin's template must never stop a complaint being registered
            log.exception("notification template for %s failed; using the built-in text", kind)
    return _clip(render_text(default[0], context)), render_text(default[1], context)


def _clip(subject: str) -> str:
    return subject.replace("\n", " ")[:200]


def fmt(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def mask_unit(code: str) -> str:
    """Y01-3栋-1201 → 3栋-12**: enough to place the problem, not to identify the home."""
    parts = code.split("-")
    building, number = (parts[-2], parts[-1]) if len(parts) >= 3 else ("", parts[-1])
    keep = len(number) // 2
    masked = number[:keep] + "*" * (len(number) - keep)
    return f"{building}-{masked}" if building else masked


def complaint_link(number: str) -> str:
    return f"{settings.KESU_BASE_URL.rstrip('/')}/complaints/{number}/"


def duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{hours // 24}天{hours % 24}小时"
