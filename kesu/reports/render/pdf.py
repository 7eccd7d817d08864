"""The report as PDF (reportlab), with the vendored CJK font embedded: same content as the Word file."""

from __future__ import annotations

import io
from functools import lru_cache
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from kesu.reports.fonts import BOLD, REGULAR, printable

from . import common as c

SANS, SANS_BOLD = "KesuCJKSans", "KesuCJKSans-Bold"
PORTRAIT_WIDTH = A4[0] - 4.4 * cm  # the portrait frame's width
LANDSCAPE_WIDTH = landscape(A4)[0] - 3 * cm  # the landscape frame's width


@lru_cache(maxsize=1)
def _fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(SANS, str(REGULAR)))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, str(BOLD)))
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS)
    addMapping(SANS, 1, 1, SANS_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body", fontName=SANS, fontSize=10.5, leading=17, wordWrap="CJK", firstLineIndent=21
    )
    return {
        "body": base,
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=18,
            leading=26,
            alignment=TA_CENTER,
            firstLineIndent=0,
            spaceAfter=4,
        ),
        "meta": ParagraphStyle(
            "meta",
            parent=base,
            fontSize=9,
            leading=13,
            alignment=TA_CENTER,
            firstLineIndent=0,
            textColor=colors.HexColor("#52606d"),
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=13.5,
            leading=20,
            firstLineIndent=0,
            spaceBefore=10,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=11.5,
            leading=18,
            firstLineIndent=0,
            spaceBefore=6,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11, firstLineIndent=0),
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, firstLineIndent=0),
        "head": ParagraphStyle(
            "head",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=8.5,
            leading=11,
            firstLineIndent=0,
            alignment=TA_CENTER,
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(printable(str(text))), style)


def _table(header, rows, st, *, total_last=False, total_row=-1, col_widths=None, compact=False) -> Table:
    data = [[_p(h, st["head"]) for h in header]]
    for values in rows:
        data.append(
            [
                _p("" if v is None else v, st["small" if compact else "cell"])
                if j == 0
                else printable(str("" if v is None else v))
                for j, v in enumerate(values)
            ]
        )
    t = Table(data, colWidths=col_widths, repeatRows=1, hAlign="CENTER")
    style = [
        ("FONTNAME", (0, 0), (-1, -1), SANS),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5 if compact else 8.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa5b1")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f1")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        # Compact: an annex of 25 offices and its totals fits one landscape page.
        ("TOPPADDING", (0, 0), (-1, -1), 1 if compact else 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 if compact else 2.5),
    ]
    if total_last:
        style += [
            ("BACKGROUND", (0, total_row), (-1, total_row), colors.HexColor("#f2f2f2")),
            ("FONTNAME", (1, total_row), (-1, total_row), SANS_BOLD),
        ]
    t.setStyle(TableStyle(style))
    return t


def _image(png: bytes, width: float) -> Image:
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _footer(canvas, doc) -> None:
    canvas.saveState()
    canvas.setFont(SANS, 8)
    canvas.setFillColor(colors.HexColor("#52606d"))
    w = canvas._pagesize[0]
    canvas.drawCentredString(w / 2, 1.0 * cm, printable(f"{doc.kesu_title} · 第 {doc.page} 页"))
    canvas.restoreState()


def _document(buf: io.BytesIO, report: dict) -> BaseDocTemplate:
    """A4 portrait pages, and landscape ones for the annexes, each with the title and page number."""
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        title=report["title"],
        author=report["issuer"],
        leftMargin=2.2 * cm,
        rightMargin=2.2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
    )
    doc.kesu_title = report["title"]
    doc.addPageTemplates(
        [
            PageTemplate(
                "portrait",
                [Frame(2.2 * cm, 2 * cm, PORTRAIT_WIDTH, A4[1] - 4 * cm, id="p")],
                onPage=_footer,
                pagesize=A4,
            ),
            PageTemplate(
                "landscape",
                [Frame(1.5 * cm, 1.8 * cm, LANDSCAPE_WIDTH, landscape(A4)[1] - 3.6 * cm, id="l")],
                onPage=_footer,
                pagesize=landscape(A4),
            ),
        ]
    )
    return doc


def _masthead(report: dict, st: dict[str, ParagraphStyle]) -> list:
    return [
        _p(report["title"], st["title"]),
        _p(f"{report['issuer']}　{c.issued_on(report)}", st["meta"]),
        _p(c.period_line(report), st["meta"]),
        Spacer(1, 8),
    ]


def _overall(report: dict, charts: dict[str, bytes], st: dict, headings: dict[str, str]) -> list:
    """Company intake (in a company report) and the complaints by nature, with the pie and the trend."""
    story: list = []
    if "direct" in headings:
        story.append(_p(headings["direct"], st["h1"]))
        story.append(_p(c.direct_sentence(report), st["body"]))
    story.append(_p(headings["overall"], st["h1"]))
    story.append(_p(c.nature_sentence(report), st["body"]))
    story.append(Spacer(1, 4))
    story.append(
        # the total is the last row but one: the settled enquiries follow it, in no total
        _table(
            *c.nature_table(report),
            st,
            total_last=True,
            total_row=-2,
            col_widths=[5 * cm, 2.5 * cm, 3 * cm, 4 * cm],
        )
    )
    story.append(_image(charts["nature"], PORTRAIT_WIDTH * 0.72))
    if "trend" in charts:
        story.append(_image(charts["trend"], PORTRAIT_WIDTH * 0.9))
    return story


def _valid(report: dict, charts: dict[str, bytes], st: dict, headings: dict[str, str]) -> list:
    """Valid complaints by category, and (in a company report) by office and the top offices."""
    story: list = [_p(headings["valid"], st["h1"]), _p("（一）按内容分类", st["h2"])]
    story.append(
        _table(
            *c.category_table(report), st, total_last=True, col_widths=[5 * cm, 2.5 * cm, 3 * cm, 2.5 * cm]
        )
    )
    story.append(_image(charts["category"], PORTRAIT_WIDTH * 0.85))
    if report["scope"]["type"] == "office":
        return story
    story.append(_p("（二）按管理处", st["h2"]))
    story.append(
        _table(
            *c.office_table(report),
            st,
            total_last=True,
            col_widths=[5 * cm, 2.2 * cm, 2.8 * cm, 2.5 * cm, 2.2 * cm],
        )
    )
    if c.households_sentence(report):
        story.append(_p(c.households_sentence(report), st["small"]))
    if "office" in charts:
        story.append(_image(charts["office"], PORTRAIT_WIDTH * 0.85))
    if report["top_offices"]:
        story.append(_p("（三）有效投诉较多的管理处", st["h2"]))
        story.extend(_p(c.top_office_sentence(o), st["body"]) for o in report["top_offices"])
    return story


def _kpis(report: dict, st: dict, headings: dict[str, str]) -> list:
    return [
        _p(headings["kpis"], st["h1"]),
        _table(
            *c.kpi_table(report),
            st,
            col_widths=[4.6 * cm, 2 * cm, 2 * cm, 2 * cm, 2.5 * cm, 1.6 * cm, 1.6 * cm],
        ),
    ]


def _summary(report: dict, st: dict, headings: dict[str, str]) -> list:
    story: list = [_p(headings["summary"], st["h1"])]
    for head, paragraphs in c.summary_subsections(report["summary"]):
        block = [_p(head, st["h2"])] + [_p(t, st["body"]) for t in paragraphs[:1]]
        story.append(KeepTogether(block))
        story.extend(_p(t, st["body"]) for t in paragraphs[1:])
    return story


def _annexes(report: dict, st: dict) -> list:
    """The annexes, each on a landscape page, compact enough for 25 offices and their totals."""
    story: list = [NextPageTemplate("landscape")]
    for annex, decimals in c.annexes(report):
        story.append(PageBreak())
        story.append(_p(annex["title"], st["h1"]))
        first = 3.6 * cm
        header, rows = c.annex_table(annex, decimals)
        rest = (LANDSCAPE_WIDTH - first) / (len(header) - 1)
        story.append(
            _table(
                header,
                rows,
                st,
                total_last=True,
                total_row=-2,
                compact=True,
                col_widths=[first] + [min(rest, 3 * cm)] * (len(header) - 1),
            )
        )
    return story


def render_pdf(report: dict, charts: dict[str, bytes]) -> bytes:
    _fonts()
    st = _styles()
    headings = c.section_headings(report)
    buf = io.BytesIO()
    doc = _document(buf, report)
    doc.build(
        [
            *_masthead(report, st),
            *_overall(report, charts, st, headings),
            *_valid(report, charts, st, headings),
            *_kpis(report, st, headings),
            *_summary(report, st, headings),
            *_annexes(report, st),
        ]
    )
    return buf.getvalue()
