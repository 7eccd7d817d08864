"""POST /api/v1/complaints/{number}/<action>/: each action goes through the lifecycle, returns the updated
complaint, and answers a refused transition with 409, a bad body with 400 and a wrong role with 403."""

from __future__ import annotations

import datetime as dt

import pytest
from api_support import api_for, assert_problem
from django.utils import timezone

from kesu.complaints import services
from kesu.complaints.models import Complaint
from kesu.org.choices import DepartmentType

pytestmark = pytest.mark.django_db


@pytest.fixture
def eng(org):
    return org.a.dept[DepartmentType.ENGINEERING]


@pytest.fixture
def judged(org, make_complaint):
    """A complaint judged valid/general/facilities, ready to dispatch."""
    c = make_complaint()
    return services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")


@pytest.fixture
def resolved(org, judged, eng):
    c = services.dispatch(judged, org.supervisor, department=eng, handler=org.handler)
    return services.resolve(c, org.handler, resolution="已更换电梯控制板，运行正常。")


def _ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def test_assess_judges_and_returns_the_complaint(org, make_complaint):
    c = make_complaint()
    body = _ok(
        api_for(org.reception).post(
            f"/complaints/{c.number}/assess/",
            {"nature": "valid", "severity": "general", "category": "facilities", "is_major": False},
        )
    )
    assert (body["nature"], body["severity"], body["category"]) == ("valid", "general", "facilities")
    assert body["version"] == c.version + 1
    c.refresh_from_db()
    assert c.assessed_by == org.reception


def test_assess_revision_by_a_receptionist_is_403_and_without_reason_400(org, judged):
    api = api_for(org.reception)
    assert_problem(
        api.post(f"/complaints/{judged.number}/assess/", {"severity": "minor", "reason": "x"}),
        403,
        "role_not_allowed",
    )
    problem = assert_problem(
        api_for(org.supervisor).post(f"/complaints/{judged.number}/assess/", {"severity": "minor"}), 400
    )
    assert "reason" in problem["errors"]


def test_assess_with_an_unknown_category_is_400(org, make_complaint):
    c = make_complaint()
    problem = assert_problem(
        api_for(org.supervisor).post(f"/complaints/{c.number}/assess/", {"category": "nope"}), 400
    )
    assert "category" in problem["errors"]


def test_dispatch_to_a_department_and_handler(org, judged, eng):
    body = _ok(
        api_for(org.supervisor).post(
            f"/complaints/{judged.number}/dispatch/",
            {"department": eng.pk, "handler": "handler", "note": "请尽快"},
        )
    )
    assert body["status"] == "dispatched" and body["department"] == eng.pk and body["handler"] == "handler"


def test_dispatch_to_another_office_department_or_unknown_handler_is_400(org, judged):
    api = api_for(org.supervisor)
    other = org.b.dept[DepartmentType.ENGINEERING]
    assert (
        "department"
        in assert_problem(api.post(f"/complaints/{judged.number}/dispatch/", {"department": other.pk}), 400)[
            "errors"
        ]
    )
    assert (
        "department"
        in assert_problem(api.post(f"/complaints/{judged.number}/dispatch/", {"department": 10**12}), 400)[
            "errors"
        ]
    )
    problem = assert_problem(
        api.post(
            f"/complaints/{judged.number}/dispatch/",
            {"department": org.a.dept[DepartmentType.ENGINEERING].pk, "handler": "ghost"},
        ),
        400,
    )
    assert "handler" in problem["errors"]


def test_dispatch_by_a_handler_is_403(org, judged, eng):
    services.dispatch(judged, org.supervisor, department=eng)
    assert_problem(
        api_for(org.handler).post(f"/complaints/{judged.number}/dispatch/", {"department": eng.pk}), 403
    )


def test_accept_by_the_department(org, judged, eng):
    services.dispatch(judged, org.supervisor, department=eng)
    body = _ok(api_for(org.handler).post(f"/complaints/{judged.number}/accept/", {}))
    assert body["status"] == "in_progress" and body["handler"] == "handler"


def test_note_told_to_the_complainant(org, judged):
    _ok(
        api_for(org.supervisor).post(
            f"/complaints/{judged.number}/note/", {"text": "已联系维保单位", "tell_complainant": True}
        )
    )
    judged.refresh_from_db()
    assert judged.answered_at is not None
    problem = assert_problem(
        api_for(org.supervisor).post(f"/complaints/{judged.number}/note/", {"text": "  "}), 400
    )
    assert "text" in problem["errors"]


def test_escalate_to_the_next_tier(org, judged):
    body = _ok(
        api_for(org.supervisor).post(f"/complaints/{judged.number}/escalate/", {"reason": "一线无法处理"})
    )
    assert body["tier"] == 1
    problem = assert_problem(
        api_for(org.supervisor).post(f"/complaints/{judged.number}/escalate/", {"reason": "x", "tier": 0}),
        400,
    )
    assert "tier" in problem["errors"]


def test_resolve_by_the_handler(org, judged, eng):
    services.dispatch(judged, org.supervisor, department=eng, handler=org.handler)
    body = _ok(api_for(org.handler).post(f"/complaints/{judged.number}/resolve/", {"resolution": "已修复"}))
    assert body["status"] == "resolved" and body["callback_due_at"] is not None


def test_resolve_by_another_department_is_refused(org, judged, eng):
    services.dispatch(judged, org.supervisor, department=eng)
    # The guard (security) cannot even see a complaint dispatched to engineering.
    assert_problem(api_for(org.guard).post(f"/complaints/{judged.number}/resolve/", {"resolution": "x"}), 404)


def test_callback_then_close_with_the_lesson(org, resolved):
    api = api_for(org.supervisor)
    body = _ok(
        api.post(
            f"/complaints/{resolved.number}/callback/",
            {"method": "phone", "satisfaction": "satisfied", "words": "很满意，谢谢", "confirmed": True},
        )
    )
    assert body["satisfaction"] == "satisfied" and "close" in body["allowed_actions"]
    problem = assert_problem(api.post(f"/complaints/{resolved.number}/close/", {}), 400)
    assert {"lesson_cause", "lesson_learned", "lesson_prevention"} <= set(problem["errors"])
    body = _ok(
        api.post(
            f"/complaints/{resolved.number}/close/",
            {
                "lesson_cause": "控制板老化",
                "lesson_learned": "定期巡检",
                "lesson_prevention": "每月检查控制板",
            },
        )
    )
    assert body["status"] == "closed" and body["close_outcome"] == "resolved"


def test_close_before_callback_is_409_with_the_reason(org, resolved):
    problem = assert_problem(
        api_for(org.supervisor).post(
            f"/complaints/{resolved.number}/close/",
            {"lesson_cause": "a", "lesson_learned": "b", "lesson_prevention": "c"},
        ),
        409,
        "transition_not_allowed",
    )
    assert "回访" in problem["detail"]


def test_a_dissatisfied_callback_starts_rectification_with_the_policys_deadline_or_the_one_given(
    org, resolved, make_complaint
):
    api = api_for(org.supervisor)
    body = _ok(
        api.post(
            f"/complaints/{resolved.number}/callback/",
            {"method": "phone", "satisfaction": "dissatisfied", "words": "还是坏"},
        )
    )
    # No deadline given: the policy's default, never a dissatisfied complaint left waiting.
    assert body["status"] == "rectifying" and body["rectify_due_at"] is not None
    past = (timezone.now() - dt.timedelta(days=2)).isoformat()
    assert_problem(
        api.post(f"/complaints/{resolved.number}/reopen/", {"reason": "x", "rectify_due_at": past}), 409
    )
    due = timezone.now() + dt.timedelta(days=2)
    c = services.resolve(Complaint.objects.get(pk=resolved.pk), org.handler, resolution="再次维修")
    body = _ok(
        api.post(
            f"/complaints/{c.number}/callback/",
            {
                "method": "phone",
                "satisfaction": "dissatisfied",
                "words": "仍不行",
                "rectify_due_at": due.isoformat(),
            },
        )
    )
    assert body["status"] == "rectifying"
    assert abs(dt.datetime.fromisoformat(body["rectify_due_at"]) - due) < dt.timedelta(seconds=1)


def test_reopen_with_a_past_deadline_is_400(org, resolved):
    api = api_for(org.supervisor)
    past = (timezone.now() - dt.timedelta(days=2)).isoformat()
    problem = assert_problem(
        api.post(f"/complaints/{resolved.number}/reopen/", {"reason": "x", "rectify_due_at": past}), 400
    )
    assert "rectify_due_at" in problem["errors"]


def test_callback_on_an_unresolved_complaint_is_409(org, judged):
    assert_problem(
        api_for(org.supervisor).post(
            f"/complaints/{judged.number}/callback/",
            {"method": "phone", "satisfaction": "satisfied", "words": "好"},
        ),
        409,
        "transition_not_allowed",
    )


def test_decline_with_a_reason_code(org, judged):
    body = _ok(
        api_for(org.supervisor).post(
            f"/complaints/{judged.number}/decline/", {"reason": "no_facts", "explanation": "无具体事实"}
        )
    )
    assert body["status"] == "declined" and body["decline_reason"] == "no_facts"
    assert_problem(
        api_for(org.supervisor).post(
            f"/complaints/{judged.number}/decline/", {"reason": "no_facts", "explanation": "x"}
        ),
        409,
    )


def test_decline_by_a_receptionist_is_403(org, judged):
    assert_problem(
        api_for(org.reception).post(
            f"/complaints/{judged.number}/decline/", {"reason": "other", "explanation": "x"}
        ),
        403,
    )


def test_withdraw(org, judged):
    body = _ok(
        api_for(org.reception).post(f"/complaints/{judged.number}/withdraw/", {"reason": "业主主动撤回"})
    )
    assert body["status"] == "withdrawn"


def test_link_as_a_repeat_of_an_earlier_complaint(org, make_complaint):
    first = make_complaint(content="上周反映的漏水还没修")
    second = make_complaint(content="又来反映漏水")
    body = _ok(
        api_for(org.supervisor).post(
            f"/complaints/{second.number}/link/", {"target": first.number, "reason": "未按时答复"}
        )
    )
    assert body["repeat_of"] == first.number
    problem = assert_problem(
        api_for(org.supervisor).post(f"/complaints/{second.number}/link/", {"target": second.number}), 400
    )
    assert "target" in problem["errors"]


def test_merge_into_another_complaint(org, make_complaint):
    first = make_complaint(content="3栋停水")
    second = make_complaint(content="3栋也停水了")
    body = _ok(api_for(org.supervisor).post(f"/complaints/{second.number}/merge/", {"target": first.number}))
    assert body["status"] == "merged" and body["merged_into"] == first.number


def test_a_stale_version_is_409(org, judged):
    api = api_for(org.supervisor)
    old = judged.version
    _ok(api.post(f"/complaints/{judged.number}/note/", {"text": "第一条", "version": old}))
    problem = assert_problem(
        api.post(f"/complaints/{judged.number}/note/", {"text": "第二条", "version": old}),
        409,
        "stale_version",
    )
    assert problem["detail"]


@pytest.mark.parametrize(
    "action",
    [
        "assess",
        "dispatch",
        "accept",
        "note",
        "escalate",
        "resolve",
        "callback",
        "reopen",
        "close",
        "decline",
        "withdraw",
        "link",
        "merge",
        "reveal_contact",
    ],
)
def test_every_action_on_another_office_complaint_is_404_and_changes_nothing(org, make_complaint, action):
    b = make_complaint(by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone)
    version = b.version
    assert_problem(
        api_for(org.director).post(f"/complaints/{b.number}/{action}/", {"text": "x"}), 404, "not_found"
    )
    assert Complaint.objects.get(pk=b.pk).version == version
