"""Plain-language labels and small inline SVG icons for the content categories (no icon font, no
third-party script; the markup is ours, so it is safe to render as is)."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

_SVG = (
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" '
    'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">{}</svg>'
)
_PATHS = {
    "facilities": '<path d="M9 18h6M10 21h4M12 3a6 6 0 0 0-3.5 10.9V16h7v-2.1A6 6 0 0 0 12 3z"/>',
    "security": '<path d="M12 3l7 3v5.5c0 4.6-3 7.9-7 9.5-4-1.6-7-4.9-7-9.5V6z"/><path d="M9 12l2 2 4-4"/>',
    "fire": '<path d="M12 21c3.9 0 6.5-2.7 6.5-6.3 0-3.6-2.6-5.5-3.9-8.7-1 1.9-1.9 2.8-2.9 2.8 '
    '0-2.6-.9-4.6-2.6-5.8 0 4-4.6 5.9-4.6 11.2C4.5 18 7.8 21 12 21z"/>',
    "traffic": '<path d="M3 16v-4l2.2-5h13.6L21 12v4zM3 16v3h3v-3M18 16v3h3v-3"/>'
    '<path d="M7 13h.01M17 13h.01"/>',
    "environment": '<path d="M5 20c0-8.5 5.5-14.5 15-15-.5 9.5-6.5 15-15 15z"/><path d="M5 20l7.5-7.5"/>',
    "construction": '<path d="M3 21l9.5-9.5"/><path d="M11 6l3-3 7 7-3 3z"/><path d="M12.5 7.5l4 4"/>',
    "fees": '<circle cx="12" cy="12" r="9"/><path d="M8.5 6.5L12 11.5l3.5-5M12 11.5V18M8.5 12.5h7M8.5 15.5h7"/>',
    "clubhouse": '<path d="M4 9h12v4a5 5 0 0 1-5 5H9a5 5 0 0 1-5-5z"/><path d="M16 10.5h1.5a2.5 2.5 0 0 1 0 5H16"/>'
    '<path d="M7 3v3M10.5 3v3M14 3v3"/>',
    "service": '<path d="M4 5h16v11H10l-5 4v-4H4z"/><path d="M8 9.5h8M8 12.5h5"/>',
    "home_service": '<path d="M3 11.5L12 4l9 7.5"/><path d="M5.5 10v10h13V10"/><path d="M10 20v-5h4v5"/>',
    "other": '<circle cx="12" cy="12" r="9"/><path d="M9.6 9.3a2.5 2.5 0 1 1 3.4 2.3c-.6.3-1 .8-1 1.5v.6"/>'
    '<path d="M12 16.8h.01"/>',
}
# (short plain label, what it covers) by category code; other codes use the company's own wording.
_WORDS = {
    "facilities": (_("电梯水电"), _("电梯、水电、照明、漏水")),
    "security": (_("治安门禁"), _("保安、门禁、陌生人")),
    "fire": (_("消防安全"), _("消防通道、灭火器")),
    "traffic": (_("停车交通"), _("停车、车位、车库")),
    "environment": (_("卫生噪音"), _("垃圾、保洁、绿化、噪音")),
    "construction": (_("装修施工"), _("装修、施工")),
    "fees": (_("物业收费"), _("物业费和其他收费")),
    "clubhouse": (_("会所"), _("会所服务")),
    "service": (_("服务态度"), _("态度、回应慢")),
    "home_service": (_("上门维修"), _("家里的维修服务")),
}


def svg(name: str) -> SafeString:
    return mark_safe(_SVG.format(_PATHS.get(name, _PATHS["other"])))  # noqa: S308 - our own constant markup


def for_category(code: str, name: str, description: str = "") -> dict[str, object]:
    label, hint = _WORDS.get(code, (name, description))
    return {"svg": svg(code), "label": label, "hint": hint}


_FACES = {
    "satisfied": '<circle cx="12" cy="12" r="9"/><path d="M8 14c1 1.6 2.3 2.4 4 2.4s3-.8 4-2.4"/>'
    '<path d="M9 9.5h.01M15 9.5h.01"/>',
    "basically_satisfied": '<circle cx="12" cy="12" r="9"/><path d="M8.5 15h7"/><path d="M9 9.5h.01M15 9.5h.01"/>',
    "dissatisfied": '<circle cx="12" cy="12" r="9"/><path d="M8 16.4c1-1.6 2.3-2.4 4-2.4s3 .8 4 2.4"/>'
    '<path d="M9 9.5h.01M15 9.5h.01"/>',
}


def faces() -> list[dict[str, object]]:
    """The three ratings with a face each (满意 / 基本满意 / 不满意)."""
    from kesu.complaints.choices import Satisfaction

    return [
        {"value": value, "label": label, "svg": mark_safe(_SVG.format(_FACES[value]))}  # noqa: S308
        for value, label in Satisfaction.choices
    ]
