"""The report as a Word document, laid out as a quality department issues it: title, issuer and date,
numbered sections with tables and charts, the written summary, and the two annexes (landscape)."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from . import common as c

BODY_FONT = "宋体"
HEAD_FONT = "黑体"


def _cjk(run_or_style, name: str) -> None:
    """Set the font for Latin and East Asian text alike (Word otherwise keeps its default for 汉字)."""
    run_or_style.font.name = name
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _para(doc, text: str, *, bold=False, size=None, align=None, font=BODY_FONT, indent=True, colour=None):
    p = doc.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    run.bold = bold
    _cjk(run, font)
    if size:
        run.font.size = Pt(size)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)
    return p


def _heading(doc, text: str, level: int = 1) -> None:
    p = doc.add_paragraph()
    p.paragraph_format.space_before = Pt(10 if level == 1 else 6)
    p.paragraph_format.keep_with_next = True
    run = p.add_run(text)
    run.bold = True
    run.font.size = Pt(14 if level == 1 else 12)
    _cjk(run, HEAD_FONT)


def _table(
    doc, header: list[str], rows: list[list], *, total_last: bool = False, widths: list[float] | None = None
):
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for j, h in enumerate(header):
        cell = t.rows[0].cells[j]
        cell.text = ""
        run = cell.paragraphs[0].add_run(str(h))
        run.bold = True
        run.font.size = Pt(9)
        _cjk(run, HEAD_FONT)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, values in enumerate(rows):
        cells = t.add_row().cells
        for j, v in enumerate(values):
            run = cells[j].paragraphs[0].add_run("" if v is None else str(v))
            run.font.size = Pt(9)
            run.bold = total_last and i == len(rows) - 1
            _cjk(run, BODY_FONT)
            if j > 0:
                cells[j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        for row in t.rows:
            for j, w in enumerate(widths):
                row.cells[j].width = Cm(w)
    doc.add_paragraph()
    return t


def _image(doc, png: bytes, width_cm: float = 15) -> None:
    doc.add_picture(io.BytesIO(png), width=Cm(width_cm))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER


def render_docx(report: dict, charts: dict[str, bytes]) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    _cjk(normal, BODY_FONT)
    normal.font.size = Pt(11)
    sec = doc.sections[0]
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin = sec.bottom_margin = Cm(2.2)
    doc.core_properties.title = report["title"]
    doc.core_properties.author = report["issuer"]

    _para(
        doc,
        report["title"],
        bold=True,
        size=18,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        font=HEAD_FONT,
        indent=False,
    )
    _para(
        doc,
        f"{report['issuer']}　{c.issued_on(report)}",
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=False,
        colour="555555",
    )
    _para(doc, c.period_line(report), size=9, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, colour="555555")

    company = report["scope"]["type"] != "office"
    prev = report["previous"]
    n = 1
    if company:
        _heading(doc, f"{c.CN_NUMS[n - 1]}、公司直接受理投诉情况")
        n += 1
        _para(doc, c.direct_sentence(report))

    _heading(doc, f"{c.CN_NUMS[n - 1]}、投诉总体情况")
    n += 1
    _para(doc, c.nature_sentence(report))
    _table(
        doc,
        ["性质", "宗数", "占投诉总数", f"上期（{prev['period']['label']}）"],
        [
            [v["name"], v["count"], c.pct(v["share"], 2), prev["by_nature"][k]["count"]]
            for k, v in report["by_nature"].items()
        ]
        + [["合计", report["total"], c.pct(100.0 if report["total"] else None, 2), prev["total"]]],
        total_last=True,
    )
    _image(doc, charts["nature"], 12)
    if "trend" in charts:
        _image(doc, charts["trend"], 15)

    _heading(doc, f"{c.CN_NUMS[n - 1]}、有效投诉分析")
    n += 1
    _heading(doc, "（一）按内容分类", 2)
    prev_cat = {x["code"]: x["count"] for x in prev["valid_by_category"]}
    _table(
        doc,
        ["分类", "宗数", "占有效投诉", "上期"],
        [
            [x["name"], x["count"], c.pct(x["share"], 1), prev_cat.get(x["code"], 0)]
            for x in report["valid_by_category"]
        ]
        + [["合计", report["valid"], c.pct(100.0 if report["valid"] else None, 1), prev["valid"]]],
        total_last=True,
    )
    _image(doc, charts["category"], 14)
    if company:
        _heading(doc, "（二）按管理处", 2)
        prev_off = {x["code"]: x["count"] for x in prev["valid_by_office"]}
        _table(
            doc,
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
            + [["合计", report["valid"], c.pct(100.0 if report["valid"] else None, 1), "", prev["valid"]]],
            total_last=True,
        )
        if "office" in charts:
            _image(doc, charts["office"], 14)
        if report["top_offices"]:
            _heading(doc, "（三）有效投诉较多的管理处", 2)
            for o in report["top_offices"]:
                cats = "、".join(f"{x['name']} {x['count']} 宗" for x in o["categories"])
                _para(
                    doc, f"{o['name']}：有效投诉 {o['count']} 宗，占 {c.pct(o['share'], 1)}，主要为{cats}。"
                )

    _heading(doc, f"{c.CN_NUMS[n - 1]}、关键指标")
    n += 1
    _table(
        doc,
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
    )

    _heading(doc, f"{c.CN_NUMS[n - 1]}、分析与总结")
    n += 1
    for head, paragraphs in c.summary_subsections(report["summary"]):
        _heading(doc, head, 2)
        for text in paragraphs:
            _para(doc, text)

    # Annexes on landscape pages: the category table is wide.
    for annex, decimals in ((report["annex1"], 2), (report["annex2"], 1)):
        new = doc.add_section()
        new.orientation = WD_ORIENT.LANDSCAPE
        new.page_width, new.page_height = sec.page_height, sec.page_width
        new.left_margin = new.right_margin = Cm(1.5)
        _heading(doc, annex["title"])
        cols = annex["columns"]
        t = annex["totals"]
        _table(
            doc,
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
                ["合计", *[t["counts"][x["code"]] for x in cols], t["total"], c.pct(t["share"], decimals)],
                [
                    "占比",
                    *[c.pct(t["shares"][x["code"]], decimals) for x in cols],
                    c.pct(t["share"], decimals),
                    "",
                ],
            ],
        )
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
