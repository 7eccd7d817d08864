"""What a resident is shown about their complaint: the status in plain words, the next promised time,
and the timeline entries meant for them — never internal notes, never who on the staff did what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from kesu.complaints.choices import EventType, Satisfaction, Status, Tier
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.complaints.services import allowed_actions
from kesu.org.choices import Role
from kesu.org.models import User

COMPLAINANT = ComplaintEvent.Visibility.COMPLAINANT

# The four words residents see, and the tone of the badge.
RECEIVED, WORKING, RESOLVED, DONE = (
    gettext_lazy("已受理"),
    gettext_lazy("处理中"),
    pgettext_lazy("resident status", "已处理待回访"),  # (staff: "awaiting callback")
    gettext_lazy("已完结"),
)
_WORDS = {
    Status.RECEIVED: (RECEIVED, "new"),
    Status.DISPATCHED: (RECEIVED, "new"),
    Status.IN_PROGRESS: (WORKING, "work"),
    Status.RECTIFYING: (WORKING, "work"),
    Status.RESOLVED: (RESOLVED, "check"),
    Status.CLOSED: (DONE, "done"),
    Status.DECLINED: (DONE, "done"),
    Status.WITHDRAWN: (DONE, "done"),
    Status.MERGED: (DONE, "done"),
}
# Which way it ended, said after 已完结.
_ENDS = {
    Status.CLOSED: gettext_lazy("已结案"),
    Status.DECLINED: gettext_lazy("不予受理"),
    Status.WITHDRAWN: gettext_lazy("已撤回"),
    Status.MERGED: gettext_lazy("已合并处理"),
}
SATISFACTION_WORDS = dict(Satisfaction.choices)


@dataclass(frozen=True)
class StatusWords:
    word: str
    tone: str
    detail: str  # e.g. 已撤回 / 整改中 / 您已评价：满意，等待管理处结案


def status_words(c: Complaint) -> StatusWords:
    word, tone = _WORDS.get(c.status, (RECEIVED, "new"))
    detail = str(_ENDS.get(c.status, ""))
    if c.status == Status.RECTIFYING:
        detail = _("正在整改")
    elif c.status == Status.RESOLVED and c.satisfaction:
        rating = SATISFACTION_WORDS.get(c.satisfaction, "")
        detail = _("您已评价：%(rating)s，等待管理处结案") % {"rating": rating}
    return StatusWords(str(word), tone, detail)


def when(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """3月12日 10:00 (this year) or 2027年1月5日 10:00."""
    local = timezone.localtime(value)
    this_year = timezone.localtime(now or timezone.now()).year
    if local.year == this_year:
        return dateformat.format(local, pgettext("date format", "n月j日 H:i"))
    return dateformat.format(local, pgettext("date format", "Y年n月j日 H:i"))


def deadline_words(c: Complaint, now: dt.datetime | None = None) -> str:
    """预计 3月12日 10:00 前答复: the promise made at intake, then the handling and rectification limits."""
    now = now or timezone.now()
    if not c.is_open or c.status == Status.RESOLVED:
        return ""
    if c.status == Status.RECTIFYING and c.rectify_due_at:
        due = c.rectify_due_at
        expected, late = _("预计 %(when)s 前整改完毕"), _("原定 %(when)s 前整改完毕，我们正在抓紧处理")
    elif c.answered_at is None and c.committed_answer_at:
        due = c.committed_answer_at
        expected, late = _("预计 %(when)s 前答复"), _("原定 %(when)s 前答复，我们正在抓紧处理")
    elif c.resolve_due_at:
        due = c.resolve_due_at
        expected, late = _("预计 %(when)s 前处理完毕"), _("原定 %(when)s 前处理完毕，我们正在抓紧处理")
    else:
        return ""
    return (late if due < now else expected) % {"when": when(due, now)}


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    title: str
    text: str = ""  # words meant for the complainant (shown escaped)
    event: str = ""  # the event type it shows


def timeline(c: Complaint, events: list[ComplaintEvent] | None = None) -> list[Entry]:
    """The complainant's view of the timeline, oldest first."""
    if events is None:
        events = list(c.events.select_related("actor").order_by("at", "id"))
    entries: list[Entry] = []
    for e in events:
        entry = _entry(e)
        if entry is None:
            continue
        entry = replace(entry, event=e.type)
        if e.type == EventType.REGISTERED:
            entry = replace(entry, at=c.received_at)  # when we received it, not when it was typed in
        entries.append(entry)
    return entries


def _entry(e: ComplaintEvent) -> Entry | None:
    told = e.visibility == COMPLAINANT
    t = e.type
    company = (e.data or {}).get("to_company")
    if isinstance(company, dict):
        # The matter went beyond the office (escalated, or a repeat complaint): who handles it now and
        # the time promised, as the SMS said (kesu.complaints.alerts).
        title = _("已转由%(handler)s处理") % {"handler": Tier.COMPANY.label}
        committed = company.get("committed")
        if not isinstance(committed, str):
            return Entry(e.at, title)
        promise = when(dt.datetime.fromisoformat(committed), e.at)
        return Entry(e.at, title, _("我们将于 %(when)s 前给您答复。") % {"when": promise})
    if t == EventType.REGISTERED:
        if told and e.note:
            return Entry(e.at, _("已受理并当场答复"), e.note)
        return Entry(e.at, _("已收到您的投诉"))
    if t == EventType.DISPATCHED:
        return Entry(e.at, _("已转交责任部门处理"))
    if t == EventType.ACCEPTED:
        return Entry(e.at, _("工作人员已接手处理"))
    if t == EventType.NOTE:
        return Entry(e.at, pgettext("resident timeline", "处理进展"), e.note) if told else None
    if t == EventType.RESOLVED:
        # What the complainant was told, never the handler's internal record.
        return Entry(e.at, _("已处理完毕"), e.data.get("told", e.note) if told else "")
    if t == EventType.CALLED_BACK:
        rating = SATISFACTION_WORDS.get(e.data.get("satisfaction", ""), "")
        if e.actor_id is not None and e.actor.role == Role.RESIDENT:
            return Entry(e.at, _("您的评价：%(rating)s") % {"rating": rating}, e.note)
        # A staff callback's words are the staff member's record of the call: the rating only.
        if rating:
            return Entry(e.at, pgettext("resident timeline", "回访：%(rating)s") % {"rating": rating})
        return Entry(e.at, pgettext("resident timeline", "回访"))
    if t == EventType.REOPENED:
        return Entry(e.at, _("已安排整改"))
    if t == EventType.CLOSED:
        return Entry(e.at, _("已结案，感谢您的监督"))
    if t == EventType.DECLINED:
        return Entry(e.at, _("不予受理"), e.note if told else "")
    if t == EventType.WITHDRAWN:
        return Entry(e.at, _("投诉已撤回"))
    if t == EventType.MERGED:
        return Entry(e.at, _("与同一问题的其他投诉合并处理"))
    return None  # judgement, escalation, attachments, overdue, contact reveals: internal


def can_rate(c: Complaint, user: User) -> bool:
    """The resident may confirm and rate now (the lifecycle's own rule decides: resolved, not yet rated
    since, and no on-site callback by staff required)."""
    return "call_back" in allowed_actions(c, user)
