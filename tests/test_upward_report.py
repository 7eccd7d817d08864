"""上报公司: a major complaint is reported by the office to the company (quality department and executive)
within the hour, as an action of its own, and it cannot be closed before it was reported."""

from __future__ import annotations

import pytest
from conftest import local
from web_support import act, client_for

from kesu.complaints import services
from kesu.complaints.choices import Deadline, EventType, Status
from kesu.complaints.deadlines import overdue_q, pending_q
from kesu.complaints.errors import RoleNotAllowed, TransitionNotAllowed
from kesu.complaints.models import Complaint
from kesu.notify.models import Outbox

AT = local(2026, 3, 10, 10, 0)
SAID = "3栋电梯困人 20 分钟，已救出，老人受惊，家属要求赔偿并称将联系媒体。"


@pytest.fixture
def major(org, make_complaint):
    return make_complaint(
        is_major=True, severity="major", category="facilities", nature="valid", at=AT, received_at=AT
    )


def test_the_director_reports_a_major_complaint_to_the_company_and_both_hear_it(org, major):
    assert major.report_due_at == local(2026, 3, 10, 11, 0)
    assert "report" in services.allowed_actions(major, org.director)
    Outbox.objects.all().delete()
    c = services.report(major, org.director, summary=SAID, at=local(2026, 3, 10, 10, 20))
    assert c.reported_at == local(2026, 3, 10, 10, 20)
    event = c.events.get(type=EventType.REPORTED)
    assert (event.actor, event.note, event.data) == (org.director, SAID, {"to": ["executive", "quality"]})
    heard = set(Outbox.objects.filter(kind="reported").values_list("user__username", flat=True))
    assert heard == {"quality", "executive"}
    # The hour's deadline is met: no longer pending, never overdue.
    assert not Complaint.objects.filter(pk=c.pk).filter(pending_q(Deadline.REPORT)).exists()
    assert (
        not Complaint.objects.filter(pk=c.pk)
        .filter(overdue_q(Deadline.REPORT, local(2026, 3, 10, 12, 0)))
        .exists()
    )
    assert "report" not in services.allowed_actions(c, org.director)
    with pytest.raises(TransitionNotAllowed, match="已上报"):
        services.report(c, org.director, summary=SAID)


def test_the_report_can_go_to_the_quality_department_alone(org, major):
    Outbox.objects.all().delete()
    services.report(major, org.cs_manager, summary=SAID, to=["quality"])
    assert set(Outbox.objects.filter(kind="reported").values_list("user__username", flat=True)) == {"quality"}


@pytest.mark.parametrize("who", ["reception", "supervisor", "handler", "quality"])
def test_only_the_offices_managers_report_upward(org, major, who):
    user = getattr(org, who)
    assert "report" not in services.allowed_actions(major, user)
    with pytest.raises(RoleNotAllowed):
        services.report(major, user, summary=SAID)
    assert Complaint.objects.get(pk=major.pk).reported_at is None


def test_an_ordinary_complaint_is_not_reported_and_bad_input_is_refused(org, make_complaint, major):
    ordinary = make_complaint(severity="general")
    assert "report" not in services.allowed_actions(ordinary, org.director)
    with pytest.raises(TransitionNotAllowed, match="只有重大投诉"):
        services.report(ordinary, org.director, summary=SAID)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        services.report(major, org.director, summary="  ", to=["mayor"])
    assert set(e.value.message_dict) == {"summary", "to"}
    assert Complaint.objects.get(pk=major.pk).reported_at is None


def test_a_major_complaint_never_reported_cannot_be_closed(org, major):
    eng = org.a.dept["engineering"]
    c = services.dispatch(major, org.supervisor, department=eng, at=local(2026, 3, 10, 10, 5))
    c = services.resolve(c, org.handler, resolution="已更换门机板并全面检测。", at=local(2026, 3, 10, 10, 40))
    c = services.call_back(
        c,
        org.director,
        method="onsite",
        satisfaction="satisfied",
        words="满意。",
        at=local(2026, 3, 10, 10, 50),
    )
    lesson = dict(lesson_cause="门机板老化", lesson_learned="巡检漏项", lesson_prevention="每月检测门机板")
    with pytest.raises(TransitionNotAllowed, match="上报公司"):
        services.close(c, org.director, **lesson, at=local(2026, 3, 10, 11, 0))
    assert Complaint.objects.get(pk=c.pk).status == Status.RESOLVED
    c = services.report(c, org.director, summary=SAID, at=local(2026, 3, 10, 11, 5))  # late, but reported
    c = services.close(c, org.director, **lesson, at=local(2026, 3, 10, 11, 10))
    assert c.status == Status.CLOSED


def test_the_complaint_page_offers_the_report_first_to_the_director_and_records_it(org, major):
    client = client_for(org.director)
    page = client.get(f"/complaints/{major.number}/").content.decode()
    assert "上报公司" in page and 'name="summary"' in page
    handler_page = client_for(org.supervisor).get(f"/complaints/{major.number}/").content.decode()
    assert 'id="id_report_summary"' not in handler_page
    response = act(client, major, "report", {"to": ["quality", "executive"], "summary": SAID})
    assert response.status_code in (200, 204), response.content.decode()[:400]
    assert Complaint.objects.get(pk=major.pk).reported_at is not None


def test_the_api_reports_upward_too(org, major):
    from api_support import api_for

    api = api_for(org.director)
    body = api.get(f"/api/v1/complaints/{major.number}/").json()
    assert "report" in body["allowed_actions"]
    response = api.post(f"/api/v1/complaints/{major.number}/report/", {"summary": SAID, "to": ["quality"]})
    assert response.status_code == 200, response.content
    assert Complaint.objects.get(pk=major.pk).events.filter(type=EventType.REPORTED).count() == 1
    again = api.post(f"/api/v1/complaints/{major.number}/report/", {"summary": SAID})
    assert again.status_code == 409 and again["Content-Type"].startswith("application/problem+json")
