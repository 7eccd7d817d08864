"""Who hears what when something happens (docs/procedures.md §2, §4), beyond the lifecycle's own tests:
complaints filed on line reach the front desk; the result SMS carries the resident's link to rate and
confirm; a major complaint reaches the director and the quality department at once; staff messages
never carry the complainant's identity."""

from __future__ import annotations

import pytest
from conftest import local

from kesu.complaints import services
from kesu.complaints.deadlines import calendar_for
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType

TUE_10 = local(2026, 3, 10, 10, 0)


def heard(c, kind: str) -> set[str]:
    return set(
        Outbox.objects.filter(complaint=c, kind=kind, channel="inapp").values_list(
            "user__username", flat=True
        )
    )


def test_a_complaint_filed_on_line_reaches_the_front_desk(org):
    c = services.register(
        org.resident, office=org.a.office, channel="online", content="楼道灯坏了一周", unit=org.a.unit
    )
    night = not calendar_for(org.a.office).in_window(c.received_at)
    # at night only the duty staff (the receptionist is on duty, the supervisor is not)
    assert heard(c, "online") == ({"reception"} if night else {"reception", "supervisor"})
    assert not heard(c, "night")
    row = Outbox.objects.filter(complaint=c, kind="online").first()
    assert row.subject == f"网上新投诉 {c.number}" and "住户在网上提交了投诉" in row.body


def test_the_result_sms_carries_a_signed_link_to_rate_and_confirm(org, make_complaint, settings, client):
    from kesu.complaints.links import open_link

    settings.KESU_PORTAL_BASE_URL = "https://kesu.example.com"
    c = make_complaint(received_at=TUE_10, at=TUE_10)
    c = services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=TUE_10)
    c = services.accept(c, org.handler, at=TUE_10)
    services.resolve(c, org.handler, resolution="已更换电梯门机板并试运行正常", at=TUE_10)
    sms = Outbox.objects.get(complaint=c, kind="result")
    text, _, link = sms.body.partition(" 请评价并确认：")
    assert text == f"您的投诉 {c.number} 已处理：已更换电梯门机板并试运行正常"
    assert link.startswith("https://kesu.example.com/portal/")
    token = link.rstrip("/").rsplit("/", 1)[-1]
    found = open_link(token)
    assert found is not None and found[0].pk == c.pk
    assert org.a.resident.phone not in link  # the link does not carry the phone


def test_a_major_complaint_reaches_the_director_the_managers_quality_and_the_executive_at_once(
    org, make_complaint
):
    c = make_complaint(is_major=True, severity="major", received_at=TUE_10, at=TUE_10)
    assert heard(c, "major") == {"director", "cs_manager", "eng_manager", "quality", "executive"}
    row = Outbox.objects.filter(complaint=c, kind="major").first()
    assert "须于 2026-03-10 11:00 前上报公司" in row.body  # the 1-hour report deadline


@pytest.mark.parametrize("kind", ["dispatched", "major", "overdue_forward"])
def test_staff_messages_never_carry_the_complainants_name_or_phone(org, make_complaint, kind):
    from kesu.complaints.sweep import sweep

    c = make_complaint(is_major=True, severity="major", received_at=TUE_10, at=TUE_10)
    if kind == "dispatched":
        services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=TUE_10)
    sweep(local(2026, 3, 10, 10, 30))
    rows = Outbox.objects.filter(complaint=c, kind=kind, channel="inapp")
    assert rows.exists()
    for row in rows:
        text = row.subject + row.body + str(row.payload)
        assert c.complainant_phone not in text and c.complainant_name not in text
        assert "1201" not in text  # the unit number is not spelled out either
