"""Likely repeat complaints (重复投诉) at intake: whether a new complaint may be the same matter as an
earlier one of the same home or caller, and which earlier complaints the desk already ruled out.

"Same matter" is the same content category (when both have one) or similar text. Text is compared
by its subject words: the words `search.words` cuts (jieba, search mode), less single characters,
numbers and the words nearly every complaint has (times, places in and around a home, people,
"broken", "please fix it"), and less the pieces search mode also cuts out of a longer word ("十多"
of "十多分钟"), so a phrase counts once. A word of one text matches a word of the other when either
contains the other ("停车位" and "车位"). Two texts are similar when at least
`policy.REPEAT_TEXT_OVERLAP` of the shorter text's subject words match: the shorter text, not the
union (Jaccard), because "电梯又坏了" has one subject word and a written-up earlier complaint a dozen,
and the one shared "电梯" must be enough. Character bigrams are not used: they make "楼道灯不亮" and
"楼道里堆满杂物" alike as much as "楼道灯坏了".

The clerk's answer "不是重复投诉" is stored on the new complaint's registration event
(`data["not_repeat_of"]`, earlier complaint numbers). It is an answer about a pair of matters, so
it holds for every later intake of the same home or caller about the same matter as the complaint
it was given for (`ruled_out`): a second call about the corridor light is not asked again about the
open lift complaint (it may be asked whether it repeats the first call about the light, a new
pair), while a call about the lift itself still is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from .choices import OPEN_STATUSES, EventType
from .models import Category, Complaint, ComplaintEvent
from .policy import REPEAT_TEXT_OVERLAP, REPEAT_WINDOW
from .search import words

# Words most complaints have whatever they are about: when, where in the home, who, and asking for
# it to be handled. Sharing them says nothing about the matter.
_GENERIC_WORDS = """
    今天 昨天 前天 今晚 昨晚 晚上 早上 上午 下午 中午 半夜 凌晨 每天 天天 几天 好几天 这几天 最近
    现在 已经 一直 经常 多次 好几次 几次 总是 还是 仍然 至今 一周 一个月 时候 时间 小时 分钟
    楼上 楼下 隔壁 对面 门口 家里 家门口 里面 外面 附近 旁边 这里 那里 地方 房子 房间 单元 楼栋
    小区 物业 物业公司 业主 住户 居民 邻居 家人 老人 小孩 孩子 我们 你们 他们 自己 有人 没人
    工作人员 管理处 客服 师傅 保安 处理 解决 维修 修理 希望 尽快 马上 要求 反映 投诉 问题 情况 事情
    坏了 又坏了 坏掉 坏掉了 不好 不行 没用 不能用 很大 太大 很多 非常 严重 影响 根本
    没有 不能 不会 不是 还没 一下 一个 一位 什么 怎么 为什么 可以
"""
_GENERIC = frozenset(_GENERIC_WORDS.split())


def subject_words(text: str) -> set[str]:
    """The words of a text that can tell one matter from another, each phrase once (its longest cut)."""
    found = {w for w in words(text) if len(w) >= 2 and not w.isdigit() and w not in _GENERIC}
    return {w for w in found if not any(w != other and w in other for other in found)}


def _matched(word: str, others: set[str]) -> bool:
    return any(word in other or other in word for other in others)


def similar_text(a: str, b: str) -> bool:
    """Whether two complaint texts may be about the same matter (see the module's note)."""
    wa, wb = subject_words(a), subject_words(b)
    if not wa or not wb:
        return False
    shorter, longer = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return sum(_matched(w, longer) for w in shorter) >= REPEAT_TEXT_OVERLAP * len(shorter)


def same_matter(earlier: Complaint, *, category: Category | None, content: str) -> bool:
    """Whether a new intake (its category, if chosen, and its text) may be the same matter as an
    earlier complaint: the same category when both have one, or similar text."""
    if category is not None and earlier.category_id is not None and earlier.category_id == category.pk:
        return True
    return similar_text(content, earlier.content)


def still_live(earlier: Complaint, now: dt.datetime) -> bool:
    """Open, or closed so recently that a new call is likely about it again."""
    if earlier.status in OPEN_STATUSES:
        return True
    return earlier.closed_at is not None and earlier.closed_at >= now - REPEAT_WINDOW


def may_repeat(earlier: Complaint, *, category: Category | None, content: str, now: dt.datetime) -> bool:
    """Whether the desk should ask if a new intake of the same home or caller repeats `earlier`."""
    return still_live(earlier, now) and same_matter(earlier, category=category, content=content)


def ruled_out(
    among: QuerySet[Complaint], earlier: Iterable[Complaint], *, category: Category | None, content: str
) -> dict[str, str]:
    """Of the `earlier` complaints, those the desk already said are not repeated by a complaint in
    `among` (the same home's or caller's, as the clerk may see them) that may be the same matter as
    the new intake: earlier number → the number of the complaint registered with that answer."""
    numbers = {c.number: c.received_at for c in earlier}
    if not numbers:
        return {}
    answers = (
        ComplaintEvent.objects.filter(
            type=EventType.REGISTERED,
            complaint__in=among,
            at__gte=min(numbers.values()),  # the answer came after the earlier complaint
            data__has_key="not_repeat_of",
        )
        .select_related("complaint")
        .only("data", "complaint__number", "complaint__content", "complaint__category_id")
        .order_by("at", "id")
    )
    found: dict[str, str] = {}
    for e in answers:
        ruled = [n for n in e.data.get("not_repeat_of") or () if n in numbers and n not in found]
        if ruled and same_matter(e.complaint, category=category, content=content):
            found.update(dict.fromkeys(ruled, e.complaint.number))
    return found
