"""Back-filled history (kesu.complaints.backfill): the lifecycle's functions held in memory and written in
bulk leave exactly the rows they leave step by step."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import local
from demo_fingerprint import fingerprint
from django.db import transaction

from kesu.complaints import services
from kesu.complaints.backfill import Backfill
from kesu.complaints.choices import CallbackMethod, Nature, Satisfaction, Severity, Status
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.notify.models import Outbox

pytestmark = pytest.mark.django_db

T0 = local(2026, 3, 2, 9, 30)  # a Monday morning


def _stories(org) -> list[Complaint]:
    """A reopened complaint closed after a second callback, a major one reported upward, a declined one."""
    h = dt.timedelta(hours=1)
    c = services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        resident=org.a.resident,
        received_at=T0,
        nature=Nature.VALID,
        severity=Severity.GENERAL,
        category="facilities",
        at=T0 + dt.timedelta(minutes=5),
    )
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], handler=org.handler, at=T0 + h
    )
    c = services.accept(c, org.handler, at=T0 + 2 * h)
    c = services.note(c, org.supervisor, text="维修人员已到场检查。", tell_complainant=True, at=T0 + 3 * h)
    c = services.resolve(c, org.handler, resolution="已更换电梯门机控制板。", at=T0 + 4 * h)
    c = services.call_back(
        c,
        org.supervisor,
        method=CallbackMethod.PHONE,
        satisfaction=Satisfaction.DISSATISFIED,
        words="还是偶尔停。",
        at=T0 + 5 * h,
    )
    c = services.resolve(c, org.handler, resolution="已请厂家全面检修。", at=T0 + 26 * h)
    c = services.call_back(
        c,
        org.supervisor,
        method=CallbackMethod.PHONE,
        satisfaction=Satisfaction.SATISFIED,
        words="好了。",
        at=T0 + 27 * h,
    )
    c = services.close(
        c,
        org.supervisor,
        lesson_cause="门机老化",
        lesson_learned="定期检查",
        lesson_prevention="纳入月度保养",
        at=T0 + 28 * h,
    )
    major = services.register(
        org.reception,
        office=org.a.office,
        channel="visit",
        content="地下车库起火冒烟。",
        complainant_name="李丽",
        phone="13900001111",
        received_at=T0 + 30 * h,
        is_major=True,
        nature=Nature.VALID,
        category="fire",
        at=T0 + 30 * h,
    )
    major = services.report(major, org.director, summary="已到场处置并上报。", at=T0 + 30.5 * h)
    declined = services.register(
        org.reception2,
        office=org.b.office,
        channel="phone",
        content="隔壁小区施工太吵。",
        complainant_name="赵强",
        phone="13900002222",
        received_at=T0 + 31 * h,
        at=T0 + 31 * h,
    )
    declined = services.decline(
        declined,
        org.director2,
        reason="outside_responsibility",
        explanation="不属于本小区管理范围，已告知街道电话。",
        at=T0 + 32 * h,
    )
    return [c, major, declined]


def _run(org, bulk: bool) -> dict:
    with transaction.atomic():
        if bulk:
            with Backfill() as history:
                _stories(org)
                assert not Complaint.objects.exists() and not Outbox.objects.exists()  # held in memory
                assert history.flush() == 3
        else:
            _stories(org)
        found = fingerprint()
        transaction.set_rollback(True)
    return found


def test_a_backfill_writes_the_same_rows_as_the_lifecycle_step_by_step(org):
    step_by_step = _run(org, bulk=False)
    assert _run(org, bulk=True) == step_by_step
    statuses = sorted(c["status"] for c in step_by_step["complaints"])
    assert statuses == sorted([Status.CLOSED, Status.RECEIVED, Status.DECLINED])
    assert len(step_by_step["events"]) >= 12 and len(step_by_step["outbox"]) >= 10


def test_a_complaint_written_before_the_backfill_takes_the_ordinary_path(org, make_complaint):
    earlier = make_complaint(at=T0, received_at=T0)
    with Backfill() as history:
        earlier = services.dispatch(
            earlier, org.supervisor, department=org.a.dept["engineering"], at=T0 + dt.timedelta(hours=1)
        )
        assert Complaint.objects.get(pk=earlier.pk).status == Status.DISPATCHED  # written at once
        assert history.flush() == 0
    assert ComplaintEvent.objects.filter(complaint=earlier, type="dispatched").exists()
