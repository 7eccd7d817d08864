"""Home for each role: what waits for me now (most urgent first), the counts of my scope and the
managers' callback quota (docs/procedures.md §5)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from web_support import client_for, dispatched, resolved

from kesu.complaints import services
from kesu.org.choices import DepartmentType
from kesu.web import queues


def numbers(items) -> list[str]:
    return [i.complaint.number for i in items]


def test_receptionist_queue_has_what_is_not_dispatched_yet(org, make_complaint):
    waiting = make_complaint()
    sent = dispatched(org, make_complaint)
    reasons = {i.complaint.number: i.reasons for i in queues.my_queue(org.reception)}
    assert reasons[waiting.number] == ["待判定/派单", "我受理·待答复"]
    # first-contact ownership: what she registered stays hers until the complainant has an answer
    assert reasons[sent.number] == ["我受理·待答复"]
    services.note(sent, org.supervisor, text="已告知业主下午维修", tell_complainant=True)
    assert sent.number not in numbers(queues.my_queue(org.reception))


def test_handler_queue_has_jobs_of_their_department(org, make_complaint):
    job = dispatched(org, make_complaint)
    mine = services.dispatch(
        make_complaint(),
        org.supervisor,
        department=org.a.dept[DepartmentType.ENGINEERING],
        handler=org.handler,
    )
    security = services.dispatch(
        make_complaint(), org.supervisor, department=org.a.dept[DepartmentType.SECURITY]
    )
    got = numbers(queues.my_queue(org.handler))
    assert job.number in got and mine.number in got and security.number not in got
    assert numbers(queues.my_queue(org.guard)) == [security.number]
    assert numbers(queues.my_queue(org.handler2)) == []


def test_supervisor_queue_has_callbacks_due_and_managers_get_the_major_ones(org, make_complaint):
    general = resolved(org, make_complaint)
    major = resolved(org, make_complaint, is_major=True)
    sup = numbers(queues.my_queue(org.supervisor))
    assert general.number in sup and major.number not in sup  # a major callback is for a manager
    assert major.number in numbers(queues.my_queue(org.cs_manager))
    assert major.number in numbers(queues.my_queue(org.director))


def test_an_enquiry_settled_at_the_counter_waits_to_be_closed_not_called_back(org, make_complaint):
    from kesu.complaints.models import Complaint
    from kesu.web.actions import suggested

    judged = {"severity": "minor", "category": "fees"}
    enquiry = make_complaint(
        on_spot_answer="物业费标准未变，已当场出示收费公示。",
        nature="invalid",
        nature_subtype="enquiry",
        **judged,
    )
    venting = make_complaint(
        on_spot_answer="已当场致歉。", nature="invalid", nature_subtype="venting", **judged
    )
    reasons = {i.complaint.number: i.reasons for i in queues.my_queue(org.supervisor)}
    assert reasons[enquiry.number] == ["当场答复的咨询·待结案"]
    assert reasons[venting.number] == ["待回访"]  # answered on the spot, still owes its callback
    enquiry, venting = (Complaint.objects.get(pk=c.pk) for c in (enquiry, venting))
    allowed = services.allowed_actions(enquiry, org.supervisor)
    assert suggested(enquiry, allowed, org.supervisor) == "close"
    assert (
        suggested(venting, services.allowed_actions(venting, org.supervisor), org.supervisor) == "call_back"
    )


def test_most_urgent_first(org, make_complaint):
    now = timezone.now()
    later = make_complaint(severity="general")
    sooner = make_complaint(received_at=now - dt.timedelta(days=2), severity="general")
    got = numbers(queues.my_queue(org.reception))
    assert got.index(sooner.number) < got.index(later.number)


def test_counts_overdue_and_due_within_the_hour(org, make_complaint):
    now = timezone.now()
    make_complaint(received_at=now - dt.timedelta(days=3), severity="general")
    make_complaint(committed_answer_at=now + dt.timedelta(minutes=20))
    counts = queues.counts(org.supervisor)
    assert counts["overdue"] == 1 and counts["soon"] == 1 and counts["today"] >= 1
    assert queues.counts(org.director2)["overdue"] == 0


def test_home_page_shows_counts_in_colour_and_the_queue(org, make_complaint):
    now = timezone.now()
    late = make_complaint(received_at=now - dt.timedelta(days=3), severity="general")
    html = client_for(org.supervisor).get("/").content.decode()
    assert "counter--red" in html and "已超时" in html and "1小时内到期" in html
    assert "今日受理" in html and "待回访" in html
    assert late.number in html and "q-item--overdue" in html


def test_callback_quota_for_managers(org, make_complaint):
    c = resolved(org, make_complaint)
    services.call_back(c, org.cs_manager, method="phone", satisfaction="satisfied", words="满意")
    quota = queues.callback_quota(org.cs_manager)
    assert quota == {"done": 1, "target": 3, "met": False, "percent": 33}
    assert queues.callback_quota(org.director)["target"] == 1
    assert queues.callback_quota(org.supervisor) is None
    html = client_for(org.cs_manager).get("/").content.decode()
    assert "本月本人回访" in html and "1 / 3" in html


def test_home_lists_the_users_notifications(org, make_complaint):
    job = dispatched(org, make_complaint)
    html = client_for(org.handler).get("/").content.decode()
    assert "最新通知" in html and f"新派单 {job.number}" in html
    assert 'class="bell-count"' in html


def test_home_queries_stay_few(org, make_complaint, django_assert_max_num_queries):
    for _ in range(8):
        dispatched(org, make_complaint)
    client = client_for(org.supervisor)
    client.get("/")
    with django_assert_max_num_queries(16):
        client.get("/")


def test_the_executives_home_has_majors_escalations_and_what_the_ladder_raised_not_every_breach(
    org, make_complaint
):
    from kesu.ops.jobs import check_deadlines

    long_ago = timezone.now() - dt.timedelta(hours=8)
    rude_guard = make_complaint(content="保安态度恶劣", received_at=long_ago)  # forward overdue for hours
    major = make_complaint(is_major=True, severity="major")
    company = services.escalate(make_complaint(), org.supervisor, reason="业主要求公司处理", tier=3)
    check_deadlines(timezone.now())  # the breach of the rude-guard complaint: the quality department's list
    mine = numbers(queues.my_queue(org.executive))
    assert major.number in mine and company.number in mine
    assert rude_guard.number not in mine
    assert rude_guard.number in numbers(queues.my_queue(org.quality))
    # The ladder raises the passed deadline, an interval at a time, to the executive: now it is theirs.
    for hours in (1, 2, 3, 4):
        check_deadlines(timezone.now() + dt.timedelta(hours=hours, minutes=1))
    item = next(
        i
        for i in queues.my_queue(org.executive, now=timezone.now() + dt.timedelta(hours=4, minutes=2))
        if i.complaint.pk == rude_guard.pk
    )
    assert "超时升级至我" in item.reasons
