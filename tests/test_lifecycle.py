"""The complaint lifecycle (services.py): every transition, allowed and refused, by state and by role.

A refusal must leave no trace: the complaint rows, the timeline, the outbox, the callbacks and the
attachments are exactly as they were. Complaints are always built through the lifecycle itself.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from kesu.complaints import services
from kesu.complaints.choices import OPEN_STATUSES, TERMINAL_STATUSES, EventType, Status, Tier
from kesu.complaints.errors import RoleNotAllowed, StaleVersion, TransitionNotAllowed
from kesu.complaints.models import Attachment, Callback, Complaint, ComplaintCounter, ComplaintEvent
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType
from kesu.org.models import Department

S = Status
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
LESSON = {
    "lesson_cause": "电梯维保单位漏检门机。",
    "lesson_learned": "维保记录须由工程部逐项复核。",
    "lesson_prevention": "每月抽查维保记录，困人演练每季度一次。",
}
ASSESSED = {"nature": "valid", "severity": "general", "category": "facilities"}


# ---------------------------------------------------------------------------------------------
# helpers


def world() -> tuple[dict, dict]:
    """Everything an action may write: every complaint row (all columns) and the row counts of
    the tables that hang off it. Two equal snapshots mean nothing was written."""
    rows = {
        c.pk: {f.attname: getattr(c, f.attname) for f in Complaint._meta.concrete_fields}
        for c in Complaint.objects.all()
    }
    counts = {
        model.__name__: model.objects.count()
        for model in (ComplaintEvent, Outbox, Callback, Attachment, ComplaintCounter)
    }
    return rows, counts


def refused(error: type[Exception], action, *args, **kwargs) -> Exception:
    """Run an action that must be refused with `error` and must write nothing."""
    before = world()
    with pytest.raises(error) as exc:
        action(*args, **kwargs)
    assert world() == before, "a refused action wrote something"
    return exc.value


def field_errors(error: Exception) -> dict[str, list[str]]:
    assert isinstance(error, ValidationError)
    return error.message_dict


def reload(c: Complaint) -> Complaint:
    return Complaint.objects.get(pk=c.pk)


def later(hours: float = 24) -> dt.datetime:
    return timezone.now() + dt.timedelta(hours=hours)


@pytest.fixture
def eng(org) -> Department:
    return org.a.dept[DepartmentType.ENGINEERING]


@pytest.fixture
def security(org) -> Department:
    return org.a.dept[DepartmentType.SECURITY]


@pytest.fixture
def complaint_in(org, make_complaint, eng):
    """complaint_in(status): a fresh, assessed (valid, general, facilities) complaint of office A
    driven through the lifecycle to `status`."""

    def build(status: str, **register_kwargs) -> Complaint:
        c = make_complaint(**{**ASSESSED, **register_kwargs})
        if status == S.DECLINED:
            c = services.decline(
                c, org.supervisor, reason="no_facts", explanation="未能提供具体时间地点，请补充后再联系我们。"
            )
        elif status == S.WITHDRAWN:
            c = services.withdraw(c, org.supervisor, reason="业主来电撤回：电梯已恢复。")
        elif status == S.MERGED:
            c = services.merge(c, org.supervisor, target=make_complaint(**ASSESSED), reason="同一部电梯故障")
        elif status != S.RECEIVED:
            c = services.dispatch(c, org.supervisor, department=eng)
            if status != S.DISPATCHED:
                c = services.accept(c, org.handler)
            if status not in (S.DISPATCHED, S.IN_PROGRESS):
                c = services.resolve(c, org.handler, resolution="更换门机控制板，已试运行正常。")
            if status == S.RECTIFYING:
                c = services.call_back(
                    c,
                    org.supervisor,
                    method="phone",
                    satisfaction="dissatisfied",
                    words="还是停过一次。",
                    rectify_due_at=later(),
                )
            elif status == S.CLOSED:
                c = services.call_back(
                    c, org.supervisor, method="phone", satisfaction="satisfied", words="好了，谢谢。"
                )
                c = services.close(c, org.supervisor, **LESSON)
        assert c.status == status
        return c

    return build


def called_back(c: Complaint, by, satisfaction: str = "satisfied", method: str = "phone") -> Complaint:
    return services.call_back(c, by, method=method, satisfaction=satisfaction, words="业主原话记录。")


# One valid call per action in services.TRANSITIONS. `target` is another open complaint of office A.
ACTIONS = {
    "assess": lambda c, by, target: services.assess(c, by, severity="minor", reason="复核后降为轻微"),
    "dispatch": lambda c, by, target: services.dispatch(
        c, by, department=Department.objects.get(office_id=c.office_id, type=DepartmentType.SECURITY)
    ),
    "accept": lambda c, by, target: services.accept(c, by),
    "note": lambda c, by, target: services.note(c, by, text="已联系电梯维保单位。"),
    "escalate": lambda c, by, target: services.escalate(c, by, reason="维保单位推诿"),
    "report": lambda c, by, target: services.report(c, by, summary="电梯困人，已上报公司。"),
    "resolve": lambda c, by, target: services.resolve(c, by, resolution="已修复。"),
    "call_back": lambda c, by, target: called_back(c, by),
    "reopen": lambda c, by, target: services.reopen(c, by, reason="复查未通过", rectify_due_at=later()),
    "close": lambda c, by, target: services.close(c, by, **LESSON),
    "decline": lambda c, by, target: services.decline(
        c, by, reason="outside_responsibility", explanation="该事项属供电局负责，已告知联系方式。"
    ),
    "withdraw": lambda c, by, target: services.withdraw(c, by, reason="业主撤回"),
    "link": lambda c, by, target: services.link_repeat(c, by, target=target, reason="上次承诺未兑现"),
    "merge": lambda c, by, target: services.merge(c, by, target=target, reason="同一问题"),
    "attach": lambda c, by, target: services.add_attachment(c, by, io.BytesIO(PNG), "现场.png"),
    "reveal_contact": lambda c, by, target: services.reveal_contact(c, by),
}
EVENT_OF = {
    "assess": EventType.ASSESSED,
    "dispatch": EventType.DISPATCHED,
    "accept": EventType.ACCEPTED,
    "note": EventType.NOTE,
    "escalate": EventType.ESCALATED,
    "report": EventType.REPORTED,
    "resolve": EventType.RESOLVED,
    "call_back": EventType.CALLED_BACK,
    "reopen": EventType.REOPENED,
    "close": EventType.CLOSED,
    "decline": EventType.DECLINED,
    "withdraw": EventType.WITHDRAWN,
    "link": EventType.LINKED,
    "merge": EventType.MERGED,
    "attach": EventType.ATTACHMENT_ADDED,
    "reveal_contact": EventType.CONTACT_REVEALED,
}
ALLOWED = [(a, s) for a, states in services.TRANSITIONS.items() for s in Status if s in states]
REFUSED = [(a, s) for a, states in services.TRANSITIONS.items() for s in Status if s not in states]


def _id(pair) -> str:
    return f"{pair[0]}-from-{pair[1]}"


def actor(org, action: str):
    """Who takes the action in the transition tests: the supervisor, but the office's upward report is
    its director's."""
    return org.director if action == "report" else org.supervisor


def prepare(org, action: str, c: Complaint, by) -> Complaint:
    """What must already have happened for `action` to be possible besides the status."""
    if action == "close" and c.status == S.RESOLVED:
        return called_back(c, by)
    if action == "report" and c.status in OPEN_STATUSES:
        return services.assess(c, org.cs_manager, is_major=True)  # only a major complaint is reported
    return c


# ---------------------------------------------------------------------------------------------
# the happy path


def test_a_complaint_goes_from_registration_to_closing_with_its_lesson(org, make_complaint, eng):
    steps = [
        (
            org.reception,
            lambda c: services.assess(c, org.reception, **ASSESSED),
            S.RECEIVED,
            EventType.ASSESSED,
        ),
        (
            org.supervisor,
            lambda c: services.dispatch(c, org.supervisor, department=eng),
            S.DISPATCHED,
            EventType.DISPATCHED,
        ),
        (org.handler, lambda c: services.accept(c, org.handler), S.IN_PROGRESS, EventType.ACCEPTED),
        (
            org.handler,
            lambda c: services.note(c, org.handler, text="维保单位已到场。"),
            S.IN_PROGRESS,
            EventType.NOTE,
        ),
        (
            org.handler,
            lambda c: services.resolve(c, org.handler, resolution="更换门机。"),
            S.RESOLVED,
            EventType.RESOLVED,
        ),
        (org.supervisor, lambda c: called_back(c, org.supervisor), S.RESOLVED, EventType.CALLED_BACK),
        (org.supervisor, lambda c: services.close(c, org.supervisor, **LESSON), S.CLOSED, EventType.CLOSED),
    ]
    c = make_complaint()
    assert (c.status, c.version) == (S.RECEIVED, 1)
    assert [e.type for e in c.events.all()] == [EventType.REGISTERED]

    for version, (user, action, status, event_type) in enumerate(steps, start=2):
        before = c.status
        c = action(c)
        row = reload(c)
        assert (row.status, row.version) == (status, version)
        assert c.events.count() == version, "each change writes exactly one event"
        last = c.events.last()
        assert (last.type, last.actor, last.from_status, last.to_status) == (event_type, user, before, status)

    assert [e.type for e in c.events.all()] == [
        EventType.REGISTERED,
        EventType.ASSESSED,
        EventType.DISPATCHED,
        EventType.ACCEPTED,
        EventType.NOTE,
        EventType.RESOLVED,
        EventType.CALLED_BACK,
        EventType.CLOSED,
    ]
    row = reload(c)
    assert row.handler == org.handler
    assert row.owner == org.reception, "first-contact ownership stays with the receiver"
    assert row.satisfaction == "satisfied"
    assert row.close_outcome == "resolved"
    assert (row.lesson_cause, row.lesson_learned, row.lesson_prevention) == tuple(LESSON.values())
    assert row.closed_at is not None


# ---------------------------------------------------------------------------------------------
# the transition table


def test_every_action_of_the_transition_table_is_exercised_here():
    assert set(ACTIONS) == set(services.TRANSITIONS) == set(EVENT_OF)


def test_complaint_in_builds_each_of_the_nine_statuses(complaint_in):
    for status in Status:
        assert reload(complaint_in(status)).status == status


def test_a_finished_complaint_can_only_have_its_contact_looked_up():
    for action, states in services.TRANSITIONS.items():
        if action != "reveal_contact":
            assert not (states & TERMINAL_STATUSES), action


def test_only_a_resolved_complaint_can_be_called_back_reopened_or_closed():
    for action in ("call_back", "reopen", "close"):
        assert services.TRANSITIONS[action] == {S.RESOLVED}


@pytest.mark.parametrize(("action", "status"), REFUSED, ids=[_id(p) for p in REFUSED])
def test_an_action_from_a_status_it_does_not_start_from_is_refused_and_changes_nothing(
    org, complaint_in, make_complaint, action, status
):
    c = complaint_in(status)
    target = make_complaint(**ASSESSED) if action in ("link", "merge") else None
    refused(TransitionNotAllowed, ACTIONS[action], c, actor(org, action), target)


@pytest.mark.parametrize(("action", "status"), ALLOWED, ids=[_id(p) for p in ALLOWED])
def test_an_action_from_a_status_it_starts_from_is_done_with_exactly_one_event(
    org, complaint_in, make_complaint, action, status
):
    by = actor(org, action)
    c = prepare(org, action, complaint_in(status), by)
    target = make_complaint(**ASSESSED) if action in ("link", "merge") else None
    own_events = c.events.count()

    ACTIONS[action](c, by, target)

    row = reload(c)
    assert c.events.count() == own_events + 1
    event = c.events.last()
    assert (event.type, event.actor, event.from_status, event.to_status) == (
        EVENT_OF[action],
        by,
        status,
        row.status,
    )
    # Looking up a phone number is recorded but is not a change: nobody editing is disturbed.
    assert row.version == c.version + (0 if action == "reveal_contact" else 1)


# ---------------------------------------------------------------------------------------------
# roles


def test_receptionist_cannot_close_a_valid_complaint(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor)
    refused(RoleNotAllowed, services.close, c, org.reception, **LESSON)


def test_receptionist_cannot_reopen_a_complaint(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor, "dissatisfied")
    refused(RoleNotAllowed, services.reopen, c, org.reception, reason="不满意", rectify_due_at=later())


def test_receptionist_cannot_decline_a_complaint(org, complaint_in):
    c = complaint_in(S.RECEIVED)
    refused(RoleNotAllowed, services.decline, c, org.reception, reason="no_facts", explanation="无具体事实。")


def test_handler_cannot_dispatch_a_job_elsewhere(org, complaint_in, security):
    c = complaint_in(S.IN_PROGRESS)
    refused(RoleNotAllowed, services.dispatch, c, org.handler, department=security)


def test_handler_cannot_close_the_job_they_resolved(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor)
    refused(RoleNotAllowed, services.close, c, org.handler, **LESSON)


def test_executive_cannot_dispatch(org, complaint_in, eng):
    c = complaint_in(S.RECEIVED)
    refused(RoleNotAllowed, services.dispatch, c, org.executive, department=eng)


def test_security_guard_cannot_accept_an_engineering_job(org, complaint_in):
    c = complaint_in(S.DISPATCHED)
    refused(RoleNotAllowed, services.accept, c, org.guard)


def test_security_guard_cannot_resolve_an_engineering_job(org, complaint_in):
    c = complaint_in(S.IN_PROGRESS)
    refused(RoleNotAllowed, services.resolve, c, org.guard, resolution="已处理。")


@pytest.mark.parametrize("action", ["accept", "resolve"])
def test_a_named_handler_moved_to_another_department_cannot_take_the_job(
    org, complaint_in, eng, security, action
):
    c = services.dispatch(complaint_in(S.RECEIVED), org.supervisor, department=eng, handler=org.handler)
    if action == "resolve":
        c = services.accept(c, org.eng_manager)
    org.handler.department = security
    org.handler.save(update_fields=["department"])
    assert Complaint.objects.visible_to(org.handler).filter(pk=c.pk).exists(), "still named on the job"
    kwargs = {"resolution": "已处理。"} if action == "resolve" else {}
    refused(RoleNotAllowed, getattr(services, action), c, org.handler, **kwargs)


def test_engineering_handler_can_accept_and_resolve_their_departments_job(org, complaint_in):
    c = services.accept(complaint_in(S.DISPATCHED), org.handler)
    c = services.resolve(c, org.handler, resolution="已处理。")
    assert reload(c).status == S.RESOLVED


@pytest.mark.parametrize("persona", ["handler2", "reception2", "director2"])
def test_office_b_staff_cannot_see_office_a_complaints(org, complaint_in, persona):
    c = complaint_in(S.DISPATCHED)
    assert not Complaint.objects.visible_to(getattr(org, persona)).filter(pk=c.pk).exists()


OFFICE_B = [
    pytest.param(
        persona,
        action,
        id=f"{persona}-{action}",
    )
    for persona, role in (("handler2", "handler"), ("reception2", "receptionist"), ("director2", "director"))
    for action in services.TRANSITIONS
    if role in services.ACTION_ROLES[action]
]


@pytest.mark.parametrize(("persona", "action"), OFFICE_B)
def test_office_b_staff_cannot_act_on_office_a_complaints_even_where_their_role_could(
    org, complaint_in, make_complaint, persona, action
):
    status = next(s for s in Status if s in services.TRANSITIONS[action])
    c = prepare(org, action, complaint_in(status), actor(org, action))
    target = make_complaint(**ASSESSED) if action in ("link", "merge") else None
    refused(RoleNotAllowed, ACTIONS[action], c, getattr(org, persona), target)


def test_a_receptionist_asking_to_merge_is_refused_for_their_role_whatever_the_target(org, make_complaint):
    c = make_complaint()
    refused(RoleNotAllowed, services.merge, c, org.reception, target="Y01-000000-9999")


def test_office_b_handler_cannot_accept_office_a_job_dispatched_to_engineering(org, complaint_in):
    c = complaint_in(S.DISPATCHED)
    refused(RoleNotAllowed, services.accept, c, org.handler2)
    refused(RoleNotAllowed, services.note, c, org.handler2, text="看看")


@pytest.fixture
def major_resolved(org, complaint_in):
    return complaint_in(S.RESOLVED, is_major=True, severity="major")


def test_supervisor_cannot_call_back_a_major_complaint(org, major_resolved):
    refused(RoleNotAllowed, called_back, major_resolved, org.supervisor, method="onsite")


def test_major_complaint_called_back_by_phone_is_refused_because_it_must_be_on_site(org, major_resolved):
    error = refused(ValidationError, called_back, major_resolved, org.cs_manager, method="phone")
    assert list(field_errors(error)) == ["method"]


def test_cs_manager_calls_back_a_major_complaint_on_site(org, major_resolved):
    c = called_back(major_resolved, org.cs_manager, method="onsite")
    callback = Callback.objects.get(complaint=c)
    assert (callback.by, callback.method, callback.satisfaction) == (org.cs_manager, "onsite", "satisfied")
    assert reload(c).satisfaction == "satisfied"


def test_receptionist_makes_the_first_assessment(org, make_complaint):
    c = services.assess(make_complaint(), org.reception, **ASSESSED)
    row = reload(c)
    assert (row.nature, row.severity, row.category.code, row.assessed_by) == (
        "valid",
        "general",
        "facilities",
        org.reception,
    )


def test_receptionist_cannot_revise_an_assessment(org, make_complaint):
    c = services.assess(make_complaint(), org.reception, **ASSESSED)
    refused(RoleNotAllowed, services.assess, c, org.reception, severity="minor", reason="看错了")


def test_handler_revises_the_nature_after_investigation(org, complaint_in):
    c = complaint_in(S.IN_PROGRESS)
    c = services.assess(c, org.handler, nature="assist", reason="楼上住户装修漏水，非我司责任。")
    row = reload(c)
    assert (row.nature, row.assessed_by) == ("assist", org.handler)
    assert c.events.last().data == {"revised": ["nature"]}


@pytest.mark.parametrize(
    ("field", "value"), [("severity", "minor"), ("category", "environment"), ("is_major", True)]
)
def test_handler_cannot_revise_anything_but_the_nature(org, complaint_in, field, value):
    c = complaint_in(S.IN_PROGRESS)
    refused(RoleNotAllowed, services.assess, c, org.handler, reason="现场核实", **{field: value})


def test_handler_revising_the_nature_without_a_reason_is_refused(org, complaint_in):
    c = complaint_in(S.IN_PROGRESS)
    error = refused(ValidationError, services.assess, c, org.handler, nature="assist")
    assert "reason" in field_errors(error)


@pytest.mark.parametrize(
    ("field", "value"),
    [("nature", "assist"), ("severity", "minor"), ("category", "environment"), ("is_major", False)],
)
def test_revising_a_classification_needs_a_reason(org, complaint_in, field, value):
    c = complaint_in(S.RECEIVED, is_major=True)
    error = refused(ValidationError, services.assess, c, org.supervisor, **{field: value})
    assert "reason" in field_errors(error)

    services.assess(c, org.supervisor, reason="复核后修改", **{field: value})
    row = reload(c)
    assert (row.category.code if field == "category" else getattr(row, field)) == value


# ---------------------------------------------------------------------------------------------
# close


def test_a_complaint_not_yet_called_back_cannot_close(org, complaint_in):
    refused(TransitionNotAllowed, services.close, complaint_in(S.RESOLVED), org.supervisor, **LESSON)


def test_a_dissatisfied_callback_after_a_satisfied_one_starts_rectification_and_the_complaint_cannot_close(
    org, complaint_in
):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor, "satisfied")
    due = later(48)
    c = services.call_back(
        c, org.cs_manager, method="phone", satisfaction="dissatisfied", words="又坏了", rectify_due_at=due
    )
    row = reload(c)
    assert (row.status, row.rectify_due_at, row.reopen_count) == (S.RECTIFYING, due, 1)
    refused(TransitionNotAllowed, services.close, c, org.supervisor, **LESSON)


def test_ending_a_complaint_the_complainant_was_dissatisfied_with_is_a_managers_decision_with_a_reason(
    org, complaint_in
):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor, "dissatisfied")  # → 整改中
    c = services.resolve(c, org.handler, resolution="已再次检修并更换部件。")
    end = dict(outcome="mediation", note="经物业与业主委员会调解，业主接受处理结果。", **LESSON)
    # A supervisor may not end it as mediated; the CS-centre manager may, with the reason recorded.
    refused(RoleNotAllowed, services.close, c, org.supervisor, **end)
    error = refused(ValidationError, services.close, c, org.cs_manager, **{**end, "note": " "})
    assert "note" in field_errors(error)
    c = services.close(c, org.cs_manager, **end)
    event = c.events.last()
    assert (event.type, event.data, event.note) == (
        EventType.CLOSED,
        {"outcome": "mediation", "unsatisfied": True},
        end["note"],
    )


def test_a_valid_complaint_without_its_lesson_cannot_close(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor)
    error = refused(ValidationError, services.close, c, org.supervisor)
    assert {"lesson_cause", "lesson_learned", "lesson_prevention"} <= set(field_errors(error))


def test_a_valid_complaint_missing_one_part_of_its_lesson_cannot_close(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED), org.supervisor)
    error = refused(
        ValidationError, services.close, c, org.supervisor, **{**LESSON, "lesson_prevention": "  "}
    )
    assert list(field_errors(error)) == ["lesson_prevention"]


def test_an_unassessed_complaint_cannot_close(org, make_complaint, eng):
    c = services.dispatch(make_complaint(), org.supervisor, department=eng)
    c = services.resolve(c, org.supervisor, resolution="已修复。")
    c = called_back(c, org.supervisor)
    error = refused(ValidationError, services.close, c, org.supervisor, **LESSON)
    message = " ".join(field_errors(error)[NON_FIELD_ERRORS])
    assert "性质" in message and "严重程度" in message and "分类" in message


def test_an_assist_complaint_closes_without_a_lesson(org, complaint_in):
    c = called_back(complaint_in(S.RESOLVED, nature="assist"), org.supervisor)
    c = services.close(c, org.supervisor)
    row = reload(c)
    assert (row.status, row.lesson_cause, row.lesson_learned, row.lesson_prevention) == (S.CLOSED, "", "", "")


def test_a_complaint_answered_on_the_spot_closes_without_a_callback(org, make_complaint):
    c = make_complaint(
        on_spot_answer="停水为市政管网维修，今晚八点恢复，已当场解释。",
        nature="invalid",
        severity="minor",
        category="facilities",
    )
    assert c.status == S.RESOLVED
    c = services.close(c, org.supervisor)
    assert reload(c).status == S.CLOSED
    assert not Callback.objects.filter(complaint=c).exists()


def test_a_complaint_answered_on_the_spot_but_then_called_back_dissatisfied_cannot_close(org, make_complaint):
    c = make_complaint(
        on_spot_answer="已当场解释。", nature="invalid", severity="minor", category="facilities"
    )
    c = called_back(c, org.supervisor, "dissatisfied")
    refused(TransitionNotAllowed, services.close, c, org.supervisor)


def test_a_major_complaint_answered_on_the_spot_still_needs_its_callback(org, make_complaint):
    c = make_complaint(
        on_spot_answer="已当场道歉并说明处理方案。",
        nature="assist",
        severity="major",
        is_major=True,
        category="facilities",
    )
    refused(TransitionNotAllowed, services.close, c, org.director)


# --- an enquiry answered on the spot (咨询型, docs/decisions/0011) ------------------------------------
ENQUIRY = {"nature": "invalid", "nature_subtype": "enquiry", "severity": "minor", "category": "fees"}


def _owes_callback(c: Complaint, when: dt.datetime) -> bool:
    """Is the complaint's callback pending, or overdue at `when`, as every list, count and sweep asks?"""
    from kesu.complaints.deadlines import overdue_q, pending_q

    rows = Complaint.objects.filter(pk=c.pk)
    return rows.filter(pending_q("callback")).exists() or rows.filter(overdue_q("callback", when)).exists()


def test_an_enquiry_answered_on_the_spot_owes_no_callback_and_closes_at_once(org, make_complaint):
    c = make_complaint(on_spot_answer="物业费标准未变，已当场出示收费公示。", **ENQUIRY)
    row = reload(c)
    assert row.status == S.RESOLVED
    assert row.callback_due_at is None  # no callback deadline, so never a callback overdue
    assert not _owes_callback(row, later(24 * 30))
    assert "resolved" in services.close_outcomes(row, org.supervisor)
    c = services.close(row, org.supervisor)
    assert reload(c).status == S.CLOSED
    assert not Callback.objects.filter(complaint=c).exists()


def test_an_enquiry_judged_after_its_on_the_spot_answer_loses_its_callback_deadline(org, make_complaint):
    c = make_complaint(on_spot_answer="物业费标准未变，已当场出示收费公示。")
    assert reload(c).callback_due_at is not None  # not yet judged: a complaint like any other
    c = services.assess(c, org.supervisor, **ENQUIRY)
    assert reload(c).callback_due_at is None


@pytest.mark.parametrize(
    "judged",
    [
        {**ENQUIRY, "nature_subtype": "help"},  # 求助型: help was asked for, is it done?
        {**ENQUIRY, "nature_subtype": "venting"},
        {**ENQUIRY, "nature_subtype": ""},
        {**ENQUIRY, "nature": "valid", "nature_subtype": ""},
        {**ENQUIRY, "is_major": True, "severity": "major"},
    ],
    ids=["help", "venting", "no-subtype", "valid", "major"],
)
def test_any_other_complaint_answered_on_the_spot_still_owes_its_callback(org, make_complaint, judged):
    c = reload(make_complaint(on_spot_answer="已当场解释并致歉。", **judged))
    assert c.callback_due_at is not None
    assert _owes_callback(c, later(24 * 30))


def test_an_enquiry_called_back_dissatisfied_is_a_complaint_again_and_owes_its_callback(org, make_complaint):
    c = make_complaint(on_spot_answer="物业费标准未变，已当场出示收费公示。", **ENQUIRY)
    c = called_back(c, org.supervisor, "dissatisfied")  # sent back for rectification
    assert reload(c).status == S.RECTIFYING
    c = services.resolve(c, org.supervisor, resolution="已书面说明收费依据。")
    row = reload(c)
    assert row.callback_due_at is not None
    refused(TransitionNotAllowed, services.close, row, org.supervisor)


def test_the_callback_rule_reads_the_same_as_a_query_and_on_a_row(org, make_complaint):
    from kesu.complaints import policy

    made = [
        make_complaint(on_spot_answer="已当场解释。", **ENQUIRY),
        make_complaint(on_spot_answer="已当场解释。", **{**ENQUIRY, "nature": "assist"}),
        make_complaint(on_spot_answer="已当场解释。", **{**ENQUIRY, "nature_subtype": "venting"}),
        make_complaint(on_spot_answer="已当场解释。", **{**ENQUIRY, "is_major": True}),
        make_complaint(on_spot_answer="已当场解释。", **{**ENQUIRY, "severity": "major"}),
        make_complaint(**ENQUIRY),
        called_back(make_complaint(on_spot_answer="已当场解释。", **ENQUIRY), org.supervisor, "dissatisfied"),
    ]
    settled = set(Complaint.objects.filter(policy.settled_at_counter_q()).values_list("pk", flat=True))
    assert settled == {c.pk for c in made if policy.settled_at_counter(reload(c))}
    assert settled == {made[0].pk, made[1].pk}
    owing = set(Complaint.objects.filter(policy.needs_callback_q()).values_list("pk", flat=True))
    assert owing == {c.pk for c in made if policy.needs_callback(reload(c))}


@pytest.mark.parametrize("outcome", ["facts_untrue", "non_cooperation", "litigation", "mediation"])
def test_closing_other_than_resolved_needs_a_note(org, complaint_in, outcome):
    c = complaint_in(S.RESOLVED)
    error = refused(ValidationError, services.close, c, org.supervisor, outcome=outcome, **LESSON)
    assert list(field_errors(error)) == ["note"]

    c = services.close(
        c, org.supervisor, outcome=outcome, note="结案说明：已向业主书面说明处理经过。", **LESSON
    )
    row = reload(c)
    assert (row.status, row.close_outcome, row.end_note) == (
        S.CLOSED,
        outcome,
        "结案说明：已向业主书面说明处理经过。",
    )


# ---------------------------------------------------------------------------------------------
# reopen


def test_reopening_with_a_deadline_in_the_past_is_refused(org, complaint_in):
    # Reopening without a callback: verification (跟踪验证) found the work not done.
    c = complaint_in(S.RESOLVED)
    error = refused(
        ValidationError, services.reopen, c, org.supervisor, reason="复查未通过", rectify_due_at=later(-1)
    )
    assert list(field_errors(error)) == ["rectify_due_at"]
    error = refused(
        ValidationError,
        services.call_back,
        c,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="不行",
        rectify_due_at=later(-1),
    )
    assert list(field_errors(error)) == ["rectify_due_at"]


def test_a_reopened_complaint_is_rectified_called_back_again_and_closed(org, complaint_in):
    due = later(72)
    c = services.call_back(
        complaint_in(S.RESOLVED),
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="业主不满意：仍有异响",
        rectify_due_at=due,
    )
    row = reload(c)
    assert (row.status, row.rectify_due_at, row.reopen_count) == (S.RECTIFYING, due, 1)
    refused(TransitionNotAllowed, services.close, c, org.supervisor, **LESSON)

    c = services.resolve(c, org.handler, resolution="更换曳引机轴承。")
    assert reload(c).status == S.RESOLVED
    c = called_back(c, org.supervisor, "satisfied")
    c = services.close(c, org.supervisor, **LESSON)
    row = reload(c)
    assert (row.status, row.reopen_count) == (S.CLOSED, 1)
    assert list(Callback.objects.filter(complaint=c).values_list("satisfaction", flat=True)) == [
        "dissatisfied",
        "satisfied",
    ]


# ---------------------------------------------------------------------------------------------
# other ends: decline, withdraw, repeat, merge


def test_declining_needs_a_reason_code_and_an_explanation(org, complaint_in):
    c = complaint_in(S.RECEIVED)
    error = refused(ValidationError, services.decline, c, org.supervisor, reason="", explanation=" ")
    assert set(field_errors(error)) == {"reason", "explanation"}


def test_a_declined_complaint_tells_the_complainant_why(org, complaint_in):
    c = complaint_in(S.RECEIVED)
    explanation = "该噪音来自小区外的市政施工，请拨打12345反映。"
    c = services.decline(c, org.supervisor, reason="outside_responsibility", explanation=explanation)
    row = reload(c)
    assert (row.status, row.decline_reason, row.end_note) == (
        S.DECLINED,
        "outside_responsibility",
        explanation,
    )
    event = c.events.last()
    assert (event.type, event.visibility, event.note) == (EventType.DECLINED, "complainant", explanation)
    sms = Outbox.objects.get(complaint=c, event=event)
    assert (sms.channel, sms.address) == ("sms", org.a.resident.phone)
    assert explanation in sms.body


def test_withdrawing_needs_a_reason(org, complaint_in):
    c = complaint_in(S.DISPATCHED)
    error = refused(ValidationError, services.withdraw, c, org.supervisor, reason="")
    assert list(field_errors(error)) == ["reason"]
    c = services.withdraw(c, org.supervisor, reason="业主来电撤回")
    assert (reload(c).status, reload(c).end_note) == (S.WITHDRAWN, "业主来电撤回")


def test_a_repeat_complaint_is_linked_to_the_earlier_one(org, make_complaint, complaint_in):
    earlier = complaint_in(S.CLOSED)
    repeat = services.link_repeat(
        make_complaint(), org.supervisor, target=earlier.number, reason="承诺时间内未答复"
    )
    assert reload(repeat).repeat_of == earlier
    assert repeat.events.last().data == {"target": earlier.number}


def test_a_complaint_cannot_be_a_repeat_of_itself(org, make_complaint):
    c = make_complaint()
    error = refused(ValidationError, services.link_repeat, c, org.supervisor, target=c)
    assert list(field_errors(error)) == ["target"]


def test_repeat_links_cannot_form_a_cycle(org, make_complaint):
    first, second, third = make_complaint(), make_complaint(), make_complaint()
    services.link_repeat(second, org.supervisor, target=first)
    services.link_repeat(third, org.supervisor, target=second)
    error = refused(ValidationError, services.link_repeat, reload(first), org.supervisor, target=third)
    assert list(field_errors(error)) == ["target"]


def test_merging_makes_the_complaint_follow_the_target(org, make_complaint):
    c, target = make_complaint(), make_complaint()
    c = services.merge(c, org.supervisor, target=target, reason="同一部电梯")
    row, target_row = reload(c), reload(target)
    assert (row.status, row.merged_into) == (S.MERGED, target)
    assert target_row.status == S.RECEIVED
    assert target_row.version == target.version + 1, "editors of the target notice the merge"
    merged_in = target.events.last()
    assert (merged_in.type, merged_in.actor, merged_in.data) == (
        EventType.MERGED_IN,
        org.supervisor,
        {"source": c.number},
    )


def test_a_complaint_cannot_be_merged_into_another_offices_complaint(org, make_complaint):
    c = make_complaint()
    other_office = make_complaint(
        by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone
    )
    # Quality sees both offices, so the refusal is the office rule, not scope.
    error = refused(ValidationError, services.merge, c, org.quality, target=other_office)
    assert list(field_errors(error)) == ["target"]
    # Office A's supervisor cannot even find it.
    error = refused(ValidationError, services.merge, c, org.supervisor, target=other_office.number)
    assert list(field_errors(error)) == ["target"]


def test_a_complaint_cannot_be_merged_into_a_closed_one(org, make_complaint, complaint_in):
    closed = complaint_in(S.CLOSED)
    error = refused(ValidationError, services.merge, make_complaint(), org.supervisor, target=closed)
    assert list(field_errors(error)) == ["target"]


# ---------------------------------------------------------------------------------------------
# escalate


def test_escalating_moves_up_one_tier_at_a_time(org, make_complaint):
    c = services.escalate(make_complaint(), org.supervisor, reason="维保单位推诿")
    assert reload(c).tier == Tier.CS_MANAGER
    c = services.escalate(c, org.cs_manager, reason="需管理处协调")
    row = reload(c)
    assert (row.tier, row.reported_at) == (Tier.DIRECTOR, None)


def test_escalating_to_the_company_is_the_upward_report(org, make_complaint):
    c = make_complaint()
    at = timezone.now()
    c = services.escalate(c, org.supervisor, reason="业主已联系媒体", tier=Tier.COMPANY, at=at)
    row = reload(c)
    assert (row.tier, row.reported_at) == (Tier.COMPANY, at)
    assert c.events.last().changes["tier"] == [Tier.FRONT_LINE, Tier.COMPANY]


@pytest.mark.parametrize("tier", [Tier.DIRECTOR, Tier.CS_MANAGER, 9])
def test_escalating_to_the_same_lower_or_unknown_tier_is_refused(org, make_complaint, tier):
    c = services.escalate(make_complaint(), org.supervisor, reason="升级", tier=Tier.DIRECTOR)
    error = refused(ValidationError, services.escalate, c, org.director, reason="再升级", tier=tier)
    assert list(field_errors(error)) == ["tier"]


def test_nothing_is_above_the_executive(org, make_complaint):
    c = services.escalate(make_complaint(), org.supervisor, reason="升级", tier=Tier.EXECUTIVE)
    error = refused(ValidationError, services.escalate, c, org.director, reason="再升级")
    assert list(field_errors(error)) == ["tier"]


# ---------------------------------------------------------------------------------------------
# concurrency


def test_a_change_made_on_a_stale_copy_is_refused(org, make_complaint, eng):
    c = make_complaint(**ASSESSED)
    mine, theirs = Complaint.objects.get(pk=c.pk), Complaint.objects.get(pk=c.pk)
    services.dispatch(mine, org.supervisor, department=eng)

    refused(StaleVersion, services.assess, theirs, org.cs_manager, severity="major", reason="业主受伤")
    row = reload(c)
    assert (row.status, row.severity, row.version) == (S.DISPATCHED, "general", 2)


def test_a_change_with_an_explicit_stale_version_is_refused(org, make_complaint, eng):
    c = services.dispatch(make_complaint(**ASSESSED), org.supervisor, department=eng)
    fresh = reload(c)
    refused(
        StaleVersion, services.assess, fresh, org.cs_manager, severity="major", reason="业主受伤", version=1
    )
    services.assess(fresh, org.cs_manager, severity="major", reason="业主受伤", version=fresh.version)
    assert reload(c).severity == "major"


# ---------------------------------------------------------------------------------------------
# the timeline


def test_an_event_records_old_and_new_raw_codes(org, make_complaint, eng):
    c = make_complaint(**ASSESSED)
    c = services.assess(c, org.cs_manager, severity="major", reason="老人被困，可能受伤")
    event = c.events.last()
    assert (event.actor, event.from_status, event.to_status) == (org.cs_manager, S.RECEIVED, S.RECEIVED)
    assert event.changes["severity"] == ["general", "major"]

    c = services.dispatch(c, org.supervisor, department=eng, handler=org.handler)
    event = c.events.last()
    assert (event.from_status, event.to_status) == (S.RECEIVED, S.DISPATCHED)
    assert event.changes["status"] == ["received", "dispatched"]
    assert event.changes["department_id"] == [None, eng.pk]
    assert event.changes["handler_id"] == [None, org.handler.pk]


def test_a_timeline_event_cannot_be_changed_or_deleted(make_complaint):
    event = make_complaint().events.get()
    event.note = "改写历史"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    assert ComplaintEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.parametrize("rewrite", ["update", "delete"])
def test_the_timeline_cannot_be_rewritten_in_bulk_either(make_complaint, rewrite):
    c = make_complaint()
    with pytest.raises((RuntimeError, DatabaseError)), transaction.atomic():
        events = ComplaintEvent.objects.filter(complaint=c)
        events.update(note="改写历史") if rewrite == "update" else events.delete()
    assert list(ComplaintEvent.objects.filter(complaint=c).values_list("note", flat=True)) == [""]
