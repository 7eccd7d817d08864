"""Likely repeat complaints (重复投诉) at intake, as the complaints core decides them: the same category
or similar text (kesu.complaints.repeats), and the desk's answer "不是重复投诉" recorded on the new
complaint's registration, so the same earlier complaint is not asked about again for the same matter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kesu.complaints import repeats, services
from kesu.complaints.choices import EventType
from kesu.complaints.models import Category, Complaint, ComplaintEvent
from kesu.web import timeline

LIFT = "3栋2号电梯经常停运，昨晚困了一位老人十多分钟。"  # the open complaint of 3栋-1201

ALIKE = [
    ("电梯又坏了", "3号电梯停运"),
    ("电梯又坏了", LIFT),
    ("3栋电梯今晚又停了，有人被困在里面。", LIFT),
    ("电梯门关不上", LIFT),
    ("楼道灯不亮", "3栋1单元楼道的灯不亮了"),
    ("楼道灯不亮", "楼道灯坏了好几天"),
    ("停车位被占", "车位被别人占用"),
    ("晚上楼上装修噪音很大", "楼上邻居半夜装修，吵得睡不着"),
    ("家里卫生间漏水", "楼上卫生间漏水渗到我家"),
    ("门口垃圾没人清理", "垃圾桶满了没人收"),
    ("物业费太贵", "物业费收费标准不合理"),
]
UNRELATED = [
    ("楼道灯不亮", "电梯困人"),
    ("楼道灯不亮", LIFT),
    ("楼道灯不亮，晚上回家看不见路，希望尽快维修", LIFT),
    ("物业费太贵", "电梯又坏了"),
    ("楼上漏水", "楼上装修噪音太大"),  # "楼上" is where, not what
    ("门禁又坏了", "电梯又坏了"),  # "又坏了" is how, not what
    ("小区门口垃圾堆了好几天没人清理", "楼道灯不亮"),
]


@pytest.mark.parametrize(("new", "earlier"), ALIKE)
def test_the_same_matter_told_in_other_words_is_alike(new, earlier):
    assert repeats.similar_text(new, earlier)
    assert repeats.similar_text(earlier, new)


@pytest.mark.parametrize(("new", "earlier"), UNRELATED)
def test_other_matters_of_one_home_are_not_alike(new, earlier):
    assert not repeats.similar_text(new, earlier)
    assert not repeats.similar_text(earlier, new)


def test_words_every_complaint_has_make_nothing_alike():
    assert repeats.subject_words("希望物业尽快处理，今天已经反映多次了") == set()
    assert not repeats.similar_text("同上", "同上")
    assert not repeats.similar_text("希望物业尽快处理", "物业一直不处理，希望尽快解决")


def test_a_phrase_counts_once_not_once_per_piece_search_mode_cuts():
    # jieba's search mode also cuts 十多, 多分, 十多分, 多分钟 out of 十多分钟
    assert repeats.subject_words(LIFT) == {"电梯", "停运", "困了", "十多分钟"}


def test_how_much_must_be_shared_is_the_policys(monkeypatch):
    pair = ("3栋电梯今晚又停了，有人被困在里面。", LIFT)  # 电梯 of 电梯, 被困: a half
    assert repeats.similar_text(*pair)
    monkeypatch.setattr(repeats, "REPEAT_TEXT_OVERLAP", 0.75)
    assert not repeats.similar_text(*pair)


# ------------------------------------------------------------------------ an earlier complaint


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def test_the_same_category_is_the_same_matter_whatever_the_words(org, make_complaint):
    lift = make_complaint(category="facilities")
    assert repeats.same_matter(lift, category=category("facilities"), content="楼道灯不亮")
    assert not repeats.same_matter(lift, category=category("fees"), content="物业费太贵")


def test_without_both_categories_the_text_decides(org, make_complaint):
    lift = make_complaint()  # not judged yet
    assert not repeats.same_matter(lift, category=category("facilities"), content="楼道灯不亮")
    assert repeats.same_matter(lift, category=None, content="电梯又坏了")
    judged = make_complaint(category="facilities")
    assert not repeats.same_matter(judged, category=None, content="楼道灯不亮")
    # another category, the same words: still asked
    assert repeats.same_matter(judged, category=category("service"), content="电梯又坏了")


def test_only_an_open_or_lately_closed_complaint_may_be_repeated(org, make_complaint):
    now = timezone.now()
    long_ago = now - dt.timedelta(days=60)
    old = make_complaint(received_at=long_ago, at=long_ago)
    assert repeats.may_repeat(old, category=None, content="电梯又坏了", now=now)  # still open
    old = services.withdraw(old, org.supervisor, reason="业主撤回", at=long_ago + dt.timedelta(hours=1))
    assert not repeats.may_repeat(old, category=None, content="电梯又坏了", now=now)
    assert repeats.may_repeat(old, category=None, content="电梯又坏了", now=long_ago + dt.timedelta(days=2))


# ------------------------------------------------------------------------ the desk's answer


def registration(c: Complaint) -> ComplaintEvent:
    return ComplaintEvent.objects.get(complaint=c, type=EventType.REGISTERED)


def test_not_a_repeat_is_recorded_on_the_registration_and_in_the_handling_record(org, make_complaint):
    lift = make_complaint(category="facilities")
    light = make_complaint(content="楼道灯不亮", category="facilities", not_repeat_of=[lift.number])
    assert light.repeat_of is None
    assert registration(light).data["not_repeat_of"] == [lift.number]
    entry = timeline.for_complaint(light, org.supervisor)[0]
    assert ("确认不是重复投诉", lift.number) in entry.details
    # by object too; and nothing recorded when nothing was asked
    again = make_complaint(content="楼道灯还是不亮", not_repeat_of=[lift, light])
    assert registration(again).data["not_repeat_of"] == sorted([lift.number, light.number])
    assert "not_repeat_of" not in registration(lift).data


def test_not_a_repeat_of_what_the_clerk_cannot_see_or_another_office_is_refused(org, make_complaint):
    theirs = make_complaint(
        by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone
    )
    with pytest.raises(ValidationError) as e:
        make_complaint(content="楼道灯不亮", not_repeat_of=[theirs.number])
    assert "找不到投诉" in e.value.message_dict["not_repeat_of"][0]
    with pytest.raises(ValidationError) as e:
        make_complaint(by=org.quality, content="楼道灯不亮", not_repeat_of=[theirs.number])
    assert e.value.message_dict["not_repeat_of"] == ["只能关联同一管理处的投诉。"]
    with pytest.raises(ValidationError):
        make_complaint(content="楼道灯不亮", not_repeat_of=["Y01-000000-0000"])
    assert Complaint.objects.count() == 1


def test_one_earlier_complaint_cannot_be_both_repeated_and_not(org, make_complaint):
    lift = make_complaint()
    with pytest.raises(ValidationError) as e:
        make_complaint(by=org.supervisor, repeat_of=lift.number, not_repeat_of=[lift.number])
    assert e.value.message_dict["not_repeat_of"] == ["同一投诉不能既是重复投诉又不是重复投诉。"]


def test_a_resident_on_line_does_not_answer_the_desks_question(org, make_complaint):
    lift = make_complaint()
    with pytest.raises(ValidationError) as e:
        services.register(
            org.resident,
            office=org.a.office,
            channel="online",
            content="楼道灯不亮",
            unit=org.a.unit,
            not_repeat_of=[lift.number],
        )
    assert e.value.message_dict["not_repeat_of"] == ["此项由工作人员填写。"]


def home_complaints():
    return Complaint.objects.filter(unit__code__endswith="1201")


def test_an_answer_holds_for_later_calls_about_the_same_matter_only(org, make_complaint):
    lift = make_complaint(category="facilities")
    light = make_complaint(content="楼道灯不亮", category="facilities", not_repeat_of=[lift.number])
    facilities = category("facilities")
    # a second call about the light: the lift complaint is not asked about again
    assert repeats.ruled_out(home_complaints(), [lift], category=facilities, content="楼道灯还是不亮") == {
        lift.number: light.number
    }
    # a call about the lift itself is still asked about it
    assert repeats.ruled_out(home_complaints(), [lift], category=None, content="电梯又停了") == {}
    # another home's answers are not this home's
    other = Complaint.objects.filter(unit=org.a.other_unit)
    assert repeats.ruled_out(other, [lift], category=facilities, content="楼道灯还是不亮") == {}
