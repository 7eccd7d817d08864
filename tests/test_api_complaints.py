"""GET/POST /api/v1/complaints/ and GET /api/v1/complaints/{number}/ (+ events): the contract's fields,
filters, cursor pages, masking, and every role's visibility."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from api_support import api_for, assert_problem, register_body
from conftest import local
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kesu.complaints import services
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.org.choices import DepartmentType

pytestmark = pytest.mark.django_db

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")
CONTRACT_FIELDS = {
    "number",
    "office",
    "status",
    "channel",
    "received_at",
    "nature",
    "is_major",
    "severity",
    "category",
    "department",
    "handler",
    "forward_due_at",
    "report_due_at",
    "resolve_due_at",
    "callback_due_at",
    "rectify_due_at",
    "satisfaction",
    "repeat_of",
    "complainant_name",
    "complainant_phone",
}


# --- create = register ---


def test_post_registers_through_the_lifecycle_and_returns_201_with_location(org):
    api = api_for(org.reception)
    response = api.post("/complaints/", register_body(org, severity="general", category="facilities"))
    assert response.status_code == 201, response.content
    body = response.json()
    c = Complaint.objects.get(number=body["number"])
    assert response["Location"].endswith(f"/api/v1/complaints/{c.number}/")
    assert c.received_by == org.reception and c.office.code == "Y01"
    assert ComplaintEvent.objects.filter(complaint=c, type="registered").count() == 1
    assert set(body) >= CONTRACT_FIELDS
    assert body["office"] == "Y01" and body["status"] == "received" and body["channel"] == "phone"
    assert body["severity"] == "general" and body["category"] == "facilities" and body["nature"] is None
    assert body["unit"] == "Y01-3栋-1201"
    assert ISO_WITH_OFFSET.match(body["received_at"]) and ISO_WITH_OFFSET.match(body["forward_due_at"])
    assert "dispatch" in body["allowed_actions"]


def test_post_reports_every_field_problem_at_once(org):
    api = api_for(org.reception)
    future = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    body = register_body(
        org, office="Y99", unit="Y01-9栋-999", phone="12345", received_at=future, category="nope"
    )
    problem = assert_problem(api.post("/complaints/", body), 400, "validation_error")
    assert {"office", "unit", "phone", "received_at", "category"} <= set(problem["errors"])
    assert not Complaint.objects.exists()


def test_post_checks_shapes_first_with_stable_codes(org):
    api = api_for(org.reception)
    problem = assert_problem(api.post("/complaints/", register_body(org, channel="fax", nature="bad")), 400)
    assert {"channel", "nature"} <= set(problem["errors"])
    problem = assert_problem(api.post("/complaints/", {}), 400)
    assert {"office", "channel", "complainant_name", "content"} <= set(problem["errors"])


def test_post_accepts_a_past_received_at_and_reads_a_bare_time_in_the_company_zone(org):
    api = api_for(org.reception)
    when = timezone.localtime() - dt.timedelta(hours=2)
    bare = when.replace(tzinfo=None, microsecond=0).isoformat()
    body = api.post("/complaints/", register_body(org, received_at=bare)).json()
    c = Complaint.objects.get(number=body["number"])
    assert c.received_at == when.replace(microsecond=0)


def test_post_accepts_a_free_address_instead_of_a_unit(org):
    api = api_for(org.reception)
    response = api.post("/complaints/", register_body(org, unit="", address="小区南门岗亭", channel="wechat"))
    assert response.status_code == 201, response.content
    assert response.json()["address"] == "小区南门岗亭" and response.json()["unit"] is None


def test_post_with_an_on_spot_answer_is_resolved_at_once(org):
    api = api_for(org.reception)
    body = api.post("/complaints/", register_body(org, on_spot_answer="已当场解释收费标准")).json()
    assert body["status"] == "resolved"


def test_a_receptionist_of_office_a_cannot_register_for_office_b(org):
    problem = assert_problem(
        api_for(org.reception).post("/complaints/", register_body(org, office="Y02", unit=org.b.unit.code)),
        400,
    )
    assert "office" in problem["errors"]


# --- detail, events ---


def test_detail_has_the_contract_fields_and_the_timeline_is_in_order(org, make_complaint):
    c = make_complaint()
    eng = org.a.dept[DepartmentType.ENGINEERING]
    services.dispatch(c, org.supervisor, department=eng, handler=org.handler)
    api = api_for(org.supervisor)
    body = api.get(f"/complaints/{c.number}/").json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["department"] == eng.pk and body["handler"] == "handler" and body["status"] == "dispatched"
    events = api.get(f"/complaints/{c.number}/events/").json()
    assert [e["type"] for e in events] == ["registered", "dispatched"]
    assert events[1]["actor"] == "supervisor" and events[1]["to_status"] == "dispatched"
    assert ISO_WITH_OFFSET.match(events[0]["at"])


def test_an_unknown_number_is_404_problem(org):
    assert_problem(api_for(org.supervisor).get("/complaints/Y01-209901-0001/"), 404, "not_found")
    assert_problem(api_for(org.supervisor).get("/complaints/Y01-209901-0001/events/"), 404)


def test_the_phone_is_always_masked_and_identity_hidden_from_the_staff_complained_about(org, make_complaint):
    c = make_complaint(complained_department=org.a.dept[DepartmentType.ENGINEERING])
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    seen = api_for(org.supervisor).get(f"/complaints/{c.number}/").json()
    assert seen["complainant_name"] == "王建国" and seen["complainant_hidden"] is False
    assert seen["complainant_phone"] != org.a.resident.phone and "****" in seen["complainant_phone"]
    hidden = api_for(org.handler).get(f"/complaints/{c.number}/").json()
    assert hidden["complainant_name"] == "" and hidden["complainant_hidden"] is True
    assert hidden["complainant_phone"] == "" and hidden["unit"] is None and hidden["address"] == ""


def test_reveal_contact_gives_the_full_phone_and_is_recorded(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor)
    response = api.post(f"/complaints/{c.number}/reveal_contact/")
    assert response.status_code == 200
    assert response.json() == {"complainant_phone": org.a.resident.phone}
    assert c.events.filter(type="contact_revealed", actor=org.supervisor).count() == 1


# --- visibility by role ---


@pytest.mark.parametrize(
    ("persona", "sees_a", "sees_b"),
    [
        ("reception", True, False),
        ("supervisor", True, False),
        ("cs_manager", True, False),
        ("director", True, False),
        ("handler", True, False),  # dispatched to engineering A below
        ("guard", False, False),  # security A: not its job
        ("director2", False, True),
        ("reception2", False, True),
        ("quality", True, True),
        ("executive", True, True),
    ],
)
def test_each_role_sees_only_its_complaints(org, make_complaint, persona, sees_a, sees_b):
    a = make_complaint()
    services.dispatch(a, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    b = make_complaint(by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone)
    api = api_for(getattr(org, persona))
    listed = {c["number"] for c in api.get("/complaints/").json()["results"]}
    for c, sees in ((a, sees_a), (b, sees_b)):
        assert (c.number in listed) is sees
        assert api.get(f"/complaints/{c.number}/").status_code == (200 if sees else 404)
        assert api.get(f"/complaints/{c.number}/events/").status_code == (200 if sees else 404)


# --- list: filters and cursor pages ---


def test_list_filters_like_the_web_list(org, make_complaint):
    lift = make_complaint(
        content="电梯困人，一直坏着", received_at=local(2026, 3, 2, 9, 0), at=local(2026, 3, 2, 9, 5)
    )
    noise = make_complaint(
        content="楼上装修噪音太大", received_at=local(2026, 3, 5, 9, 0), at=local(2026, 3, 5, 9, 5)
    )
    services.assess(noise, org.supervisor, nature="assist", severity="minor", category="environment")
    services.dispatch(lift, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    api = api_for(org.supervisor)

    def numbers(**params) -> set[str]:
        response = api.get("/complaints/", params)
        assert response.status_code == 200, response.content
        return {c["number"] for c in response.json()["results"]}

    assert numbers(status="dispatched") == {lift.number}
    assert numbers(status=["dispatched", "received"]) == {lift.number, noise.number}
    assert numbers(nature="assist", severity="minor", category="environment") == {noise.number}
    assert numbers(q="电梯 坏了") == {lift.number}
    assert numbers(q=noise.number) == {noise.number}
    assert numbers(office="Y01") == {lift.number, noise.number}
    assert numbers(department=org.a.dept[DepartmentType.ENGINEERING].pk) == {lift.number}
    assert numbers(received_after="2026-03-04") == {noise.number}
    assert numbers(received_before="2026-03-02") == {lift.number}
    assert numbers(channel="phone", is_major="false") == {lift.number, noise.number}
    assert numbers(overdue="any") == {lift.number, noise.number}  # March 2026 limits passed long ago
    assert numbers(overdue="forward") == {noise.number}  # the lift one was dispatched


def test_list_rejects_bad_filter_values_with_400(org):
    api = api_for(org.supervisor)
    assert "status" in assert_problem(api.get("/complaints/", {"status": "lost"}), 400)["errors"]
    assert "overdue" in assert_problem(api.get("/complaints/", {"overdue": "never"}), 400)["errors"]
    assert (
        "received_after"
        in assert_problem(api.get("/complaints/", {"received_after": "9999-12-31"}), 400)["errors"]
    )
    assert "office" in assert_problem(api.get("/complaints/", {"office": "Y99"}), 400)["errors"]
    assert "q" in assert_problem(api.get("/complaints/", {"q": "a\x00b"}), 400)["errors"]
    assert "cursor" in assert_problem(api.get("/complaints/", {"cursor": "garbage"}), 400)["errors"]


def test_list_pages_with_a_cursor_newest_first_without_gaps_or_repeats(org, make_complaint):
    base = local(2026, 3, 2, 9, 0)
    made = [
        make_complaint(
            content=f"第{i}条",
            received_at=base + dt.timedelta(minutes=i // 2),
            at=base + dt.timedelta(hours=1),
        )
        for i in range(7)
    ]
    api = api_for(org.supervisor)
    seen, url, pages = [], "/complaints/?page_size=3", 0
    while url:
        body = api.get(url).json()
        seen += [c["number"] for c in body["results"]]
        url = body["next"]
        pages += 1
        assert body.keys() == {"next", "previous", "results"}
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    expected = sorted(made, key=lambda c: (c.received_at, c.pk), reverse=True)
    assert seen == [c.number for c in expected]


def test_the_list_runs_a_fixed_number_of_queries(org, make_complaint):
    for i in range(3):
        c = make_complaint(content=f"第{i}条")
        services.dispatch(
            c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
        )
    api = api_for(org.supervisor)
    api.get("/complaints/")  # warm-up: last_used_at, caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/complaints/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    with CaptureQueriesContext(connection) as ctx:
        api.get("/complaints/", {"status": ["received", "dispatched"], "office": "Y01", "nature": "valid"})
    assert not [q for q in ctx.captured_queries if "DISTINCT" in q["sql"]]  # a sort of every match per page
    for i in range(5):
        c = make_complaint(content=f"更多{i}")
        services.dispatch(
            c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
        )
    assert count() == few <= 6
