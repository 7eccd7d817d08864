"""The shared list filter (web list, export, API) and Chinese word search."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import local

from kesu.complaints import services
from kesu.complaints.filters import ComplaintFilter
from kesu.complaints.models import Complaint


def _numbers(params: dict, user) -> set[str]:
    qs = Complaint.objects.visible_to(user)
    f = ComplaintFilter(params, queryset=qs)
    assert f.is_valid(), f.errors
    return set(f.qs.values_list("number", flat=True))


@pytest.fixture
def three(org, make_complaint):
    lift = make_complaint(content="3栋2号电梯困人十多分钟，监控中心没人接电话。")
    dog = make_complaint(content="楼下邻居的狗每天夜里叫，已经好几天睡不好。")
    fee = make_complaint(content="物业费账单多收了车位管理费，要求退还。")
    return lift, dog, fee


def test_a_word_finds_the_complaints_containing_it(org, three):
    lift, dog, fee = three
    assert _numbers({"q": "电梯"}, org.reception) == {lift.number}


def test_every_word_of_a_query_must_occur_but_not_side_by_side(org, three):
    lift, _dog, _fee = three
    assert _numbers({"q": "电梯 监控中心"}, org.reception) == {lift.number}
    assert _numbers({"q": "电梯困人了吗"}, org.reception) == {lift.number}  # particles are ignored
    assert _numbers({"q": "电梯 物业费"}, org.reception) == set()


def test_a_complaint_number_finds_exactly_that_complaint(org, three):
    _lift, dog, _fee = three
    assert _numbers({"q": dog.number}, org.reception) == {dog.number}


def test_search_never_reaches_beyond_what_the_user_may_see(org, three):
    assert _numbers({"q": "电梯"}, org.reception2) == set()


def test_received_before_includes_the_whole_local_day(org, make_complaint):
    late = make_complaint(received_at=local(2026, 3, 9, 23, 59), at=local(2026, 3, 10, 9, 0))
    next_day = make_complaint(received_at=local(2026, 3, 10, 0, 0), at=local(2026, 3, 10, 9, 0))
    assert _numbers({"received_before": "2026-03-09"}, org.reception) == {late.number}
    assert _numbers({"received_after": "2026-03-10"}, org.reception) == {next_day.number}


def test_overdue_filter_lists_only_complaints_past_a_deadline(org, make_complaint):
    now = dt.datetime.now(dt.UTC)
    old = make_complaint(received_at=now - dt.timedelta(days=5))
    fresh = make_complaint()
    assert old.number in _numbers({"overdue": "any"}, org.reception)
    assert fresh.number not in _numbers({"overdue": "any"}, org.reception)
    assert _numbers({"overdue": "forward"}, org.reception) == {old.number}


def test_repeat_filter_lists_both_sides_of_a_repeat_link(org, make_complaint):
    first = make_complaint()
    again = make_complaint()
    other = make_complaint()
    services.link_repeat(again, org.supervisor, target=first.number, reason="同一问题未按时答复")
    assert _numbers({"repeat": "true"}, org.reception) == {first.number, again.number}
    assert other.number not in _numbers({"repeat": "true"}, org.reception)


def test_filters_by_office_status_and_category_codes(org, make_complaint):
    a = make_complaint(category="facilities")
    services.register(
        org.quality,
        office="Y02",
        channel="phone",
        content="门禁坏了",
        complainant_name="李女士",
        category="security",
    )
    assert _numbers({"office": ["Y01"], "category": ["facilities"]}, org.quality) == {a.number}
    assert _numbers({"status": ["received"], "office": ["Y02"]}, org.quality) != set()


def test_an_unknown_filter_value_is_a_form_error_not_a_crash(org):
    f = ComplaintFilter({"status": ["nonsense"]}, queryset=Complaint.objects.all())
    assert not f.is_valid()
    assert "status" in f.errors


def test_a_date_far_in_the_future_is_a_form_error_not_a_crash(org):
    f = ComplaintFilter({"received_before": "9999-12-31"}, queryset=Complaint.objects.all())
    assert not f.is_valid()
    assert "received_before" in f.errors


def test_column_filters_do_not_make_the_query_distinct(org, make_complaint):
    make_complaint()
    f = ComplaintFilter({"status": ["received"], "office": ["Y01"]}, queryset=Complaint.objects.all())
    assert f.is_valid()
    assert "DISTINCT" not in str(f.qs.query)
