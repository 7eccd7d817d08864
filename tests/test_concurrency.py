"""Concurrency: numbering under parallel intake, and optimistic locking between two editors.

These tests use real transactions (``transaction=True``) and real threads: each thread gets its own
database connection from Django, and closes it when done.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import local
from django.core.exceptions import ValidationError
from django.db import connection

from kesu.complaints import services
from kesu.complaints.choices import TERMINAL_STATUSES, Status
from kesu.complaints.errors import ComplaintError, StaleVersion
from kesu.complaints.models import Complaint, ComplaintCounter, ComplaintEvent
from kesu.org.choices import DepartmentType

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

N_THREADS = 20


def _run_in_threads(n: int, target) -> tuple[list, list[BaseException]]:
    """Run target(i) in n threads started together; return (results, errors)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as e:  # reported to the test thread
            with lock:
                errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results, errors


def test_parallel_intake_for_one_office_and_month_numbers_without_gaps_or_duplicates(org, tmp_path):
    received = local(2026, 3, 10, 10, 0)

    def register(i: int) -> str:
        c = services.register(
            org.reception,
            office=org.a.office,
            channel="phone",
            content=f"并发登记测试 {i}",
            complainant_name="王建国",
            phone=org.a.resident.phone,
            unit=org.a.unit,
            received_at=received + dt.timedelta(seconds=i),
            at=received + dt.timedelta(minutes=5),
        )
        return c.number

    numbers, errors = _run_in_threads(N_THREADS, register)

    assert errors == []
    assert sorted(numbers) == [f"Y01-202603-{i:04d}" for i in range(1, N_THREADS + 1)]
    assert Complaint.objects.filter(office=org.a.office).count() == N_THREADS
    assert ComplaintCounter.objects.get(office=org.a.office, period="202603").last == N_THREADS


def test_two_editors_of_one_version_exactly_one_wins_the_other_gets_stale_version(org, tmp_path):
    c = services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="3栋2号电梯经常停运。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        received_at=local(2026, 3, 10, 10, 0),
        at=local(2026, 3, 10, 10, 1),
    )
    assert c.version == 1
    loaded = Complaint.objects.get(pk=c.pk)  # both editors loaded version 1
    eng = org.a.dept[DepartmentType.ENGINEERING]

    def act(i: int):
        if i == 0:
            return services.dispatch(
                loaded, org.supervisor, department=eng, version=1, at=local(2026, 3, 10, 10, 5)
            )
        return services.assess(
            loaded, org.cs_manager, severity="minor", version=1, at=local(2026, 3, 10, 10, 5)
        )

    results, errors = _run_in_threads(2, act)

    assert len(errors) == 1 and isinstance(errors[0], StaleVersion), errors
    assert sum(r is not None for r in results) == 1
    fresh = Complaint.objects.get(pk=c.pk)
    assert fresh.version == 2
    events = list(ComplaintEvent.objects.filter(complaint=c).values_list("type", flat=True))
    assert len(events) == 2 and events[0] == "registered"
    # The database holds exactly the winner's change.
    if results[0] is not None:
        assert events[1] == "dispatched" and fresh.department_id == eng.pk and fresh.severity == ""
    else:
        assert events[1] == "assessed" and fresh.severity == "minor" and fresh.department_id is None


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite runs write transactions one at a time (BEGIN IMMEDIATE), so the two cannot interleave",
)
def test_merging_into_a_complaint_that_is_withdrawn_meanwhile_is_refused(org, monkeypatch):
    def register(i: int) -> Complaint:
        return services.register(
            org.reception,
            office=org.a.office,
            channel="phone",
            content="3栋地库照明不足。",
            complainant_name=f"住户{i}",
            phone=org.a.resident.phone,
            unit=org.a.unit,
            received_at=local(2026, 3, 10, 10, i),
            at=local(2026, 3, 10, 10, i + 1),
        )

    source, target = register(0), register(1)
    checked, withdrawn = threading.Event(), threading.Event()
    original_other = services._other

    def other_then_pause(*args, **kwargs):
        # The merge has read the target and found it open; let the withdrawal happen now.
        other = original_other(*args, **kwargs)
        checked.set()
        withdrawn.wait(timeout=10)
        return other

    monkeypatch.setattr(services, "_other", other_then_pause)

    def act(i: int):
        if i == 0:
            try:
                return services.merge(
                    source,
                    org.supervisor,
                    target=target.number,
                    reason="同一问题",
                    at=local(2026, 3, 10, 11, 0),
                )
            except (ComplaintError, ValidationError) as e:  # a refusal is the right answer
                return e
        assert checked.wait(timeout=10)
        try:
            return services.withdraw(target, org.reception, reason="投诉人撤回", at=local(2026, 3, 10, 11, 0))
        finally:
            withdrawn.set()

    results, errors = _run_in_threads(2, act)

    assert errors == []
    source.refresh_from_db()
    target.refresh_from_db()
    assert target.status == Status.WITHDRAWN
    # Either the merge happened first (and then the target could not be withdrawn without the
    # source) or it was refused; never a complaint merged into one that is already finished.
    assert not (source.status == Status.MERGED and target.status in TERMINAL_STATUSES)
