"""The written summary (工作总结): Chinese prose generated from the report's own figures.

Every number in it is a figure of the report or an exact count from the database, and every example
is words taken from a complaint (personal details masked). Nothing is made up: a section with no
data to speak from says so or is left out.

Main problems under a category are the words (jieba, already stored in `search_text`) that the most
complaints of that category share, weighted against the other complaints so that "电梯" outranks
"维修"; each is then counted exactly (`content` contains the word) and illustrated with a clause of
the latest complaint that uses it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

from kesu.complaints.choices import Nature, Status
from kesu.complaints.models import Category, Complaint
from kesu.complaints.policy import CALLBACK_QUOTA, settled_at_counter_q
from kesu.org.choices import Role

from .monthly import NO_DATA, UNASSESSED
from .period import Period

# Words every complaint uses; they say nothing about the problem.
_STOP_TEXT = """
    业主 住户 客户 反映 投诉 来电 来访 物业 物业公司 物业管理 管理处 小区 要求 希望 处理 问题 尽快 没有 一直 已经 经常 现在
    多次 昨天 今天 晚上 早上 下午 上午 中午 凌晨 前天 昨晚 今早 这几天 这两天 几天 上周 本周 周末 周一 周五 左右 一个 两个
    好几 十多 多个 时候 自己 家里 我们 他们 对方 根本 不能 不是 可以 还是 什么 怎么 为什么 这个 那个 一下 一位 说法 情况
    工作 工作人员 人员 表示 认为 结果 之前 以后 后来 马上 立即 及时 有人 给个 彻底 前台 打电话 电话 联系 不到 小时 分钟
    星期 个月 一次 两次 三次 好几次 出来 起来 过来 上门 东西 地方 时间 知道 觉得 说是 需要 看到 发现 导致 影响 严重 非常
    很多 还有 以及 而且 但是 因为 所以 如果 就是 只能 不了 不让 不敢 没人 不管 一样 一些 那么 这么 这样 那样 已经 一直到
    要求物业 请物业 物业费用 反映问题 多小时 一个多 十几 几个 每次 每天 这次 上次 本月 上月 今年 去年 明天 后天 当天 当时
    老人 夜里 白天 深夜 傍晚 一楼 单元 门口 业主群 不着 不到位 住户称 业主称 前几天 这几天 好几天 一大 一半 半天 很久 里面
    """
STOPWORDS = frozenset(_STOP_TEXT.split())
_CJK_WORD = re.compile(r"(?<!\S)[\u4e00-\u9fff]{2,8}(?!\S)")  # a whole word of search_text
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
_CLAUSE_SPLIT = re.compile(r"[，,、]")
_PHONE = re.compile(r"\d{7,}")
_ROOM = re.compile(r"\d{3,6}(?![年元块分秒%％米平])")
SAMPLE_PER_CATEGORY = 200
MAX_KEYWORDS = 3
MAX_EXAMPLE_CHARS = 36


def _fmt_share(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:.{decimals}f}%"


def _change(now: int, before: int | None, unit: str = "宗") -> str:
    if before is None:
        return NO_DATA
    if before == 0 and now == 0:
        return "持平"
    if before == 0:
        return f"增加 {now} {unit}"
    delta = now - before
    if delta == 0:
        return "持平"
    pct = abs(delta) * 100 / before
    word = "增加" if delta > 0 else "减少"
    return f"{word} {abs(delta)} {unit}（{'+' if delta > 0 else '-'}{pct:.1f}%）"


def _tokens(search_text: str) -> set[str]:
    """The words of a complaint worth counting: Chinese only, 2–8 characters, not stop words."""
    return {w for w in _CJK_WORD.findall(search_text or "") if w not in STOPWORDS and not w.startswith("不")}


def mask(text: str, names: Iterable[str] = ()) -> str:
    """Keep a complainant's identity out of the report (对投诉人身份保密): names, phones, room numbers."""
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, "**")
    text = _PHONE.sub("***", text)
    return _ROOM.sub("***", text)


def example_clause(content: str, word: str) -> str:
    """The shortest readable piece of `content` around `word`: its sentence, or its clauses."""
    for sentence in _SENTENCE.findall(content):
        if word not in sentence:
            continue
        sentence = sentence.strip().rstrip("。！？；!?;")
        if len(sentence) <= MAX_EXAMPLE_CHARS:
            return sentence
        clauses = [c for c in _CLAUSE_SPLIT.split(sentence) if c]
        i = next(i for i, c in enumerate(clauses) if word in c) if any(word in c for c in clauses) else 0
        piece = clauses[i]
        j = i + 1
        while len(piece) < 12 and j < len(clauses) and len(piece) + len(clauses[j]) + 1 <= MAX_EXAMPLE_CHARS:
            piece = f"{piece}，{clauses[j]}"
            j += 1
        if len(piece) > MAX_EXAMPLE_CHARS:
            k = max(0, piece.find(word) - 12)
            piece = piece[k : k + MAX_EXAMPLE_CHARS]
        return piece
    return ""


def pick_examples(rows: list[tuple[str, str, str]], words: list[str], limit: int) -> list[str]:
    """One example per word, in the words' order, from the latest complaint using it whose clause is
    not already quoted (two words of one sentence must not show the same example twice)."""
    out: list[str] = []
    for w in words:
        for _s, content, name in rows:
            if w in content:
                example = mask(example_clause(content, w), [name])
                if example and example not in out:
                    out.append(example)
                    break
        if len(out) == limit:
            break
    return out


def _keywords(docs: list[set[str]], corpus_df: Counter, corpus_n: int) -> list[str]:
    """Up to MAX_KEYWORDS distinctive words of `docs` (the words of each complaint), each covering
    complaints the earlier ones do not."""
    df: Counter = Counter()
    for d in docs:
        df.update(d)
    min_df = 2 if len(docs) >= 4 else 1
    scored = sorted(
        (w for w, n in df.items() if n >= min_df),
        key=lambda w: (-(df[w] * (1 + math.log((corpus_n + 1) / (corpus_df[w] + 1)))), -df[w], -len(w), w),
    )
    chosen: list[str] = []
    covered: list[set[int]] = []
    for w in scored:
        hits = {i for i, d in enumerate(docs) if w in d}
        if any(len(hits & c) >= 0.6 * len(hits) for c in covered):
            continue
        chosen.append(w)
        covered.append(hits)
        if len(chosen) == MAX_KEYWORDS:
            break
    return chosen


def _mentions(word: str) -> Q:
    """The complaint's text contains `word`: a plain substring search (instr / strpos), which both
    databases run faster than LIKE '%word%' and which needs no escaping."""
    return Q(GreaterThan(StrIndex("content", Value(word)), 0))


def _holiday_names(period: Period) -> set[str]:
    import datetime as dt

    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a dependency
        return set()
    names = set()
    day = period.first
    while day <= period.last_day:
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            name = None
        if name:
            names.add(str(name))
        day += dt.timedelta(days=1)
    return names


# ---------------------------------------------------------------------------------------------
# the words of the complaints: samples, distinctive words, exact counts

Sample = tuple[str, str, str]  # search_text, content, complainant_name


@dataclass
class _Problems:
    """What the summary quotes from the complaints: the leading valid categories, the latest complaints
    of each and of the assist ones, their distinctive words, the seasonal words, and exact counts
    (keys c{category}_{word}, a_{word}, s_{seasonal word})."""

    leading: list[dict]
    samples: dict[str | None, list[Sample]]
    words: dict[str | None, list[str]]
    assist_sample: list[Sample]
    assist_words: list[str]
    seasonal: list[tuple[str, str, str]]  # word, why, what to do
    counts: dict[str, int]


def _latest(qs: QuerySet[Complaint]) -> list[Sample]:
    return list(
        qs.order_by("-received_at", "-id").values_list("search_text", "content", "complainant_name")[
            :SAMPLE_PER_CATEGORY
        ]
    )


def _category_samples(
    cohort: QuerySet[Complaint], leading: list[dict], cat_by_code: dict
) -> dict[str | None, list[Sample]]:
    samples = {}
    for entry in leading:
        cat = cat_by_code.get(entry["code"])
        qs = (
            cohort.filter(nature=Nature.VALID, category=cat)
            if cat
            else cohort.filter(nature=Nature.VALID, category__isnull=True)
        )
        samples[entry["code"]] = _latest(qs)
    return samples


def _distinctive_words(
    samples: dict[str | None, list[Sample]], assist_sample: list[Sample]
) -> tuple[dict[str | None, list[str]], list[str]]:
    """Each leading category's words and the assist complaints', weighted against all the samples."""
    docs = {code: [_tokens(s) for s, _c, _n in rows] for code, rows in samples.items()}
    assist_docs = [_tokens(s) for s, _c, _n in assist_sample]
    corpus_df: Counter = Counter()
    for d in [*(d for ds in docs.values() for d in ds), *assist_docs]:
        corpus_df.update(d)
    corpus_n = sum(map(len, docs.values())) + len(assist_docs)
    words = {code: _keywords(docs[code], corpus_df, corpus_n) for code in samples}
    return words, _keywords(assist_docs, corpus_df, corpus_n)


def _seasonal_words(period: Period) -> list[tuple[str, str, str]]:
    """Words of the season worth counting: 装修 around the Spring Festival, 孩子/小孩 in school holidays."""
    holidays = _holiday_names(period)
    months = {d.month for d in period.month_starts()}
    seasonal = []
    if "Spring Festival" in holidays:
        seasonal.append(("装修", "春节假期前后", "应加强装修管理，提前公告节前节后的装修时间规定"))
    if months & {1, 2, 7, 8}:
        seasonal.append(("孩子", "适逢学校寒暑假", "应加强公共区域安全巡查和文明提示"))
        seasonal.append(("小孩", "适逢学校寒暑假", "应加强公共区域安全巡查和文明提示"))
    return seasonal


def _word_counts(
    cohort: QuerySet[Complaint],
    leading: list[dict],
    cat_by_code: dict,
    words: dict[str | None, list[str]],
    assist_words: list[str],
    seasonal: list[tuple[str, str, str]],
) -> dict[str, int]:
    """Exact counts for every word used, and the seasonal words, in one query."""
    aggs: dict[str, Count] = {}
    for i, entry in enumerate(leading):
        cat = cat_by_code.get(entry["code"])
        cat_q = Q(category=cat) if cat else Q(category__isnull=True)
        for j, w in enumerate(words[entry["code"]]):
            aggs[f"c{i}_{j}"] = Count("id", filter=cat_q & Q(nature=Nature.VALID) & _mentions(w))
    for j, w in enumerate(assist_words):
        aggs[f"a_{j}"] = Count("id", filter=Q(nature=Nature.ASSIST) & _mentions(w))
    for j, (w, _why, _advice) in enumerate(seasonal):
        aggs[f"s_{j}"] = Count("id", filter=_mentions(w))
    # Only valid and assist complaints are counted (the cheap conditions first, so LIKE runs on few rows).
    scope_q = Q(nature__in=[Nature.VALID, Nature.ASSIST])
    if not seasonal:  # only the leading categories' valid complaints and the assist ones matter
        cats = [cat_by_code.get(e["code"]) for e in leading]
        scope_q = Q(nature=Nature.ASSIST) | Q(nature=Nature.VALID, category__in=[c for c in cats if c])
        if None in cats:
            scope_q |= Q(nature=Nature.VALID, category__isnull=True)
    return cohort.filter(scope_q).aggregate(**aggs) if aggs else {}


def _problems(
    report: dict, cohort: QuerySet[Complaint], period: Period, categories: list[Category | None]
) -> _Problems:
    leading = [c for c in report["valid_by_category"] if c["count"]][:3]
    cat_by_code = {(c.code if c else None): c for c in categories}
    samples = _category_samples(cohort, leading, cat_by_code)
    assist_sample = _latest(cohort.filter(nature=Nature.ASSIST))
    words, assist_words = _distinctive_words(samples, assist_sample)
    seasonal = _seasonal_words(period)
    counts = _word_counts(cohort, leading, cat_by_code, words, assist_words, seasonal)
    return _Problems(leading, samples, words, assist_sample, assist_words, seasonal, counts)


def _quoted(words: list[str], key: str, counts: dict[str, int]) -> list[tuple[str, int]]:
    """The words that some complaints use, with their exact counts (`key`_0, `key`_1 …)."""
    found = [(w, counts.get(f"{key}_{j}", 0)) for j, w in enumerate(words)]
    return [(w, k) for w, k in found if k]


# ---------------------------------------------------------------------------------------------
# the sections


def _before(last: str, count: int | None) -> str:
    """“上月 3 宗”, or “上月无数据” for a period before the scope's first complaint."""
    return f"{last}{NO_DATA}" if count is None else f"{last} {count} 宗"


def _enquiries_line(report: dict) -> str:
    n = report["on_spot_enquiries"]
    return f"另有当场答复的咨询 {n} 件，不计入投诉。" if n else ""


def _overall(report: dict, this: str, last: str, company_scope: bool) -> list[str]:
    """一、投诉总体情况: the total against the period before, by nature, major, company intake, merged,
    and apart from them the enquiries settled at the counter."""
    prev_total = report["previous"]["total"]
    if report["total"] == 0:
        return [f"{this}未受理客户投诉（{_before(last, prev_total)}）。{_enquiries_line(report)}"]
    parts = [
        f"{v['name']} {v['count']} 宗，占 {_fmt_share(v['share'], 2)}"
        for code, v in report["by_nature"].items()
        if v["count"] or code != UNASSESSED
    ]
    against = (
        f"（{last}{NO_DATA}）"
        if prev_total is None
        else f"，较{last}（{prev_total} 宗）{_change(report['total'], prev_total)}"
    )
    text = f"{this}共受理客户投诉 {report['total']} 宗{against}。其中" + "；".join(parts) + "。"
    text += f"重大投诉 {report['major']} 宗。" if report["major"] else "无重大投诉。"
    direct = report["direct"]["total"]
    if company_scope:
        text += f"公司直接受理 {direct} 宗。" if direct else "公司未直接受理投诉。"
    if report["merged"]:
        text += f"另有 {report['merged']} 宗为多人反映同一问题，已合并处理，不重复统计。"
    return [text + _enquiries_line(report)]


def _category_problems(i: int, entry: dict, problems: _Problems, last: str, before: int | None) -> str:
    """One leading category: its count and share, and the problems its complaints speak of."""
    text = (
        f"{entry['name']}类 {entry['count']} 宗，占有效投诉的 {_fmt_share(entry['share'], 1)}"
        f"（{_before(last, before)}）"
    )
    found = _quoted(problems.words[entry["code"]], f"c{i}", problems.counts)
    if found:
        text += "，主要问题涉及" + "、".join(f"“{w}”（{k} 宗）" for w, k in found)
        examples = pick_examples(problems.samples[entry["code"]], [w for w, _k in found], 2)
        if examples:
            text += "，如：" + "；".join(f"“{e}”" for e in examples)
    return text + "。"


def _valid_problems(report: dict, problems: _Problems, this: str, last: str) -> list[str]:
    """二、有效投诉主要问题: the leading categories and their main problems."""
    if report["valid"] == 0:
        return [f"{this}无有效投诉。"]
    leading = problems.leading
    tops = "、".join(f"{c['name']}（{c['count']} 宗，{_fmt_share(c['share'], 1)}）" for c in leading)
    paras = [f"{this}有效投诉 {report['valid']} 宗，居前的类别为：{tops}。"]
    prev = report["previous"]
    prev_cats = {c["code"]: c["count"] for c in prev["valid_by_category"]}
    for i, entry in enumerate(leading):
        before = prev_cats.get(entry["code"], 0) if prev["has_data"] else None
        paras.append(_category_problems(i, entry, problems, last, before))
    return paras


def _assist_matters(report: dict, problems: _Problems, this: str) -> list[str]:
    """三、协助处理类投诉: how many, the matters they most often concern, an example."""
    assist = report["by_nature"]["assist"]
    if assist["count"] == 0:
        return [f"{this}无协助处理类投诉。"]
    text = f"{this}协助处理类投诉 {assist['count']} 宗，占投诉总数的 {_fmt_share(assist['share'], 2)}"
    found = _quoted(problems.assist_words, "a", problems.counts)
    if found:
        text += "，较常见的是涉及" + "、".join(f"“{w}”（{k} 宗）" for w, k in found) + "的事项"
        src = next((r for r in problems.assist_sample if found[0][0] in r[1]), None)
        if src:
            text += f"，如“{mask(example_clause(src[1], found[0][0]), [src[2]])}”"
    return [text + "。此类投诉虽非公司责任，仍应积极协调，耐心做好解释和跟进工作。"]


Change = tuple[int, str, int, int]  # size of the change, name, before, now


def _marked_changes(now: list[dict], before: list[dict]) -> tuple[list[Change], list[Change]]:
    """The entries (by code) whose count rose, and those whose count fell, by at least 2 and at least
    30% of the period before; the largest change first."""
    prev = {x["code"]: x["count"] for x in before}
    rises, falls = [], []
    for x in now:
        b = prev.get(x["code"], 0)
        delta = x["count"] - b
        if delta >= max(2, 0.3 * b):
            rises.append((delta, x["name"], b, x["count"]))
        elif -delta >= max(2, 0.3 * b):
            falls.append((-delta, x["name"], b, x["count"]))
    rises.sort(key=lambda x: (-x[0], x[1]))
    falls.sort(key=lambda x: (-x[0], x[1]))
    return rises, falls


def _change_line(lead: str, changes: list[Change]) -> str:
    return lead + "、".join(f"{name}（{b} → {c} 宗）" for _d, name, b, c in changes[:3]) + "。"


def _changes(report: dict, problems: _Problems, last: str, company_scope: bool) -> list[str]:
    """四、与上期对比及季节性特点: categories (and offices) that rose or fell markedly, seasonal words."""
    prev = report["previous"]
    lines = []
    if not prev["has_data"]:
        since = f"（数据自{_month_label(report['data_since'])}起）" if report["data_since"] else ""
        lines.append(f"{last}{NO_DATA}{since}，无法对比。")
        rises, falls = [], []
    else:
        rises, falls = _marked_changes(report["valid_by_category"], prev["valid_by_category"])
    if rises:
        lines.append(_change_line("有效投诉明显增加的类别：", rises))
    if falls:
        lines.append(_change_line("明显减少的类别：", falls))
    if company_scope and prev["has_data"]:
        office_rises, _falls = _marked_changes(report["valid_by_office"], prev["valid_by_office"])
        if office_rises:
            lines.append(_change_line("有效投诉明显增加的管理处：", office_rises))
    for j, (w, why, what) in enumerate(problems.seasonal):
        k = problems.counts.get(f"s_{j}", 0)
        if k:
            lines.append(f"{why}，有效及协助处理类投诉中涉及“{w}”的 {k} 宗，{what}。")
    return lines or [f"与{last}相比，各类有效投诉无明显变化。"]


def _month_label(month: str) -> str:
    """2025-12 → 2025年12月"""
    y, m = (int(x) for x in month.split("-"))
    return f"{y}年{m}月"


def _offices_line(which: str, first: str, offices: list[str]) -> str | None:
    """“`which` N 个，`first`：” and the first five `offices`; None if there are none."""
    if not offices:
        return None
    return f"{which} {len(offices)} 个，{first}：" + "、".join(offices[:5]) + "。"


def _over_households(report: dict) -> str | None:
    over = sorted(
        (o for o in report["valid_by_office"] if (o["per_100_households"] or 0) > 1),
        key=lambda o: (-o["per_100_households"], o["code"]),
    )
    return _offices_line(
        "有效投诉超过管理户数 1% 的管理处",
        "最高的是",
        [f"{o['name']}（{o['per_100_households']:.2f}%）" for o in over],
    )


def _resolved_late(report: dict) -> str | None:
    late = sorted(
        (
            o
            for o in report["kpis_by_office"]
            if o["resolved_in_time"] is not None and o["resolved_in_time"] < 100
        ),
        key=lambda o: (o["resolved_in_time"], o["office"]["code"]),
    )
    return _offices_line(
        "有效投诉处理及时率未达 100% 的管理处",
        "最低的是",
        [f"{o['office']['name']}（{o['resolved_in_time']:.1f}%）" for o in late],
    )


def _attention(report: dict, company_scope: bool) -> list[str]:
    """五、需重点关注的管理处 (事项): the top offices, offices over 1% of households, late resolution."""
    lines = []
    if company_scope:
        for o in report["top_offices"]:
            cats = "、".join(f"{c['name']} {c['count']} 宗" for c in o["categories"])
            lines.append(
                f"{o['name']}有效投诉 {o['count']} 宗，占有效投诉的 {_fmt_share(o['share'], 1)}，主要为{cats}。"
            )
    lines += [line for line in (_over_households(report), _resolved_late(report)) if line]
    if not lines:
        lines.append("各管理处无需特别关注的事项。" if company_scope else "本管理处无需特别关注的事项。")
    return lines


ADVICE = {
    "forwarded_in_time": "客服中心应在时限内转呈责任部门，夜间受理的一般投诉于次日上班后第一时间转呈。",
    "resolved_in_time": "责任部门须在处理时限内处理完毕，客服中心加强跟踪督办，不能按时完成的及时上报并向投诉人说明进度。",
    "callback_rate": "处理完毕的投诉须 100% 回访，重大投诉由客服中心经理、管理处主任上门回访。",
    "callback_in_time": "回访应在处理完毕后 24 小时内完成。",
    "satisfaction": "对回访不满意的投诉限期整改并再次回访，直至投诉人满意。",
    "repeat_rate": "对未在承诺时间内答复而引起的重复投诉逐宗分析原因，杜绝重复投诉。",
    "valid_per_households": "有效投诉占户数超过 1% 的，应分析原因并制定纠正预防措施。",
    "manager_callback_quota": f"客服中心经理每月回访不少于 {CALLBACK_QUOTA[Role.CS_MANAGER]} 次、"
    f"管理处主任不少于 {CALLBACK_QUOTA[Role.DIRECTOR]} 次。",
}


def _shortfall(code: str, k: dict, managers: list[dict]) -> str:
    """A KPI short of its target, in figures, with what to do (and who fell short of a callback quota)."""
    figure = (
        f"{k['value']:.{2 if code == 'valid_per_households' else 1}f}%（{k['numerator']}/{k['denominator']}）"
    )
    text = f"{k['name']}为 {figure}，未达到目标（{k['target']}）。{ADVICE.get(code, '')}"
    if code == "manager_callback_quota":
        short = [m for m in managers if not m["met"]]
        text += (
            "未完成的：" + "、".join(f"{m['name']}（{m['callbacks']}/{m['quota']} 次）" for m in short) + "。"
        )
    return text


def _improvements(report: dict) -> list[str]:
    """六、存在问题与改进要求: every KPI short of its target, in figures."""
    lines = [
        _shortfall(code, k, report["managers"]) for code, k in report["kpis"].items() if k["met"] is False
    ]
    return lines or ["各项考核指标均达到目标，请继续保持。"]


def write_summary(
    report: dict, base: QuerySet[Complaint], period: Period, categories: list[Category | None]
) -> list[dict]:
    this, last = ("本月", "上月") if period.months == 1 else ("本期", "上期")
    company_scope = report["scope"]["type"] != "office"
    cohort = (
        base.filter(received_at__gte=period.start, received_at__lt=period.end)
        .exclude(status=Status.MERGED)
        .exclude(settled_at_counter_q())
    )
    problems = _problems(report, cohort, period, categories)
    return [
        {"heading": "一、投诉总体情况", "paragraphs": _overall(report, this, last, company_scope)},
        {"heading": "二、有效投诉主要问题", "paragraphs": _valid_problems(report, problems, this, last)},
        {"heading": "三、协助处理类投诉", "paragraphs": _assist_matters(report, problems, this)},
        {
            "heading": f"四、与{last}对比及季节性特点",
            "paragraphs": _changes(report, problems, last, company_scope),
        },
        {
            "heading": "五、需重点关注的管理处" if company_scope else "五、需重点关注的事项",
            "paragraphs": _attention(report, company_scope),
        },
        {"heading": "六、存在问题与改进要求", "paragraphs": _improvements(report)},
    ]


def as_text(summary: list[dict]) -> str:
    return "\n".join(f"{s['heading']}\n" + "\n".join(s["paragraphs"]) for s in summary)
