"""What a resident may do through the lifecycle (the portal calls these): file a complaint for one of
their own homes, follow it, confirm and rate the result, withdraw it — nothing else."""

from __future__ import annotations

import pytest
from conftest import local
from django.core.exceptions import ValidationError

from kesu.complaints import services
from kesu.complaints.choices import CallbackMethod, EventType, Status
from kesu.complaints.errors import RoleNotAllowed, TransitionNotAllowed
from kesu.complaints.models import Complaint
from kesu.notify.models import Outbox

AT = local(2026, 3, 10, 10, 0)
AT_EVENING = local(2026, 3, 10, 18, 0)


def file(org, **kwargs):
    params = dict(office="Y01", channel="online", content="楼道灯坏了一周没人修。", unit=org.a.unit, at=AT)
    params.update(kwargs)
    return services.register(org.resident, **params)


def resolved(org, c, **kwargs):
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], at=local(2026, 3, 10, 10, 10)
    )
    return services.resolve(c, org.handler, resolution="已更换灯管。", at=local(2026, 3, 10, 15, 0), **kwargs)


def test_a_resident_files_for_their_own_home_and_staff_take_first_contact_at_their_first_action(org):
    c = file(org)
    assert (c.status, c.channel, c.received_by, c.owner) == (Status.RECEIVED, "online", org.resident, None)
    assert c.complainant_phone == org.resident.phone
    assert c.complainant_name == org.a.resident.name  # from the household register
    assert Complaint.objects.visible_to(org.resident).filter(pk=c.pk).exists()
    c = services.assess(c, org.supervisor, category="facilities", at=local(2026, 3, 10, 10, 5))
    assert c.owner == org.supervisor


def test_a_resident_cannot_file_for_a_home_that_is_not_theirs(org):
    with pytest.raises(ValidationError) as e:
        file(org, unit=org.a.other_unit)
    assert "unit" in e.value.message_dict
    assert not Complaint.objects.exists()


def test_a_resident_cannot_judge_or_back_date_their_own_complaint(org):
    with pytest.raises(ValidationError) as e:
        file(org, severity="major", nature="valid", received_at=local(2026, 3, 1, 10, 0))
    assert {"severity", "nature", "received_at"} <= set(e.value.message_dict)


def test_a_resident_sees_and_touches_only_their_own_complaints(org, make_complaint):
    other = make_complaint(phone="13912345678", unit=org.a.other_unit, complainant_name="李女士")
    assert not Complaint.objects.visible_to(org.resident).filter(pk=other.pk).exists()
    with pytest.raises(RoleNotAllowed):
        services.withdraw(other, org.resident, reason="不想投诉了")


def test_a_resident_may_not_take_staff_actions(org):
    c = file(org)
    with pytest.raises(RoleNotAllowed):
        services.dispatch(c, org.resident, department=org.a.dept["engineering"])
    with pytest.raises(RoleNotAllowed):
        services.assess(c, org.resident, nature="valid")


def test_a_satisfied_rating_is_a_confirmed_online_callback_and_the_office_can_close(org):
    c = resolved(org, file(org))
    c = services.call_back(
        c,
        org.resident,
        method="phone",
        satisfaction="satisfied",
        words="修好了，谢谢",
        at=local(2026, 3, 10, 18, 0),
    )
    cb = c.callbacks.get()
    assert (cb.method, cb.confirmed, cb.by) == (CallbackMethod.OTHER, True, org.resident)
    c = services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")
    c = services.close(
        c,
        org.supervisor,
        lesson_cause="灯管老化",
        lesson_learned="巡查不到位",
        lesson_prevention="每周巡查楼道照明",
    )
    assert (c.status, c.satisfaction) == (Status.CLOSED, "satisfied")


def test_a_dissatisfied_rating_reopens_for_rectification_and_alerts_the_office(org):
    c = resolved(org, file(org))
    Outbox.objects.all().delete()
    c = services.call_back(
        c,
        org.resident,
        method="other",
        satisfaction="dissatisfied",
        words="还是不亮",
        at=local(2026, 3, 10, 18, 0),
    )
    assert c.status == Status.RECTIFYING
    # 24 working hours from Tue 18:00 (window 08:00–19:00): 1 h Tue, 11 h Wed, 11 h Thu, 1 h Fri → Fri 09:00.
    assert c.rectify_due_at == local(2026, 3, 13, 9, 0)
    assert list(c.events.values_list("type", flat=True))[-2:] == [EventType.CALLED_BACK, EventType.REOPENED]
    alerted = set(Outbox.objects.filter(kind="reopened").values_list("user__username", flat=True))
    assert {"cs_manager", "director", "handler"} <= alerted


def test_a_resident_rates_a_result_once_and_a_second_rating_reopens_nothing(org):
    c = resolved(org, file(org))
    c = services.call_back(
        c, org.resident, method="other", satisfaction="satisfied", words="好了", at=AT_EVENING
    )
    assert "call_back" not in services.allowed_actions(c, org.resident)
    with pytest.raises(TransitionNotAllowed):
        # The rate form posted again (a second tab, a double tap), now 不满意, on the fresh version.
        services.call_back(
            c, org.resident, method="other", satisfaction="dissatisfied", words="不行", at=AT_EVENING
        )
    c.refresh_from_db()
    assert (c.status, c.satisfaction, c.callbacks.count()) == (Status.RESOLVED, "satisfied", 1)
    # Staff may still call back (a manager's own check), and a new result may be rated again.
    assert "call_back" in services.allowed_actions(c, org.supervisor)
    c = services.reopen(
        c, org.supervisor, reason="复查仍不亮", rectify_due_at=local(2026, 3, 12, 18, 0), at=AT_EVENING
    )
    c = services.resolve(c, org.handler, resolution="已更换整条线路。", at=local(2026, 3, 11, 10, 0))
    assert "call_back" in services.allowed_actions(c, org.resident)


def test_a_resident_cannot_rate_away_a_major_complaint_that_needs_an_onsite_callback(org):
    c = resolved(org, file(org))
    c = services.assess(c, org.cs_manager, is_major=True, at=local(2026, 3, 10, 16, 0))
    with pytest.raises(RoleNotAllowed):
        services.call_back(c, org.resident, method="other", satisfaction="satisfied", words="好")


def test_a_resident_can_withdraw_their_own_complaint(org):
    c = services.withdraw(file(org), org.resident, reason="已和邻居协商解决", at=local(2026, 3, 10, 11, 0))
    assert c.status == Status.WITHDRAWN


def test_a_resident_who_asks_to_stay_anonymous_is_hidden_from_every_department(org):
    from kesu.complaints.scope import can_see_complainant

    c = file(org, anonymous_to_staff=True, preferred_contact="evening")
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept["engineering"], at=local(2026, 3, 10, 10, 10)
    )
    assert (c.anonymous_to_staff, c.preferred_contact) == (True, "evening")
    assert not can_see_complainant(org.handler, c)
    assert can_see_complainant(org.supervisor, c)
    with pytest.raises(RoleNotAllowed):
        services.reveal_contact(c, org.handler)
