"""Input checks shared by every entry point (forms, API, CLI, demo)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_CONTENT_CHARS = 5000
MAX_TEXT_CHARS = 5000

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code (010-12345678, 0755-1234567), optional extension; or an 8-digit local number.
_LANDLINE = re.compile(r"^(0\d{2,3})?[2-9]\d{6,7}(?:转\d{1,6}|-\d{1,6})?$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalize_phone(raw: str) -> str:
    """Return a canonical phone number (digits, area code joined), or raise ValidationError."""
    value = (raw or "").strip()
    if not value:
        return ""
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    # Keep an extension marker, strip the rest of the punctuation.
    ext = ""
    for marker in ("转", "ext", "#"):
        if marker in value:
            value, ext = value.split(marker, 1)
            ext = "转" + re.sub(r"\D", "", ext)
            break
    digits = _SEPARATORS.sub("", value)
    candidate = digits + ext
    if _MOBILE.match(digits) or _LANDLINE.match(candidate):
        return candidate
    raise ValidationError(_("“%(value)s”不是有效的电话号码。") % {"value": raw[:30]}, code="invalid_phone")


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "****" + phone[-4:]
    if len(phone) > 4:
        return "*" * (len(phone) - 4) + phone[-4:]
    return "****"


def mask_name(name: str) -> str:
    """张** : the surname only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def clean_text(value: str | None, field: str, *, required: bool, max_chars: int = MAX_TEXT_CHARS) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("此项必填。")}, code="required")
    if len(text) > max_chars:
        raise ValidationError(
            {field: _("内容过长：最多 %(max)d 字，当前 %(n)d 字。") % {"max": max_chars, "n": len(text)}},
            code="too_long",
        )
    return text
