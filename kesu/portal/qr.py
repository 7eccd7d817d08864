"""A4 sheets of QR codes, one per building, that open the portal with the office and building chosen
(for lifts, notice boards and building entrances). Labels use the vendored CJK font."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from kesu.org.models import Building, Office
from kesu.reports import fonts

FONT, FONT_BOLD = "KesuPortalSans", "KesuPortalSans-Bold"
COLUMNS, ROWS = 3, 4
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 12 * mm, 26 * mm, 14 * mm
QR_SIZE = 40 * mm


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(fonts.REGULAR)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts.BOLD)))


def building_url(office: Office, building: Building | None = None, base: str | None = None) -> str:
    params = {"o": office.code}
    if building is not None:
        params["b"] = str(building.pk)
    root = (base or settings.KESU_PORTAL_BASE_URL).rstrip("/")
    return f"{root}{reverse('portal:home')}?{urlencode(params)}"


def _draw_qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """Vector modules (sharp at any printer resolution), one rectangle per run of dark modules."""
    qr = segno.make(data, error="m")
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=2)]
    module = size / len(rows)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        top = y + size - (r + 1) * module
        start = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                c.rect(x + start * module, top, (col - start) * module, module, stroke=0, fill=1)
                start = None


def _natural(building: Building) -> tuple:
    """3栋 before 10栋."""
    parts = re.split(r"(\d+)", building.name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p), building.pk


def _text(value: str) -> str:
    return fonts.printable(value)


def sheet(office: Office, base: str | None = None) -> bytes:
    """The PDF for one office: its portal code first, then one code per building."""
    _register_fonts()
    buildings = sorted(Building.objects.filter(office=office), key=_natural)
    cells: list[tuple[str, str]] = [(_("全小区"), building_url(office, None, base))]
    cells += [(b.name, building_url(office, b, base)) for b in buildings]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(_("%(office)s 住户服务二维码") % {"office": office.name})
    c.setAuthor(_("客诉 Kesu"))
    width, height = A4
    cell_w = (width - 2 * MARGIN_X) / COLUMNS
    cell_h = (height - MARGIN_TOP - MARGIN_BOTTOM) / ROWS
    per_page = COLUMNS * ROWS
    pages = (len(cells) + per_page - 1) // per_page
    printed = timezone.localtime().strftime("%Y-%m-%d")
    for page in range(pages):
        c.setFont(FONT_BOLD, 16)
        c.drawString(
            MARGIN_X,
            height - 15 * mm,
            _text(_("%(office)s（%(code)s）住户服务二维码") % {"office": office.name, "code": office.code}),
        )
        c.setFont(FONT, 9)
        c.drawString(
            MARGIN_X,
            height - 21 * mm,
            _text(_("请沿虚线剪下，贴在电梯、单元门口或公告栏。住户用手机扫码即可反映问题、查看处理进度。")),
        )
        c.drawRightString(
            width - MARGIN_X,
            8 * mm,
            _text(
                _("第 %(page)s/%(pages)s 页 · 打印于 %(date)s")
                % {"page": page + 1, "pages": pages, "date": printed}
            ),
        )
        c.drawString(MARGIN_X, 8 * mm, _text(_("客诉 Kesu")))
        for i, (label, url) in enumerate(cells[page * per_page : (page + 1) * per_page]):
            col, row = i % COLUMNS, i // COLUMNS
            x0 = MARGIN_X + col * cell_w
            y0 = height - MARGIN_TOP - (row + 1) * cell_h
            c.setDash(3, 3)
            c.setStrokeColorRGB(0.6, 0.6, 0.6)
            c.setLineWidth(0.5)
            c.rect(x0, y0, cell_w, cell_h, stroke=1, fill=0)
            c.setDash()
            cx = x0 + cell_w / 2
            c.setFillColorRGB(0, 0, 0)
            c.setFont(FONT_BOLD, 18)
            c.drawCentredString(cx, y0 + cell_h - 10 * mm, _text(label))
            _draw_qr(c, url, cx - QR_SIZE / 2, y0 + 10 * mm, QR_SIZE)
            c.setFont(FONT, 10)
            c.drawCentredString(
                cx, y0 + 5 * mm, _text(_("%(office)s · 扫码反映问题") % {"office": office.name})
            )
        c.showPage()
    c.save()
    return buf.getvalue()
