"""Shared wording and number formats for the rendered reports (docx, pdf, html), and the sections and
tables the Word and PDF documents print alike."""

from __future__ import annotations

import re

from kesu.reports.monthly import NO_DATA, ON_SPOT_ENQUIRIES_NAME, UNASSESSED

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


def before(report: dict, value):
    """A figure of the period before as printed: 无数据 when that period precedes the first complaint."""
    return value if report["previous"]["has_data"] else NO_DATA


def kpi_previous(report: dict, k: dict) -> str:
    return kpi_value(k, "previous") if report["previous"]["has_data"] else NO_DATA


def kpi_change_since(report: dict, k: dict) -> str:
    return kpi_change(k) if report["previous"]["has_data"] else NO_DATA


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
        return f"{this}未受理客户投诉。" + enquiries_sentence(report)
    parts = "；".join(
        f"{v['name']} {v['count']} 宗，占 {pct(v['share'], 2)}"
        for code, v in report["by_nature"].items()
        if v["count"] or code != UNASSESSED
    )
    return (
        f"{this}共受理客户投诉 {report['total']} 宗，其中{parts}。重大投诉 {report['major']} 宗。"
        + enquiries_sentence(report)
    )


def households_sentence(report: dict) -> str:
    """Which offices' households are their configured number (no homes loaded), under the office table."""
    configured = report["households_configured"]
    if not configured:
        return ""
    named = "、".join(f"{o['name']}（{o['households']} 户）" for o in configured)
    return f"注：占户数以在册房屋数计；{named}未录入房屋，按设定户数计。"


def enquiries_sentence(report: dict) -> str:
    n = report["on_spot_enquiries"]
    return f"另有当场答复的咨询 {n} 件，不计入投诉。" if n else ""


def direct_sentence(report: dict) -> str:
    d = report["direct"]
    this = this_period(report)
    if not d["total"]:
        return f"{this}公司未直接受理投诉。"
    parts = "，".join(f"{v['name']} {v['count']} 宗" for v in d["by_nature"].values() if v["count"])
    return f"{this}公司直接受理投诉 {d['total']} 宗，其中{parts}。"


# ---------------------------------------------------------------------------------------------
# the documents' sections and tables (Word and PDF print the same ones)

TableRows = tuple[list[str], list[list]]  # a table's header and its rows, as the documents print them


def section_headings(report: dict) -> dict[str, str]:
    """The documents' numbered sections, by key; company intake (公司直接受理) only in a report of the
    company or of several offices."""
    names = {
        "overall": "投诉总体情况",
        "valid": "有效投诉分析",
        "kpis": "关键指标",
        "summary": "分析与总结",
    }
    if report["scope"]["type"] != "office":
        names = {"direct": "公司直接受理投诉情况", **names}
    return {key: f"{CN_NUMS[i]}、{name}" for i, (key, name) in enumerate(names.items())}


def nature_table(report: dict) -> TableRows:
    """By nature, the total, then (in no total) the enquiries settled at the counter."""
    prev = report["previous"]
    return (
        ["性质", "宗数", "占投诉总数", f"上期（{prev['period']['label']}）"],
        [
            [v["name"], v["count"], pct(v["share"], 2), before(report, prev["by_nature"][k]["count"])]
            for k, v in report["by_nature"].items()
        ]
        + [
            [
                "合计",
                report["total"],
                pct(100.0 if report["total"] else None, 2),
                before(report, prev["total"]),
            ]
        ]
        + [
            [
                ON_SPOT_ENQUIRIES_NAME,
                report["on_spot_enquiries"],
                "—",
                before(report, prev["on_spot_enquiries"]),
            ]
        ],
    )


def category_table(report: dict) -> TableRows:
    prev = report["previous"]
    prev_cat = {x["code"]: x["count"] for x in prev["valid_by_category"]}
    return (
        ["分类", "宗数", "占有效投诉", "上期"],
        [
            [x["name"], x["count"], pct(x["share"], 1), before(report, prev_cat.get(x["code"], 0))]
            for x in report["valid_by_category"]
        ]
        + [
            [
                "合计",
                report["valid"],
                pct(100.0 if report["valid"] else None, 1),
                before(report, prev["valid"]),
            ]
        ],
    )


def office_table(report: dict) -> TableRows:
    prev = report["previous"]
    prev_off = {x["code"]: x["count"] for x in prev["valid_by_office"]}
    return (
        ["管理处", "宗数", "占有效投诉", "占户数", "上期"],
        [
            [
                x["name"],
                x["count"],
                pct(x["share"], 1),
                pct(x["per_100_households"], 2),
                before(report, prev_off.get(x["code"], 0)),
            ]
            for x in report["valid_by_office"]
        ]
        + [
            [
                "合计",
                report["valid"],
                pct(100.0 if report["valid"] else None, 1),
                "",
                before(report, prev["valid"]),
            ]
        ],
    )


def top_office_sentence(o: dict) -> str:
    cats = "、".join(f"{x['name']} {x['count']} 宗" for x in o["categories"])
    return f"{o['name']}：有效投诉 {o['count']} 宗，占 {pct(o['share'], 1)}，主要为{cats}。"


def kpi_table(report: dict) -> TableRows:
    return (
        ["指标", "本期", "分子/分母", "上期", "变化", "目标", "达标"],
        [
            [
                k["name"],
                kpi_value(k),
                kpi_fraction(k),
                kpi_previous(report, k),
                kpi_change_since(report, k),
                k["target"],
                MET[k["met"]],
            ]
            for k in report["kpis"].values()
        ],
    )


def annexes(report: dict) -> list[tuple[dict, int]]:
    """The two annexes, each with the decimals of its shares (of the total: two; of valid: one)."""
    return [(report["annex1"], 2), (report["annex2"], 1)]


def annex_table(annex: dict, decimals: int) -> TableRows:
    """An annex: an office a row (counts, total, share), then the totals and the columns' shares; annex 1
    ends with the enquiries settled at the counter, apart from the total."""
    cols = annex["columns"]
    t = annex["totals"]
    apart = "enquiries_name" in annex

    def extra(value) -> list:
        return [value] if apart else []

    return (
        ["管理处", *[x["name"] for x in cols], "合计", "占比", *extra(annex.get("enquiries_name"))],
        [
            [
                r["office"]["name"],
                *[r["counts"][x["code"]] for x in cols],
                r["total"],
                pct(r["share"], decimals),
                *extra(r.get("on_spot_enquiries")),
            ]
            for r in annex["rows"]
        ]
        + [
            [
                "合计",
                *[t["counts"][x["code"]] for x in cols],
                t["total"],
                pct(t["share"], decimals),
                *extra(t.get("on_spot_enquiries")),
            ],
            [
                "占比",
                *[pct(t["shares"][x["code"]], decimals) for x in cols],
                pct(t["share"], decimals),
                "",
                *extra(""),
            ],
        ],
    )
