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
