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
    doc,
    header: list[str],
    rows: list[list],
    *,
    total_last: bool = False,
    total_row: int = -1,
    widths: list[float] | None = None,
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
            run.bold = total_last and i == len(rows) + total_row
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


def _setup(report: dict):
    doc = Document()
    normal = doc.styles["Normal"]
    _cjk(normal, BODY_FONT)
    normal.font.size = Pt(11)
    sec = doc.sections[0]
    sec.left_margin = sec.right_margin = Cm(2.5)
    sec.top_margin = sec.bottom_margin = Cm(2.2)
    doc.core_properties.title = report["title"]
    doc.core_properties.author = report["issuer"]
    return doc


def _masthead(doc, report: dict) -> None:
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


def _overall(doc, report: dict, charts: dict[str, bytes], headings: dict[str, str]) -> None:
    """Company intake (in a company report) and the complaints by nature, with the pie and the trend."""
    if "direct" in headings:
        _heading(doc, headings["direct"])
        _para(doc, c.direct_sentence(report))
    _heading(doc, headings["overall"])
    _para(doc, c.nature_sentence(report))
    _table(doc, *c.nature_table(report), total_last=True, total_row=-2)  # the settled enquiries follow
    _image(doc, charts["nature"], 12)
    if "trend" in charts:
        _image(doc, charts["trend"], 15)


def _valid(doc, report: dict, charts: dict[str, bytes], headings: dict[str, str]) -> None:
    """Valid complaints by category, and (in a company report) by office and the top offices."""
    _heading(doc, headings["valid"])
    _heading(doc, "（一）按内容分类", 2)
    _table(doc, *c.category_table(report), total_last=True)
    _image(doc, charts["category"], 14)
    if report["scope"]["type"] == "office":
        return
    _heading(doc, "（二）按管理处", 2)
    _table(doc, *c.office_table(report), total_last=True)
    if c.households_sentence(report):
        _para(doc, c.households_sentence(report), size=9, colour="555555")
    if "office" in charts:
        _image(doc, charts["office"], 14)
    if report["top_offices"]:
        _heading(doc, "（三）有效投诉较多的管理处", 2)
        for o in report["top_offices"]:
            _para(doc, c.top_office_sentence(o))


def _summary(doc, report: dict, headings: dict[str, str]) -> None:
    _heading(doc, headings["summary"])
    for head, paragraphs in c.summary_subsections(report["summary"]):
        _heading(doc, head, 2)
        for text in paragraphs:
            _para(doc, text)


def _annexes(doc, report: dict) -> None:
    """The annexes on landscape pages: the category table is wide."""
    portrait = doc.sections[0]
    for annex, decimals in c.annexes(report):
        new = doc.add_section()
        new.orientation = WD_ORIENT.LANDSCAPE
        new.page_width, new.page_height = portrait.page_height, portrait.page_width
        new.left_margin = new.right_margin = Cm(1.5)
        _heading(doc, annex["title"])
        _table(doc, *c.annex_table(annex, decimals))


def render_docx(report: dict, charts: dict[str, bytes]) -> bytes:
    doc = _setup(report)
    headings = c.section_headings(report)
    _masthead(doc, report)
    _overall(doc, report, charts, headings)
    _valid(doc, report, charts, headings)
    _heading(doc, headings["kpis"])
    _table(doc, *c.kpi_table(report))
    _summary(doc, report, headings)
    _annexes(doc, report)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
