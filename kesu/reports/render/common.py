"""Shared wording and number formats for the rendered reports (docx, pdf, html)."""

from __future__ import annotations

import re

from kesu.reports.monthly import UNASSESSED

CN_NUMS = "一二三四五六七八九十"
_PREFIX = re.compile(r"^[一二三四五六七八九十]+、")


def pct(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:.{decimals}f}%"


def kpi_value(k: dict, key: str = "value") -> str:
    v = k[key]
    if v is None:
        return "—"
    if k["unit"] == "h":
        return f"{v:.1f} 小时"
    return f"{v:.{2 if k['code'] == 'valid_per_households' else 1}f}%"


def kpi_change(k: dict) -> str:
    c = k["change"]
    if c is None:
        return "—"
    unit = " 小时" if k["unit"] == "h" else " 个百分点"
    return f"{'+' if c > 0 else ''}{c:.{2 if k['code'] == 'valid_per_households' else 1}f}{unit}"


def kpi_fraction(k: dict) -> str:
    if k["numerator"] is None:
        return f"{k['denominator']} 宗" if k["denominator"] else "—"
    return f"{k['numerator']}/{k['denominator']}"


MET = {True: "达标", False: "未达标", None: "—"}


def summary_subsections(summary: list[dict]) -> list[tuple[str, list[str]]]:
    """The summary's sections renumbered （一）（二）… to sit under one heading of a document."""
    return [
        (f"（{CN_NUMS[i]}）{_PREFIX.sub('', s['heading'])}", s["paragraphs"]) for i, s in enumerate(summary)
    ]


def period_line(report: dict) -> str:
    p = report["period"]
    return f"统计期间：{p['start']} 至 {p['end']}（{p['time_zone']}）　数据截至：{report['as_of'][:16].replace('T', ' ')}"


def issued_on(report: dict) -> str:
    d = report["as_of"][:10]
    y, m, day = (int(x) for x in d.split("-"))
    return f"{y}年{m}月{day}日"


def this_period(report: dict) -> str:
    """本月 for a month's report, 本期 for several months (as the summary says it)."""
    return "本月" if report["period"]["months"] == 1 else "本期"


def nature_sentence(report: dict) -> str:
    this = this_period(report)
    if not report["total"]:
        return f"{this}未受理客户投诉。"
    parts = "；".join(
        f"{v['name']} {v['count']} 宗，占 {pct(v['share'], 2)}"
        for code, v in report["by_nature"].items()
        if v["count"] or code != UNASSESSED
    )
    return f"{this}共受理客户投诉 {report['total']} 宗，其中{parts}。重大投诉 {report['major']} 宗。"


def direct_sentence(report: dict) -> str:
    d = report["direct"]
    this = this_period(report)
    if not d["total"]:
        return f"{this}公司未直接受理投诉。"
    parts = "，".join(f"{v['name']} {v['count']} 宗" for v in d["by_nature"].values() if v["count"])
    return f"{this}公司直接受理投诉 {d['total']} 宗，其中{parts}。"
