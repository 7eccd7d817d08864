"""The deadline sweep (kesu.complaints.sweep): each passed deadline is recorded once, with its
timeline event and its notifications to the right people, however often and however many sweepers run.

Deadlines used below (office window 08:00–19:00), for a complaint received Tue 2026-03-10 10:00:
general — forward 10:20, committed answer Thu 03-12 10:00, resolve Thu 03-12 12:00;
major — forward 10:10, report 11:00, resolve and answer Wed 03-11 10:00.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from conftest import local
from django.core.management import call_command
from django.db import connection, connections

from kesu import cli
from kesu.complaints import services
from kesu.complaints.choices import EventType
from kesu.complaints.models import Complaint, ComplaintEvent, SlaBreach
from kesu.complaints.sweep import sweep
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType, Role
from kesu.org.models import User

MIN = dt.timedelta(minutes=1)
TUE_10 = local(2026, 3, 10, 10, 0)


def register(org, received: dt.datetime = TUE_10, *, office=None, **kwargs) -> Complaint:
    o = office or org.a
    return services.register(
        org.reception if o is org.a else org.reception2,
        office=o.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=o.resident.phone,
        unit=o.unit,
        received_at=received,
        at=received + MIN,
        **kwargs,
    )


def recipients(kind: str, c: Complaint | None = None) -> set[str]:
    rows = Outbox.objects.filter(kind=f"overdue_{kind}")
    if c is not None:
        rows = rows.filter(complaint=c)
    return set(rows.values_list("user__username", flat=True))


def overdue_events(c: Complaint) -> list[dict]:
    return list(
        ComplaintEvent.objects.filter(complaint=c, type=EventType.OVERDUE).values_list("data", flat=True)
    )


def in_progress(org, c: Complaint, at: dt.datetime) -> Complaint:
    """Dispatched to engineering (handler named), accepted, and the complainant told: only the
    resolve deadline is left running."""
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler, at=at
    )
    c = services.accept(c, org.handler, at=at + MIN)
    return services.note(c, org.handler, text="已安排维保单位检修", tell_complainant=True, at=at + 2 * MIN)


# ---------------------------------------------------------------------------------------------
# once per breach


def test_each_breach_is_recorded_once_however_often_the_sweep_runs(org):
    c = register(org)
    assert sweep(local(2026, 3, 10, 10, 20)).breaches == 0  # due, not yet passed

    first = sweep(local(2026, 3, 10, 10, 21))
    assert (first.breaches, first.by_kind, first.notifications) == (1, {"forward": 1}, 2)
    again = sweep(local(2026, 3, 10, 10, 21))
    later = sweep(local(2026, 3, 10, 10, 50))
    assert (again.breaches, again.notifications, later.breaches) == (0, 0, 0)

    breach = SlaBreach.objects.get()
    assert (breach.complaint_id, breach.kind, breach.due_at, breach.recorded_at, breach.tier) == (
        c.pk,
        "forward",
        local(2026, 3, 10, 10, 20),
        local(2026, 3, 10, 10, 21),
        0,
    )
    event = ComplaintEvent.objects.get(complaint=c, type=EventType.OVERDUE)
    assert (event.at, event.actor, event.from_status, event.to_status) == (
        local(2026, 3, 10, 10, 21),
        None,
        "received",
        "received",
    )
    # Codes and ISO times only: the page and the messages word and localise them.
    assert set(event.data) == {"kind", "due_at", "tier"} and event.data["kind"] == "forward"
    assert dt.datetime.fromisoformat(event.data["due_at"]) == local(2026, 3, 10, 10, 20)
    # The overdue event does not change the complaint (no version bump for other editors to trip on).
    assert Complaint.objects.get(pk=c.pk).version == c.version


def test_each_kind_is_recorded_once_per_complaint(org):
    c = register(org)  # nothing done: forward, answer and resolve all pass
    result = sweep(local(2026, 3, 12, 12, 1))
    assert result.by_kind == {"forward": 1, "answer": 1, "resolve": 1}
    assert sweep(local(2026, 3, 13, 12, 0)).breaches == 0
    assert sorted(SlaBreach.objects.filter(complaint=c).values_list("kind", "due_at")) == [
        ("answer", local(2026, 3, 12, 10, 0)),
        ("forward", local(2026, 3, 10, 10, 20)),
        ("resolve", local(2026, 3, 12, 12, 0)),
    ]
    assert sorted(d["kind"] for d in overdue_events(c)) == ["answer", "forward", "resolve"]


def test_a_met_obligation_is_not_recorded(org):
    c = register(org)
    services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=local(2026, 3, 10, 10, 30)
    )
    assert sweep(local(2026, 3, 10, 10, 31)).breaches == 0  # dispatched late, but dispatched
    assert SlaBreach.objects.count() == 0 and overdue_events(c) == []


# ---------------------------------------------------------------------------------------------
# who is told


def test_forward_breach_goes_to_the_supervisor_and_cs_manager_of_the_office(org):
    supervisor_b = User.objects.create_user(
        username="supervisor2", password="pw-12345678", role=Role.SUPERVISOR
    )
    supervisor_b.offices.set([org.b.office])
    a, b = register(org), register(org, office=org.b)

    sweep(local(2026, 3, 10, 10, 21))

    assert recipients("forward", a) == {"supervisor", "cs_manager"}  # not director2, not supervisor2
    assert recipients("forward", b) == {"supervisor2"}
    row = Outbox.objects.filter(kind="overdue_forward", complaint=a).first()
    assert row.channel == Outbox.Channel.INAPP and row.payload["number"] == a.number
    assert "2026-03-10 10:20" in row.body
    # Staff messages never carry the complainant's identity.
    assert a.complainant_phone not in row.body and a.complainant_name not in row.body


@pytest.mark.parametrize("named_handler", [True, False], ids=["handler-named", "department-only"])
def test_resolve_breach_goes_to_the_responsible_department_and_the_cs_manager(org, named_handler):
    c = register(org)
    eng = org.a.dept[DepartmentType.ENGINEERING]
    c = services.dispatch(
        c,
        org.supervisor,
        department=eng,
        handler=org.handler if named_handler else None,
        at=local(2026, 3, 10, 10, 5),
    )
    services.note(c, org.supervisor, text="已派工程部", tell_complainant=True, at=local(2026, 3, 10, 10, 6))

    result = sweep(local(2026, 3, 12, 12, 1))

    assert result.by_kind == {"resolve": 1}
    # Engineering's handler and manager, the CS manager (next tier); not the security guard of
    # the same office, not office B's engineering handler.
    assert recipients("resolve") == {"handler", "eng_manager", "cs_manager"}


def test_report_breach_on_a_major_complaint_goes_to_the_director_company_quality_and_the_executive(org):
    c = register(org, severity="major")
    services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=local(2026, 3, 10, 10, 5)
    )
    register(org, office=org.b, severity="major")  # office B's own breach goes to its own director

    sweep(local(2026, 3, 10, 11, 1))

    # cs_manager: next tier up; quality and the executive: both were to hear within the hour.
    assert recipients("report", c) == {"director", "quality", "executive", "cs_manager"}
    assert "director2" not in recipients("report", c)
    assert "director2" in recipients("report") - recipients("report", c)


def test_answer_breach_also_goes_to_the_first_receiver(org):
    c = register(org)
    services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=local(2026, 3, 10, 10, 5)
    )
    assert sweep(local(2026, 3, 12, 10, 1)).by_kind == {"answer": 1}
    assert recipients("answer", c) == {"supervisor", "cs_manager", "reception"}  # 首问负责: the owner


def test_callback_breach_on_a_major_complaint_climbs_the_ladder(org):
    c = register(org, severity="major")
    c = services.escalate(c, org.cs_manager, reason="上报公司品质部", tier=3, at=local(2026, 3, 10, 10, 3))
    c = in_progress(org, c, local(2026, 3, 10, 10, 5))
    c = services.resolve(c, org.handler, resolution="已处理", at=local(2026, 3, 10, 16, 0))

    result = sweep(local(2026, 3, 11, 16, 1))

    assert result.by_kind == {"callback": 1}
    assert SlaBreach.objects.get().tier == 3
    # Callback owners, the director (major: on-site by the managers) and the next tier: the executive.
    assert recipients("callback", c) == {"supervisor", "cs_manager", "director", "executive"}


# ---------------------------------------------------------------------------------------------
# reopened complaints


def test_a_reopened_complaint_whose_new_rectify_deadline_passes_gets_a_new_breach(org):
    c = in_progress(org, register(org), local(2026, 3, 10, 10, 5))
    c = services.resolve(c, org.handler, resolution="已更换门机板", at=local(2026, 3, 11, 15, 0))
    for round_, (called, rectify_due) in enumerate(
        [
            (local(2026, 3, 12, 9, 0), local(2026, 3, 13, 17, 0)),
            (local(2026, 3, 17, 9, 0), local(2026, 3, 18, 17, 0)),
        ],
        start=1,
    ):
        c = services.call_back(
            c,
            org.supervisor,
            method="phone",
            satisfaction="dissatisfied",
            words="还是经常停",
            rectify_due_at=rectify_due,
            at=called,
        )
        assert sweep(rectify_due).breaches == 0
        result = sweep(rectify_due + MIN)
        assert result.by_kind == {"rectify": 1}
        assert sweep(rectify_due + 10 * MIN).breaches == 0
        assert SlaBreach.objects.filter(complaint=c, kind="rectify").count() == round_
        c = services.resolve(c, org.handler, resolution=f"第{round_}次整改完成", at=rectify_due + 30 * MIN)

    assert sorted(SlaBreach.objects.filter(kind="rectify").values_list("due_at", flat=True)) == [
        local(2026, 3, 13, 17, 0),
        local(2026, 3, 18, 17, 0),
    ]
    assert [dt.datetime.fromisoformat(d["due_at"]) for d in overdue_events(c) if d["kind"] == "rectify"] == [
        local(2026, 3, 13, 17, 0),
        local(2026, 3, 18, 17, 0),
    ]
    assert recipients("rectify", c) == {"handler", "eng_manager", "cs_manager", "director"}


# ---------------------------------------------------------------------------------------------
# several sweepers at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_sweeps_record_each_breach_exactly_once(org, tmp_path):
    complaints = [register(org, TUE_10 + i * MIN) for i in range(10)]  # forward due 10:20..10:29
    now = local(2026, 3, 10, 11, 0)
    n = 4
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(sweep(now))
        except BaseException as e:  # reported to the test thread
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a sweeper hung"
    connections.close_all()

    assert errors == []
    assert sum(r.breaches for r in results) == 10
    assert sum(r.notifications for r in results) == 20
    assert SlaBreach.objects.count() == 10
    assert sorted(SlaBreach.objects.values_list("complaint_id", flat=True)) == sorted(
        c.pk for c in complaints
    )
    assert ComplaintEvent.objects.filter(type=EventType.OVERDUE).count() == 10
    assert Outbox.objects.filter(kind="overdue_forward").count() == 20
    assert sweep(now).breaches == 0


# ---------------------------------------------------------------------------------------------
# the command


def test_sweep_command_prints_what_it_recorded(org, capsys, settings):
    # Reminders (due soon, digests) depend on the time of day: off, so the output is exact.
    settings.KESU_DIGEST_ROLES = []
    settings.KESU_DUE_SOON_MINUTES = {}
    # Registered long ago and never touched: forward, answer and resolve have all passed by now.
    register(org)
    out = io.StringIO()
    call_command("sweep", stdout=out)
    # forward → supervisor, cs_manager; answer → those two and the receiver; resolve (no department
    # yet) → cs_manager.
    assert (
        out.getvalue() == "breaches recorded: 3 (answer=1, forward=1, resolve=1); notifications queued: 6\n"
    )

    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert out.getvalue() == "breaches recorded: 0 (-); notifications queued: 0\n"

    # The same through the `kesu` front end.
    register(org, local(2026, 3, 11, 10, 0))
    cli.main(["kesu", "sweep"])
    assert (
        capsys.readouterr().out
        == "breaches recorded: 3 (answer=1, forward=1, resolve=1); notifications queued: 6\n"
    )
