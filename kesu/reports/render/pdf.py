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


def render_pdf(report: dict, charts: dict[str, bytes]) -> bytes:
    _fonts()
    st = _styles()
    buf = io.BytesIO()
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
    pw, ph = A4
    lw, lh = landscape(A4)
    doc.addPageTemplates(
        [
            PageTemplate(
                "portrait",
                [Frame(2.2 * cm, 2 * cm, pw - 4.4 * cm, ph - 4 * cm, id="p")],
                onPage=_footer,
                pagesize=A4,
            ),
            PageTemplate(
                "landscape",
                [Frame(1.5 * cm, 1.8 * cm, lw - 3 * cm, lh - 3.6 * cm, id="l")],
                onPage=_footer,
                pagesize=landscape(A4),
            ),
        ]
    )
    width = pw - 4.4 * cm
    prev = report["previous"]
    company = report["scope"]["type"] != "office"
    story: list = [
        _p(report["title"], st["title"]),
        _p(f"{report['issuer']}　{c.issued_on(report)}", st["meta"]),
        _p(c.period_line(report), st["meta"]),
        Spacer(1, 8),
    ]
    n = 0

    def h1(text: str) -> None:
        nonlocal n
        story.append(_p(f"{c.CN_NUMS[n]}、{text}", st["h1"]))
        n += 1

    if company:
        h1("公司直接受理投诉情况")
        story.append(_p(c.direct_sentence(report), st["body"]))
    h1("投诉总体情况")
    story.append(_p(c.nature_sentence(report), st["body"]))
    story.append(Spacer(1, 4))
    story.append(
        _table(
            ["性质", "宗数", "占投诉总数", f"上期（{prev['period']['label']}）"],
            [
                [v["name"], v["count"], c.pct(v["share"], 2), prev["by_nature"][k]["count"]]
                for k, v in report["by_nature"].items()
            ]
            + [["合计", report["total"], c.pct(100.0 if report["total"] else None, 2), prev["total"]]],
            st,
            total_last=True,
            col_widths=[5 * cm, 2.5 * cm, 3 * cm, 4 * cm],
        )
    )
    story.append(_image(charts["nature"], width * 0.72))
    if "trend" in charts:
        story.append(_image(charts["trend"], width * 0.9))

    h1("有效投诉分析")
    story.append(_p("（一）按内容分类", st["h2"]))
    prev_cat = {x["code"]: x["count"] for x in prev["valid_by_category"]}
    story.append(
        _table(
            ["分类", "宗数", "占有效投诉", "上期"],
            [
                [x["name"], x["count"], c.pct(x["share"], 1), prev_cat.get(x["code"], 0)]
                for x in report["valid_by_category"]
            ]
            + [["合计", report["valid"], c.pct(100.0 if report["valid"] else None, 1), prev["valid"]]],
            st,
            total_last=True,
            col_widths=[5 * cm, 2.5 * cm, 3 * cm, 2.5 * cm],
        )
    )
    story.append(_image(charts["category"], width * 0.85))
    if company:
        story.append(_p("（二）按管理处", st["h2"]))
        prev_off = {x["code"]: x["count"] for x in prev["valid_by_office"]}
        story.append(
            _table(
                ["管理处", "宗数", "占有效投诉", "占户数", "上期"],
                [
                    [
                        x["name"],
                        x["count"],
                        c.pct(x["share"], 1),
                        c.pct(x["per_100_households"], 2),
                        prev_off.get(x["code"], 0),
                    ]
                    for x in report["valid_by_office"]
                ]
                + [
                    ["合计", report["valid"], c.pct(100.0 if report["valid"] else None, 1), "", prev["valid"]]
                ],
                st,
                total_last=True,
                col_widths=[5 * cm, 2.2 * cm, 2.8 * cm, 2.5 * cm, 2.2 * cm],
            )
        )
        if "office" in charts:
            story.append(_image(charts["office"], width * 0.85))
        if report["top_offices"]:
            story.append(_p("（三）有效投诉较多的管理处", st["h2"]))
            for o in report["top_offices"]:
                cats = "、".join(f"{x['name']} {x['count']} 宗" for x in o["categories"])
                story.append(
                    _p(
                        f"{o['name']}：有效投诉 {o['count']} 宗，占 {c.pct(o['share'], 1)}，主要为{cats}。",
                        st["body"],
                    )
                )

    h1("关键指标")
    story.append(
        _table(
            ["指标", "本期", "分子/分母", "上期", "变化", "目标", "达标"],
            [
                [
                    k["name"],
                    c.kpi_value(k),
                    c.kpi_fraction(k),
                    c.kpi_value(k, "previous"),
                    c.kpi_change(k),
                    k["target"],
                    c.MET[k["met"]],
                ]
                for k in report["kpis"].values()
            ],
            st,
            col_widths=[4.6 * cm, 2 * cm, 2 * cm, 2 * cm, 2.5 * cm, 1.6 * cm, 1.6 * cm],
        )
    )

    h1("分析与总结")
    for head, paragraphs in c.summary_subsections(report["summary"]):
        block = [_p(head, st["h2"])] + [_p(t, st["body"]) for t in paragraphs[:1]]
        story.append(KeepTogether(block))
        story.extend(_p(t, st["body"]) for t in paragraphs[1:])

    story.append(NextPageTemplate("landscape"))
    for annex, decimals in ((report["annex1"], 2), (report["annex2"], 1)):
        story.append(PageBreak())
        story.append(_p(annex["title"], st["h1"]))
        cols = annex["columns"]
        t = annex["totals"]
        usable = lw - 3 * cm
        first = 3.6 * cm
        rest = (usable - first) / (len(cols) + 2)
        story.append(
            _table(
                ["管理处", *[x["name"] for x in cols], "合计", "占比"],
                [
                    [
                        r["office"]["name"],
                        *[r["counts"][x["code"]] for x in cols],
                        r["total"],
                        c.pct(r["share"], decimals),
                    ]
                    for r in annex["rows"]
                ]
                + [
                    [
                        "合计",
                        *[t["counts"][x["code"]] for x in cols],
                        t["total"],
                        c.pct(t["share"], decimals),
                    ],
                    [
                        "占比",
                        *[c.pct(t["shares"][x["code"]], decimals) for x in cols],
                        c.pct(t["share"], decimals),
                        "",
                    ],
                ],
                st,
                total_last=True,
                total_row=-2,
                compact=True,
                col_widths=[first] + [min(rest, 3 * cm)] * (len(cols) + 2),
            )
        )
    doc.build(story)
    return buf.getvalue()
