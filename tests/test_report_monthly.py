"""Golden tests of the monthly report computation: every expected figure was worked out by hand from
the story in tests/report_support.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from report_support import AS_OF, build_data

from kesu.complaints.models import Complaint
from kesu.reports.monthly import ReportAccessError, compute
from kesu.reports.period import Period, PeriodError
from kesu.reports.shares import largest_remainder
from kesu.reports.summary import pick_examples

FEB = Period.parse("2026-02")


@pytest.fixture
def data(org):
    return build_data(org)


def _pct_sum(values) -> Decimal:
    return sum((Decimal(str(v)) for v in values if v is not None), Decimal(0))


# --------------------------------------------------------------------------------------- shares


def test_largest_remainder_makes_thirds_add_up():
    assert [str(x) for x in largest_remainder([1, 1, 1], 1)] == ["33.4", "33.3", "33.3"]
    assert [str(x) for x in largest_remainder([1, 1, 1], 2)] == ["33.34", "33.33", "33.33"]


def test_largest_remainder_gives_the_missing_units_to_the_largest_remainders():
    # 4/7, 1/7, 1/7, 1/7: rounding each alone reads 57.14 + 3 × 14.29 = 100.01
    assert [str(x) for x in largest_remainder([4, 1, 1, 1], 2)] == ["57.14", "14.29", "14.29", "14.28"]


def test_largest_remainder_never_gives_a_share_to_zero_and_is_none_for_nothing():
    assert [str(x) for x in largest_remainder([0, 3, 0], 1)] == ["0.0", "100.0", "0.0"]
    assert largest_remainder([0, 0], 2) == [None, None]


def test_largest_remainder_many_small_counts_add_up_exactly():
    counts = [7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1]
    for d in (0, 1, 2):
        assert sum(largest_remainder(counts, d)) == 100


# --------------------------------------------------------------------------------------- periods


def test_period_parsing_labels_and_previous():
    p = Period.parse("2025-12", "2026-01")
    assert (p.months, p.label, p.code) == (2, "2025年12月—2026年1月", "2025-12..2026-01")
    assert p.previous() == Period.parse("2025-10", "2025-11")
    assert Period.parse("2026-01", "2026-02").label == "2026年1—2月"
    assert FEB.previous().label == "2026年1月"
    assert FEB.start.isoformat() == "2026-02-01T00:00:00+08:00"
    assert FEB.end.isoformat() == "2026-03-01T00:00:00+08:00"
    with pytest.raises(PeriodError) as e:
        Period.parse("2026-13")
    assert e.value.field == "month"
    with pytest.raises(PeriodError) as e:
        Period.parse("2026-03", "2026-02")
    assert e.value.field == "to"


# --------------------------------------------------------------------------------------- company


def test_company_february_counts_natures_and_shares(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    # 23:59 on 28 Feb is February, 00:00 on 1 Mar is not; 00:00 on 1 Feb is, 23:59 on 31 Jan is not.
    assert r["total"] == 11
    assert r["merged"] == 1  # B5, merged into B1, counted once
    assert {k: v["count"] for k, v in r["by_nature"].items()} == {
        "valid": 6,
        "assist": 2,
        "invalid": 2,
        "unassessed": 1,
    }
    assert {k: v["share"] for k, v in r["by_nature"].items()} == {
        "valid": 54.55,
        "assist": 18.18,
        "invalid": 18.18,
        "unassessed": 9.09,
    }
    assert _pct_sum(v["share"] for v in r["by_nature"].values()) == Decimal("100.00")
    assert r["major"] == 1
    assert r["valid"] == 6
    assert r["direct"]["total"] == 1  # A9, registered by the quality department
    assert r["direct"]["by_nature"]["valid"] == {"name": "有效投诉", "count": 1, "share": 100.0}
    assert r["households"] == 2500
    assert r["period"]["label"] == "2026年2月"
    assert r["scope"]["type"] == "company"
    assert r["scope"]["offices"] == ["Y01", "Y02", "Y03"]
    assert r["title"] == "示范物业2026年2月客户投诉工作月报"


def test_company_february_valid_by_category_and_office(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    cats = [(c["code"], c["count"], c["share"]) for c in r["valid_by_category"]]
    assert cats[:3] == [("facilities", 3, 50.0), ("security", 2, 33.3), ("service", 1, 16.7)]
    # a category with none is listed with 0
    assert ("fire", 0, 0.0) in cats
    assert len(cats) == 11
    assert _pct_sum(c["share"] for c in r["valid_by_category"]) == Decimal("100.0")
    offices = [(o["code"], o["count"], o["share"], o["per_100_households"]) for o in r["valid_by_office"]]
    # an office with none (Y03) is listed with 0
    assert offices == [("Y01", 4, 66.7, 0.4), ("Y02", 2, 33.3, 0.2), ("Y03", 0, 0.0, 0.0)]
    assert [
        (o["code"], o["count"], [(c["code"], c["count"]) for c in o["categories"]]) for o in r["top_offices"]
    ] == [
        ("Y01", 4, [("facilities", 2), ("security", 1), ("service", 1)]),
        ("Y02", 2, [("facilities", 1), ("security", 1)]),
    ]


def test_company_february_annexes_add_up(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    a1 = {row["office"]["code"]: (row["counts"], row["total"], row["share"]) for row in r["annex1"]["rows"]}
    assert a1["Y01"] == ({"valid": 4, "assist": 1, "invalid": 1, "unassessed": 1}, 7, 63.64)
    assert a1["Y02"] == ({"valid": 2, "assist": 1, "invalid": 1, "unassessed": 0}, 4, 36.36)
    assert a1["Y03"] == ({"valid": 0, "assist": 0, "invalid": 0, "unassessed": 0}, 0, 0.0)
    t1 = r["annex1"]["totals"]
    assert t1["counts"] == {"valid": 6, "assist": 2, "invalid": 2, "unassessed": 1}
    assert (t1["total"], t1["share"]) == (11, 100.0)
    assert _pct_sum(row["share"] for row in r["annex1"]["rows"]) == Decimal("100.00")

    a2 = {row["office"]["code"]: row for row in r["annex2"]["rows"]}
    assert {k: v for k, v in a2["Y01"]["counts"].items() if v} == {
        "facilities": 2,
        "security": 1,
        "service": 1,
    }
    assert {k: v for k, v in a2["Y02"]["counts"].items() if v} == {"facilities": 1, "security": 1}
    assert (a2["Y01"]["total"], a2["Y01"]["share"]) == (4, 66.7)
    assert (a2["Y02"]["total"], a2["Y02"]["share"]) == (2, 33.3)
    assert (a2["Y03"]["total"], a2["Y03"]["share"]) == (0, 0.0)
    t2 = r["annex2"]["totals"]
    assert {k: v for k, v in t2["counts"].items() if v} == {"facilities": 3, "security": 2, "service": 1}
    assert t2["total"] == 6
    assert t2["shares"]["facilities"] == 50.0
    # every column total is the sum of its column, every row total the sum of its row
    for annex in (r["annex1"], r["annex2"]):
        for col in annex["columns"]:
            assert annex["totals"]["counts"][col["code"]] == sum(
                row["counts"][col["code"]] for row in annex["rows"]
            )
        for row in annex["rows"]:
            assert row["total"] == sum(row["counts"].values())


def test_company_february_kpis(org, data):
    k = compute(org.quality, FEB, as_of=AS_OF)["kpis"]

    def fig(code):
        return (k[code]["numerator"], k[code]["denominator"], k[code]["value"])

    assert fig("forwarded_in_time") == (4, 9, 44.4)  # A3 A5 A9 B1 of A1 A3 A5 A7 A8 A9 B1 B2 B3
    assert fig("resolved_in_time") == (3, 6, 50.0)  # A3 A9 B1 of the six valid
    assert fig("callback_rate") == (4, 6, 66.7)  # A3 A5 A7 B1 of A3 A5 A6 A7 A9 B1
    assert fig("callback_in_time") == (3, 5, 60.0)  # A3 A7 B1 of A3 A5 (late) A7 B1 + A9 overdue
    assert fig("satisfaction") == (3, 4, 75.0)  # A7 was 不满意 at its first callback, then rectified
    assert fig("repeat_rate") == (1, 11, 9.1)  # B2
    assert fig("reopen_rate") == (1, 6, 16.7)  # A7
    assert fig("valid_per_households") == (6, 2500, 0.24)
    assert k["resolve_hours_median"]["value"] == 20.0  # 2, 6, 34, 96 hours
    assert k["resolve_hours_p90"]["value"] == 77.4  # 34 + 0.7 × 62
    assert fig("manager_callback_quota") == (2, 3, 66.7)  # director, director2 met; cs_manager 1 of 3
    assert [
        (m["username"], m["callbacks"], m["quota"], m["met"])
        for m in compute(org.quality, FEB, as_of=AS_OF)["managers"]
    ] == [("cs_manager", 1, 3, False), ("director", 1, 1, True), ("director2", 1, 1, True)]
    assert k["satisfaction"]["met"] is False and k["valid_per_households"]["met"] is True


def test_company_february_compares_with_january(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    prev = r["previous"]
    assert prev["period"]["label"] == "2026年1月"
    assert prev["total"] == 2  # A4 (31 Jan 23:59) and B4
    assert prev["valid"] == 2
    assert {c["code"]: c["count"] for c in prev["valid_by_category"] if c["count"]} == {
        "facilities": 1,
        "security": 1,
    }
    k = r["kpis"]
    assert (k["forwarded_in_time"]["previous"], k["forwarded_in_time"]["change"]) == (50.0, -5.6)
    assert (k["callback_rate"]["previous"], k["callback_rate"]["change"]) == (100.0, -33.3)
    assert (k["satisfaction"]["previous"], k["satisfaction"]["change"]) == (100.0, -25.0)
    assert (k["resolve_hours_median"]["previous"], k["resolve_hours_median"]["change"]) == (2.0, 18.0)
    assert (k["manager_callback_quota"]["previous"], k["manager_callback_quota"]["change"]) == (33.3, 33.4)


def test_kpis_by_office(org, data):
    rows = {r["office"]["code"]: r for r in compute(org.quality, FEB, as_of=AS_OF)["kpis_by_office"]}
    assert (rows["Y01"]["total"], rows["Y01"]["valid"], rows["Y01"]["resolved_in_time"]) == (7, 4, 50.0)
    assert (rows["Y02"]["forwarded_in_time"], rows["Y02"]["callback_rate"]) == (33.3, 100.0)
    assert rows["Y03"]["resolved_in_time"] is None and rows["Y03"]["total"] == 0


# --------------------------------------------------------------------------------------- scope


def test_director_gets_their_office_only(org, data):
    r = compute(org.director, FEB, as_of=AS_OF)
    assert r["scope"] == {"type": "office", "office": {"code": "Y01", "name": "翠湖花园"}, "offices": ["Y01"]}
    assert r["title"] == "翠湖花园2026年2月客户投诉工作月报"
    assert r["total"] == 7
    # 4/7 and 3 × 1/7: largest remainders, not 57.14 + 3 × 14.29 = 100.01
    assert [v["share"] for v in r["by_nature"].values()] == [57.14, 14.29, 14.29, 14.28]
    assert [(c["code"], c["count"], c["share"]) for c in r["valid_by_category"][:3]] == [
        ("facilities", 2, 50.0),
        ("security", 1, 25.0),
        ("service", 1, 25.0),
    ]
    k = r["kpis"]
    assert (k["forwarded_in_time"]["numerator"], k["forwarded_in_time"]["denominator"]) == (3, 6)
    assert k["callback_rate"]["value"] == 60.0 and k["satisfaction"]["value"] == 66.7
    assert (k["resolve_hours_median"]["value"], k["resolve_hours_p90"]["value"]) == (34.0, 83.6)
    assert (k["manager_callback_quota"]["numerator"], k["manager_callback_quota"]["denominator"]) == (1, 2)
    assert k["valid_per_households"]["value"] == 0.4
    assert [row["office"]["code"] for row in r["annex1"]["rows"]] == ["Y01"]


def test_director_cannot_have_another_office(org, data):
    with pytest.raises(ReportAccessError) as e:
        compute(org.director2, FEB, office="Y01", as_of=AS_OF)
    assert (e.value.status, e.value.field) == (404, "office")


def test_company_role_may_ask_for_one_office(org, data):
    r = compute(org.executive, FEB, office="y02", as_of=AS_OF)
    assert r["scope"]["office"]["code"] == "Y02"
    assert r["total"] == 4 and r["merged"] == 1


@pytest.mark.parametrize("who", ["handler", "resident"])
def test_department_staff_and_residents_get_no_report(org, who):
    with pytest.raises(ReportAccessError) as e:
        compute(getattr(org, who), FEB)
    assert e.value.status == 403


# --------------------------------------------------------------------------------------- edges


def test_month_with_no_complaints(org, data):
    r = compute(org.quality, Period.parse("2025-06"), as_of=AS_OF)
    assert r["total"] == 0 and r["valid"] == 0 and r["major"] == 0
    assert all(v["count"] == 0 and v["share"] is None for v in r["by_nature"].values())
    assert all(c["share"] is None for c in r["valid_by_category"])
    assert r["annex1"]["totals"]["total"] == 0 and r["annex1"]["totals"]["share"] is None
    assert r["top_offices"] == []
    assert r["kpis"]["valid_per_households"]["value"] == 0.0  # none of 2,500 households complained
    assert all(
        v["value"] is None
        for code, v in r["kpis"].items()
        if code not in ("manager_callback_quota", "valid_per_households")
    )
    # May 2025 lies before the data set's first complaint (December 2025): no data, not 0
    assert r["summary"][0]["paragraphs"] == ["本月未受理客户投诉（上月无数据）。"]


def test_period_across_the_year_end(org, data):
    r = compute(org.quality, Period.parse("2025-12", "2026-01"), as_of=AS_OF)
    assert r["period"]["months"] == 2
    assert r["period"]["label"] == "2025年12月—2026年1月"
    assert r["total"] == 3  # C1 (31 Dec 23:59), B4, A4 (31 Jan 23:59)
    assert {c["code"]: c["count"] for c in r["valid_by_category"] if c["count"]} == {
        "fees": 1,
        "facilities": 1,
        "security": 1,
    }
    assert [c["share"] for c in r["valid_by_category"][:3]] == [33.4, 33.3, 33.3]
    assert r["previous"]["period"]["label"] == "2025年10—11月"
    # before the data set's first complaint (C1, December 2025): no data, not 0
    assert r["previous"]["has_data"] is False and r["previous"]["total"] is None
    # quotas double over two months
    assert {m["username"]: m["quota"] for m in r["managers"]} == {
        "cs_manager": 6,
        "director": 2,
        "director2": 2,
    }


def test_month_boundary_in_the_company_time_zone(org, data):
    march = compute(org.quality, Period.parse("2026-03"), as_of=AS_OF)
    assert march["total"] == 1  # A2, received at 00:00 on 1 March local (16:00 UTC on 28 Feb)
    assert Complaint.objects.get(pk=data.A1.pk).received_at.isoformat() == "2026-02-28T15:59:00+00:00"


# --------------------------------------------------------------------------------------- summary


def test_summary_speaks_from_the_figures(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    text = "\n".join(p for s in r["summary"] for p in s["paragraphs"])
    headings = [s["heading"] for s in r["summary"]]
    assert headings[0] == "一、投诉总体情况"
    assert (
        "本月共受理客户投诉 11 宗，较上月（2 宗）增加 9 宗（+450.0%）。其中有效投诉 6 宗，占 54.55%；"
        "协助处理投诉 2 宗，占 18.18%；无效投诉 2 宗，占 18.18%；待判定 1 宗，占 9.09%。重大投诉 1 宗。"
        "公司直接受理 1 宗。另有 1 宗为多人反映同一问题，已合并处理，不重复统计。"
    ) in text
    assert "设施设备维护类 3 宗，占有效投诉的 50.0%（上月 1 宗）" in text
    assert "有效投诉明显增加的类别：设施设备维护（1 → 3 宗）。" in text
    assert "有效投诉明显增加的管理处：翠湖花园（1 → 4 宗）。" in text
    assert "春节假期前后，有效及协助处理类投诉中涉及“装修”的 1 宗" in text
    assert "适逢学校寒暑假，有效及协助处理类投诉中涉及“小孩”的 1 宗" in text
    assert (
        "翠湖花园有效投诉 4 宗，占有效投诉的 66.7%，主要为设施设备维护 2 宗、安全服务 1 宗、客户服务 1 宗。"
        in text
    )
    assert "回访满意率为 75.0%（3/4），未达到目标（≥95%）。" in text
    assert "管理人员回访指标完成率为 66.7%（2/3），未达到目标（100%）。" in text
    assert "未完成的：cs_manager（1/3 次）。" in text  # staff are named; complainants never are


def test_summary_counts_every_quoted_word_exactly(org, data):
    """No invented facts: each “word”（n 宗） under a category is the number of that category's valid
    complaints of the month whose words contain it."""
    r = compute(org.quality, FEB, as_of=AS_OF)
    feb = Complaint.objects.filter(received_at__gte=FEB.start, received_at__lt=FEB.end).exclude(
        status="merged"
    )
    para = next(p for p in r["summary"][1]["paragraphs"] if p.startswith("设施设备维护类"))
    quoted = re.findall(r"“([^”]+)”（(\d+) 宗）", para)
    assert quoted, para
    for word, n in quoted:
        assert (
            int(n) == feb.filter(nature="valid", category__code="facilities", content__contains=word).count()
        )
    # every example is words from one of those complaints
    for example in re.findall(r"“([^”]+)”(?!（)", para):
        assert any(example in c.content for c in feb.filter(category__code="facilities"))


def test_summary_examples_are_never_the_same_clause_twice():
    """Two words of one sentence: the second word's example comes from another complaint."""
    rows = [  # latest first, as the summary reads them: (search_text, content, complainant)
        ("", "保洁员用刷完垃圾桶的拖把拖楼道。", "李四"),
        ("", "垃圾桶满了没人清，李四家门口全是味道。", "李四"),
        ("", "保洁员今天没来。", "张三"),
    ]
    assert pick_examples(rows, ["保洁员", "垃圾桶"], 2) == [
        "保洁员用刷完垃圾桶的拖把拖楼道",
        "垃圾桶满了没人清，**家门口全是味道",  # the complainant's name masked
    ]
    # only one complaint uses both words: one example, not the same one twice
    assert pick_examples(rows[:1], ["保洁员", "垃圾桶"], 2) == ["保洁员用刷完垃圾桶的拖把拖楼道"]
    assert pick_examples(rows, ["电梯"], 2) == []
