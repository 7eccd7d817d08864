"""Chart images (PNG) for the Word and PDF reports, drawn by matplotlib with the vendored CJK font.

The figures are built with the object API (no pyplot state), so rendering is safe in web threads.
"""

from __future__ import annotations

import io
from functools import lru_cache

from kesu.reports.fonts import BOLD, FAMILY, REGULAR, printable

NATURE_COLOURS = {"valid": "#b91c1c", "assist": "#f59e0b", "invalid": "#94a3b8", "unassessed": "#cbd5e1"}


@lru_cache(maxsize=1)
def _setup() -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(REGULAR))
    font_manager.fontManager.addfont(str(BOLD))
    matplotlib.rcParams.update(
        {
            "font.family": FAMILY,
            "axes.unicode_minus": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.fonttype": "none",
        }
    )


def _figure(width: float, height: float):
    _setup()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def _empty(ax, text: str = "本期无数据") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#52606d", transform=ax.transAxes)
    ax.set_axis_off()


def nature_pie(report: dict) -> bytes:
    fig = _figure(5.2, 3.4)
    ax = fig.add_subplot()
    items = [(code, v) for code, v in report["by_nature"].items() if v["count"]]
    ax.set_title(printable(f"投诉性质分布（共 {report['total']} 宗）"), fontsize=12, weight="bold")
    if not items:
        _empty(ax)
        return _png(fig)
    wedges, _texts = ax.pie(
        [v["count"] for _c, v in items],
        colors=[NATURE_COLOURS[c] for c, _v in items],
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
    )
    ax.legend(
        wedges,
        [printable(f"{v['name']} {v['count']} 宗（{v['share']:.2f}%）") for _c, v in items],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
        fontsize=10,
    )
    ax.set_aspect("equal")
    return _png(fig)


def _hbar(title: str, rows: list[dict], colour: str) -> bytes:
    """Horizontal bars of the rows' counts (largest first, as the report lists them), with their shares."""
    labels = [r["name"] for r in rows]
    counts = [r["count"] for r in rows]
    height = max(2.2, 0.34 * len(labels) + 0.9)
    fig = _figure(6.4, height)
    ax = fig.add_subplot()
    ax.set_title(printable(title), fontsize=12, weight="bold")
    if not labels or not any(counts):
        _empty(ax)
        return _png(fig)
    y = list(range(len(labels)))[::-1]
    ax.barh(y, counts, color=colour, height=0.62)
    ax.set_yticks(y, [printable(x) for x in labels], fontsize=9)
    top = max(counts)
    ax.set_xlim(0, top * 1.28 + 0.5)
    for yi, n, s in zip(y, counts, [r["share"] for r in rows], strict=True):
        if n:
            ax.text(n + top * 0.02 + 0.05, yi, f"{n}（{s:.1f}%）", va="center", fontsize=8.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="x", labelsize=8)
    return _png(fig)


def category_bar(report: dict) -> bytes:
    return _hbar(f"有效投诉按内容分类（共 {report['valid']} 宗）", report["valid_by_category"], "#1d4ed8")


def office_bar(report: dict, limit: int = 25) -> bytes:
    return _hbar(f"有效投诉按管理处（共 {report['valid']} 宗）", report["valid_by_office"][:limit], "#b91c1c")


def trend_line(trend: dict) -> bytes:
    fig = _figure(6.4, 2.8)
    ax = fig.add_subplot()
    ax.set_title("近 12 个月投诉趋势", fontsize=12, weight="bold")
    # "3月" under each point, with the year under the first month and under each January
    labels = []
    for i, m in enumerate(trend["months"]):
        year, month = (int(x) for x in m["month"].split("-"))
        labels.append(f"{month}月\n{year}" if i == 0 or month == 1 else f"{month}月")
    x = list(range(len(labels)))
    nan = float("nan")  # a month before the first complaint: no point (a gap), not a zero

    def values(key: str) -> list[float]:
        return [nan if m[key] is None else m[key] for m in trend["months"]]

    ax.plot(x, values("total"), marker="o", color="#1d4ed8", label="投诉总数")
    ax.plot(x, values("valid"), marker="s", color="#b91c1c", label="有效投诉")
    ax.set_xticks(x, labels, fontsize=8, rotation=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    missing = [i for i, m in enumerate(trend["months"]) if m["total"] is None]
    if missing:
        if len(missing) == len(x):
            ax.set_ylim(0, 1)
        ax.axvspan(missing[0] - 0.4, missing[-1] + 0.4, color="#f1f5f9", zorder=0)
        ax.text(
            (missing[0] + missing[-1]) / 2,
            0.5,
            "无数据",
            ha="center",
            va="center",
            fontsize=9,
            color="#52606d",
            transform=ax.get_xaxis_transform(),
        )
    ax.grid(axis="y", color="#e5e7eb")
    ax.legend(frameon=False, fontsize=9, loc="upper left")
    return _png(fig)


def all_charts(report: dict, trend: dict | None) -> dict[str, bytes]:
    charts = {
        "nature": nature_pie(report),
        "category": category_bar(report),
    }
    if report["scope"]["type"] != "office":
        charts["office"] = office_bar(report)
    if trend is not None:
        charts["trend"] = trend_line(trend)
    return charts
