"""The report as an Excel workbook: a sheet per section, the two annexes laid out as the source's
tables (汇总表), numbers stored as numbers (shares as fractions with a percent format)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kesu.reports.monthly import NO_DATA, OFFICE_KPI_CODES
from kesu.reports.summary import as_text

from ..sheets import as_text as text_cells
from .common import MET, before

HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PCT2 = "0.00%"
PCT1 = "0.0%"
# The column headings of the offices' KPIs (the sheet's short names).
OFFICE_KPI_HEADINGS = {
    "forwarded_in_time": "转呈及时率",
    "resolved_in_time": "处理及时率",
    "callback_rate": "回访率",
    "callback_in_time": "回访及时率",
    "satisfaction": "满意率",
    "repeat_rate": "重复投诉率",
    "valid_per_households": "占户数",
}


def _share(value: float | None) -> float | None:
    # Stored as the fraction Excel expects for a percent format; 54.55 → 0.5455.
    return None if value is None else round(value / 100, 6)


class _Sheet:
    def __init__(self, wb: Workbook, title: str, heading: str, subtitle: str) -> None:
        self.ws = wb.create_sheet(title)
        self.ws["A1"] = heading
        self.ws["A1"].font = Font(bold=True, size=14)
        self.ws["A2"] = subtitle
        self.ws["A2"].font = Font(color="666666")
        self.row = 4

    def table(
        self, header: list[str], rows: list[list], formats: dict[int, str] | None = None, total: bool = False
    ):
        ws = self.ws
        for j, h in enumerate(header, 1):
            c = ws.cell(self.row, j, h)
            c.font, c.fill, c.border = Font(bold=True), HEAD_FILL, BOX
            c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.row += 1
        for i, values in enumerate(rows):
            is_total = total and i == len(rows) - 1
            for j, v in enumerate(values, 1):
                c = ws.cell(self.row, j, v)
                c.border = BOX
                if formats and j in formats:
                    c.number_format = formats[j]
                if is_total:
                    c.font, c.fill = Font(bold=True), TOTAL_FILL
            self.row += 1
        self.row += 1

    def line(self, text: str, bold: bool = False) -> None:
        c = self.ws.cell(self.row, 1, text)
        c.font = Font(bold=bold)
        self.row += 1

    def widths(self, *widths: float) -> None:
        for j, w in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(j)].width = w


def _subtitle(report: dict) -> str:
    p = report["period"]
    return f"统计期间：{p['start']} 至 {p['end']}　数据截至：{report['as_of'][:16].replace('T', ' ')}"


def _overview_sheet(wb: Workbook, report: dict, sub: str) -> None:
    """概况: company intake and the complaints by nature (sections one and two)."""
    prev = report["previous"]
    s = _Sheet(wb, "概况", report["title"], sub)
    s.line("一、公司直接受理投诉情况", bold=True)
    d = report["direct"]
    s.table(
        ["性质", "宗数", "占比"],
        [[v["name"], v["count"], _share(v["share"])] for v in d["by_nature"].values()]
        + [["合计", d["total"], 1.0 if d["total"] else None]],
        {3: PCT2},
        total=True,
    )
    s.line("二、投诉总体情况", bold=True)
    s.table(
        ["性质", "宗数", "占投诉总数", f"上期（{prev['period']['label']}）"],
        [
            [v["name"], v["count"], _share(v["share"]), before(report, prev["by_nature"][code]["count"])]
            for code, v in report["by_nature"].items()
        ]
        + [["合计", report["total"], 1.0 if report["total"] else None, before(report, prev["total"])]],
        {3: PCT2},
        total=True,
    )
    s.table(
        ["项目", "本期", "上期"],
        [
            ["重大投诉", report["major"], before(report, prev["major"])],
            ["已合并（不重复统计）", report["merged"], before(report, prev["merged"])],
            [
                "当场答复的咨询（不计入投诉）",
                report["on_spot_enquiries"],
                before(report, prev["on_spot_enquiries"]),
            ],
            ["管理户数", report["households"], report["households"]],
        ],
    )
    for o in report["households_configured"]:
        s.line(f"{o['name']}未录入房屋，户数按设定的 {o['households']} 户计。")
    s.widths(24, 12, 14, 18)


def _category_sheet(wb: Workbook, report: dict, sub: str) -> None:
    """有效投诉分类: valid complaints by category, with the period before."""
    prev = report["previous"]
    s = _Sheet(wb, "有效投诉分类", "三、有效投诉按内容分类", sub)
    prev_cat = {c["code"]: c["count"] for c in prev["valid_by_category"]}
    s.table(
        ["分类", "宗数", "占有效投诉", "上期"],
        [
            [c["name"], c["count"], _share(c["share"]), before(report, prev_cat.get(c["code"], 0))]
            for c in report["valid_by_category"]
        ]
        + [["合计", report["valid"], 1.0 if report["valid"] else None, before(report, prev["valid"])]],
        {3: PCT1},
        total=True,
    )
    s.widths(22, 10, 14, 10)


def _office_sheet(wb: Workbook, report: dict, sub: str) -> None:
    """有效投诉管理处: valid complaints by office, with households and the period before; the top offices."""
    prev = report["previous"]
    s = _Sheet(wb, "有效投诉管理处", "三、有效投诉按管理处", sub)
    prev_off = {o["code"]: o["count"] for o in prev["valid_by_office"]}
    s.table(
        ["编码", "管理处", "宗数", "占有效投诉", "户数", "占户数", "上期"],
        [
            [
                o["code"],
                o["name"],
                o["count"],
                _share(o["share"]),
                o["households"],
                _share(o["per_100_households"]),
                before(report, prev_off.get(o["code"], 0)),
            ]
            for o in report["valid_by_office"]
        ]
        + [
            [
                "",
                "合计",
                report["valid"],
                1.0 if report["valid"] else None,
                report["households"],
                None,
                before(report, prev["valid"]),
            ]
        ],
        {4: PCT1, 6: PCT2},
        total=True,
    )
    s.line("有效投诉较多的管理处及主要类别", bold=True)
    for o in report["top_offices"]:
        cats = "、".join(f"{c['name']} {c['count']} 宗" for c in o["categories"])
        s.line(f"{o['name']}：{o['count']} 宗（{o['share']:.1f}%），{cats}")
    s.widths(8, 20, 10, 14, 10, 10, 10)


def _kpi_scale(k: dict, value: float | None) -> float | None:
    """A percent KPI's figure as the fraction a percent format expects; hours stay hours."""
    return _share(value) if k["unit"] == "%" else value


def _kpi_format(k: dict) -> str:
    return ("0.00%" if k["code"] == "valid_per_households" else PCT1) if k["unit"] == "%" else '0.0"h"'


def _kpi_sheet(wb: Workbook, report: dict, sub: str) -> None:
    """关键指标: the KPIs, the managers' own callbacks, and each office's KPIs."""
    s = _Sheet(wb, "关键指标", "四、关键指标", sub)
    kpis = list(report["kpis"].values())
    compared = report["previous"]["has_data"]
    s.table(
        ["指标", "本期", "分子", "分母", "上期", "变化", "目标", "达标", "口径"],
        [
            [
                k["name"],
                _kpi_scale(k, k["value"]),
                k["numerator"],
                k["denominator"],
                _kpi_scale(k, k["previous"]) if compared else NO_DATA,
                _kpi_scale(k, k["change"]) if compared else NO_DATA,
                k["target"],
                MET[k["met"]],
                k["note"],
            ]
            for k in kpis
        ],
    )
    # percent KPIs get percent formats, hours stay hours
    for i, k in enumerate(kpis):
        for col in (2, 5, 6):
            s.ws.cell(5 + i, col).number_format = _kpi_format(k)
    s.line("管理人员回访指标", bold=True)
    s.table(
        ["姓名", "岗位", "管理处", "回访次数", "指标", "完成"],
        [
            [
                m["name"],
                m["role_name"],
                "、".join(m["offices"]),
                m["callbacks"],
                m["quota"],
                "是" if m["met"] else "否",
            ]
            for m in report["managers"]
        ],
    )
    s.line("各管理处指标", bold=True)
    s.table(
        ["管理处", "投诉", "有效", *(OFFICE_KPI_HEADINGS[c] for c in OFFICE_KPI_CODES)],
        [
            [o["office"]["name"], o["total"], o["valid"], *(_share(o[c]) for c in OFFICE_KPI_CODES)]
            for o in report["kpis_by_office"]
        ],
        {4: PCT1, 5: PCT1, 6: PCT1, 7: PCT1, 8: PCT1, 9: PCT1, 10: PCT2},
    )
    s.widths(24, 10, 8, 8, 10, 10, 10, 10, 60, 10)


def _summary_sheet(wb: Workbook, report: dict, sub: str) -> None:
    """总结: the written summary, a line a row, headings in bold."""
    s = _Sheet(wb, "总结", "五、工作总结", sub)
    s.ws.column_dimensions["A"].width = 120
    for line in as_text(report["summary"]).split("\n"):
        c = s.ws.cell(s.row, 1, line)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if line.startswith(("一、", "二、", "三、", "四、", "五、", "六、")):
            c.font = Font(bold=True)
        s.row += 1


def _annex_sheet(
    wb: Workbook, title: str, annex: dict, sub: str, share_format: str, widths: tuple[float, float]
) -> None:
    """An annex as its source table: an office a row, its total and share; the totals and the shares
    of every column. `widths`: of a column, and of the total and share columns."""
    s = _Sheet(wb, title, annex["title"], sub)
    cols = annex["columns"]
    t = annex["totals"]
    # Annex 1 ends with the enquiries settled at the counter, apart from the total.
    apart = "enquiries_name" in annex

    def extra(value) -> list:
        return [value] if apart else []

    s.table(
        ["管理处", *[c["name"] for c in cols], "合计", "占比", *extra(annex.get("enquiries_name"))],
        [
            [
                r["office"]["name"],
                *[r["counts"][c["code"]] for c in cols],
                r["total"],
                _share(r["share"]),
                *extra(r.get("on_spot_enquiries")),
            ]
            for r in annex["rows"]
        ]
        + [
            [
                "合计",
                *[t["counts"][c["code"]] for c in cols],
                t["total"],
                _share(t["share"]),
                *extra(t.get("on_spot_enquiries")),
            ],
            ["占比", *[_share(t["shares"][c["code"]]) for c in cols], _share(t["share"]), None],
        ],
        {len(cols) + 3: share_format},
    )
    last = s.row - 2  # the 占比 row
    for j in range(2, len(cols) + 3):
        s.ws.cell(last, j).number_format = share_format
    for j in range(1, len(cols) + 4 + apart):
        s.ws.cell(last - 1, j).font = Font(bold=True)
    column, total = widths
    s.widths(20, *[column] * len(cols), total, total, *extra(18))


def render_xlsx(report: dict) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    sub = _subtitle(report)
    _overview_sheet(wb, report, sub)
    _category_sheet(wb, report, sub)
    _office_sheet(wb, report, sub)
    _kpi_sheet(wb, report, sub)
    _summary_sheet(wb, report, sub)
    _annex_sheet(wb, "附件1 投诉汇总表", report["annex1"], sub, PCT2, (12, 10))  # office × nature
    _annex_sheet(wb, "附件2 有效投诉汇总表", report["annex2"], sub, PCT1, (9, 8))  # office × category (valid)
    for ws in wb.worksheets:
        ws.sheet_view.showGridLines = False
    buf = io.BytesIO()
    text_cells(wb).save(buf)
    return buf.getvalue()
