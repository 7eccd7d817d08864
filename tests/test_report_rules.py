"""The report takes its rules from their one home in the core: the nature labels (kesu.complaints.choices)
and the managers' callback quota (kesu.complaints.policy)."""

from __future__ import annotations

import pytest
from django.utils import translation
from report_support import AS_OF, build_data

from kesu.complaints import policy
from kesu.complaints.choices import Nature
from kesu.org.choices import Role
from kesu.reports.monthly import compute
from kesu.reports.period import Period

FEB = Period.parse("2026-02")


@pytest.fixture
def data(org):
    return build_data(org)


def test_nature_columns_are_the_complaint_natures_then_unassessed(org, data):
    r = compute(org.quality, FEB, as_of=AS_OF)
    columns = [(c["code"], c["name"]) for c in r["annex1"]["columns"]]
    assert columns == [*((n.value, str(n.label)) for n in Nature), ("unassessed", "待判定")]
    assert [(k, v["name"]) for k, v in r["by_nature"].items()] == columns
    assert columns[:3] == [("valid", "有效投诉"), ("assist", "协助处理投诉"), ("invalid", "无效投诉")]


@pytest.fixture
def _back_to_chinese():
    yield
    translation.activate("zh-hans")


@pytest.mark.usefixtures("_back_to_chinese")
def test_nature_names_stay_chinese_when_the_page_speaks_english(org, data):
    """The report is the company's Chinese document: the natures keep their Chinese names in English."""
    chinese = compute(org.quality, FEB, as_of=AS_OF)
    translation.activate("en")
    english = compute(org.quality, FEB, as_of=AS_OF)
    assert english["by_nature"] == chinese["by_nature"]
    assert english["annex1"]["columns"] == chinese["annex1"]["columns"]
    assert english["summary"] == chinese["summary"]


def test_manager_quotas_come_from_the_callback_policy(org, data, monkeypatch):
    managers = {m["username"]: m for m in compute(org.quality, FEB, as_of=AS_OF)["managers"]}
    assert {u: m["quota"] for u, m in managers.items()} == {
        "cs_manager": policy.callback_quota(Role.CS_MANAGER),
        "director": policy.callback_quota(Role.DIRECTOR),
        "director2": policy.callback_quota(Role.DIRECTOR),
    }
    monkeypatch.setitem(policy.CALLBACK_QUOTA, Role.DIRECTOR, 2)
    r = compute(org.quality, FEB, as_of=AS_OF)
    assert [(m["username"], m["quota"], m["met"]) for m in r["managers"]] == [
        ("cs_manager", 3, False),
        ("director", 2, False),
        ("director2", 2, False),
    ]
    quota = r["kpis"]["manager_callback_quota"]
    assert (quota["numerator"], quota["denominator"]) == (0, 3)


def test_a_complaint_ended_without_satisfying_its_complainant_after_rectification_is_counted(org, data):
    # A7 (February) was sent back for rectification and then closed satisfied: 0 of 1.
    r = compute(org.quality, FEB, as_of=AS_OF)
    assert (
        r["kpis"]["ended_unsatisfied_rate"]["numerator"],
        r["kpis"]["ended_unsatisfied_rate"]["denominator"],
    ) == (0, 1)

    from conftest import local

    from kesu.complaints import services

    c = services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="楼顶渗水，反复维修不好。",
        complainant_name="陈女士",
        phone="13900001111",
        nature="valid",
        severity="general",
        category="facilities",
        received_at=local(2026, 2, 20, 10, 0),
        at=local(2026, 2, 20, 10, 0),
    )
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], at=local(2026, 2, 20, 10, 5)
    )
    c = services.resolve(c, org.handler, resolution="已补漏。", at=local(2026, 2, 21, 10, 0))
    c = services.call_back(
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="还漏",
        at=local(2026, 2, 21, 12, 0),
    )
    c = services.resolve(c, org.handler, resolution="已整体重做防水层。", at=local(2026, 2, 24, 10, 0))
    c = services.close(
        c,
        org.cs_manager,
        outcome="mediation",
        note="经业委会调解，业主同意结案。",
        lesson_cause="防水老化",
        lesson_learned="首次维修未查明原因",
        lesson_prevention="渗水先做闭水试验",
        at=local(2026, 2, 25, 10, 0),
    )
    r = compute(org.quality, FEB, as_of=AS_OF)
    kpi = r["kpis"]["ended_unsatisfied_rate"]
    assert (kpi["numerator"], kpi["denominator"], kpi["value"]) == (1, 2, 50.0)


# --- households (kesu.org.homes) --------------------------------------------------------------------


def test_households_are_the_homes_on_file_and_an_office_without_any_counts_its_configured_number(org, data):
    """Y01 and Y02 have 1,000 homes on file each but a configured 户数 far from it (the demo's 41,619 for
    22,640 homes); Y03 has no homes loaded and counts its configured 500."""
    from kesu.org.models import Office

    Office.objects.filter(code__in=["Y01", "Y02"]).update(households=20000)
    r = compute(org.quality, FEB, as_of=AS_OF)
    assert r["households"] == 2500  # 1000 + 1000 + 500, not 20000 + 20000 + 500
    offices = {o["code"]: o for o in r["valid_by_office"]}
    assert [
        (c, offices[c]["households"], offices[c]["households_source"]) for c in ("Y01", "Y02", "Y03")
    ] == [
        ("Y01", 1000, "units"),
        ("Y02", 1000, "units"),
        ("Y03", 500, "configured"),
    ]
    assert offices["Y01"]["per_100_households"] == 0.4  # 4 valid of 1,000 homes
    k = r["kpis"]["valid_per_households"]
    assert (k["numerator"], k["denominator"], k["value"]) == (6, 2500, 0.24)
    assert "在册房屋" in k["note"] and "南山丽都 500 户" in k["note"]  # says which office fell back
    assert r["households_configured"] == [{"code": "Y03", "name": "南山丽都", "households": 500}]
    by_office = {o["office"]["code"]: o for o in r["kpis_by_office"]}
    assert by_office["Y01"]["valid_per_households"] == 0.4
    from kesu.reports.render import render

    said = "注：占户数以在册房屋数计；南山丽都（500 户）未录入房屋，按设定户数计。"
    assert said in render(r, "html").decode()  # under the office table, as in the Word and PDF files

    director = compute(org.director, FEB, as_of=AS_OF)  # one office, every home on file
    assert director["households"] == 1000 and director["households_configured"] == []
    assert director["kpis"]["valid_per_households"]["note"].endswith("户数为在册房屋数")


def test_the_office_look_up_gives_the_households_the_report_divides_by(org, data):
    from api_support import Api, make_key

    from kesu.org.models import Office

    Office.objects.filter(code="Y01").update(households=20000)
    body = Api(make_key(org.quality, scope="read")).get("/offices/").json()
    rows = {o["code"]: o for o in body}
    assert (rows["Y01"]["households"], rows["Y01"]["households_source"]) == (1000, "units")
    assert (rows["Y03"]["households"], rows["Y03"]["households_source"]) == (500, "configured")


# --- comparisons with months before the first complaint ------------------------------------------------


def test_a_period_before_the_first_complaint_is_no_data_not_zero(org, data):
    """The data set's first complaint is C1 (Y02, 31 December 2025). December is compared with nothing:
    November has no data (null, 无数据), not 0 complaints and not “+1 宗”."""
    r = compute(org.quality, Period.parse("2025-12"), as_of=AS_OF)
    assert r["data_since"] == "2025-12"
    prev = r["previous"]
    assert prev["has_data"] is False
    assert (prev["total"], prev["valid"], prev["major"], prev["merged"]) == (None, None, None, None)
    assert all(v["count"] is None for v in prev["by_nature"].values())
    assert all(c["count"] is None for c in prev["valid_by_category"])
    assert all(k["previous"] is None and k["change"] is None for k in r["kpis"].values())
    text = "\n".join(p for s in r["summary"] for p in s["paragraphs"])
    assert "上月无数据" in text and "增加" not in text
    assert "上月无数据（数据自2025年12月起），无法对比。" in text

    # Y01's first complaint is A4 (31 January): its January has no previous month either,
    assert compute(org.director, Period.parse("2026-01"), as_of=AS_OF)["previous"]["has_data"] is False
    # while the company's January is compared with December, and February with January.
    jan = compute(org.quality, Period.parse("2026-01"), as_of=AS_OF)
    assert jan["previous"]["has_data"] is True and jan["previous"]["total"] == 1
    assert compute(org.quality, FEB, as_of=AS_OF)["previous"]["total"] == 2


def test_the_trend_has_no_data_before_the_first_complaint(org, data):
    from kesu.reports.monthly import trend

    months = trend(org.quality, FEB)["months"]
    assert [m["month"] for m in months][:1] == ["2025-03"] and len(months) == 12
    assert [(m["total"], m["valid"]) for m in months[:9]] == [(None, None)] * 9  # March–November 2025
    assert [(m["total"], m["valid"]) for m in months[9:]] == [(1, 1), (2, 2), (11, 6)]
    office = trend(org.director, FEB)["months"]  # Y01: since January
    assert [m["total"] for m in office[-3:]] == [None, 1, 7]


# --- enquiries answered on the spot (docs/decisions/0011) ---------------------------------------------


def _on_spot(org, office, received, subtype: str, nature: str = "invalid", close: bool = True):
    from conftest import local

    from kesu.complaints import services

    staff = org.reception if office is org.a.office else org.reception2
    c = services.register(
        staff,
        office=office,
        channel="visit",
        content="来访询问停车月卡如何办理。",
        complainant_name="赵女士",
        nature=nature,
        nature_subtype=subtype,
        severity="minor",
        category="traffic",
        on_spot_answer="已当场告知办理流程和所需材料。",
        received_at=local(*received),
        at=local(*received),
    )
    if close:
        by = org.supervisor if office is org.a.office else org.director2
        c = services.close(c, by, at=local(*received[:3], 18, 0))
    return c


@pytest.fixture
def enquiries(org, data):
    """On top of the data set, in February: E1 (Y01, invalid, 咨询型, closed at once), E2 (Y02, assist,
    咨询型, left open and never called back) — enquiries settled at the counter — and E3 (Y01, invalid,
    发泄型, answered on the spot and closed without a callback) — a complaint like any other."""
    return (
        _on_spot(org, org.a.office, (2026, 2, 17, 10, 0), "enquiry"),
        _on_spot(org, org.b.office, (2026, 2, 18, 10, 0), "enquiry", nature="assist", close=False),
        _on_spot(org, org.a.office, (2026, 2, 19, 10, 0), "venting"),
    )


def test_enquiries_settled_at_the_counter_are_counted_apart_from_the_complaints(org, enquiries):
    r = compute(org.quality, FEB, as_of=AS_OF)
    assert r["on_spot_enquiries"] == 2  # E1, E2
    assert r["total"] == 12  # the data set's 11 and E3
    assert {k: v["count"] for k, v in r["by_nature"].items()} == {
        "valid": 6,
        "assist": 2,  # A5 B3, not E2
        "invalid": 3,  # A6 B6 E3, not E1
        "unassessed": 1,
    }
    assert {k: v["share"] for k, v in r["by_nature"].items()} == {
        "valid": 50.0,
        "assist": 16.67,
        "invalid": 25.0,
        "unassessed": 8.33,
    }
    a1 = {row["office"]["code"]: row for row in r["annex1"]["rows"]}
    assert (a1["Y01"]["total"], a1["Y01"]["on_spot_enquiries"]) == (8, 1)
    assert (a1["Y02"]["total"], a1["Y02"]["on_spot_enquiries"]) == (4, 1)
    assert (r["annex1"]["totals"]["total"], r["annex1"]["totals"]["on_spot_enquiries"]) == (12, 2)
    assert r["kpis"]["repeat_rate"]["denominator"] == 12
    assert "另有当场答复的咨询 2 件，不计入投诉。" in r["summary"][0]["paragraphs"][0]
    assert r["previous"]["on_spot_enquiries"] == 0


def test_the_callback_rate_is_not_lowered_by_enquiries_settled_at_the_counter(org, enquiries):
    # The data set: A3 A5 A7 B1 called back of A3 A5 A6 A7 A9 B1 (4/6). E1 (closed at once) and E2
    # (its callback would be long overdue) owe none; E3, closed without a callback, is one missed.
    k = compute(org.quality, FEB, as_of=AS_OF)["kpis"]
    assert (k["callback_rate"]["numerator"], k["callback_rate"]["denominator"]) == (4, 7)
    assert (k["callback_in_time"]["numerator"], k["callback_in_time"]["denominator"]) == (3, 5)
    assert (k["satisfaction"]["numerator"], k["satisfaction"]["denominator"]) == (3, 4)


def test_the_trend_counts_the_complaints_as_the_report_does(org, enquiries):
    from kesu.reports.monthly import trend

    assert trend(org.quality, FEB)["months"][-1]["total"] == 12
