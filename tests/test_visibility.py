"""Who sees what (scope.py): every role through Complaint.objects.visible_to(user) and
scope.get_complaint_for_user, and who may see the complainant's identity (对投诉人身份保密)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import local
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from kesu.complaints import scope, services
from kesu.complaints.choices import EventType
from kesu.complaints.errors import RoleNotAllowed
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.org.choices import DepartmentType, Role
from kesu.org.models import User

MIN = dt.timedelta(minutes=1)
AT = local(2026, 3, 10, 10, 0)


def register(org, *, office=None, **kwargs) -> Complaint:
    o = office or org.a
    params = dict(
        office=o.office,
        channel="phone",
        content="保安夜间巡逻时态度恶劣。",
        complainant_name="王建国",
        phone=o.resident.phone,
        unit=o.unit,
        received_at=AT,
        at=AT + MIN,
    )
    params.update(kwargs)
    return services.register(org.reception if o is org.a else org.reception2, **params)


def visible(user) -> set[str]:
    return set(Complaint.objects.visible_to(user).values_list("number", flat=True))


def can_open(user, c: Complaint) -> bool:
    """Whether the user can open the complaint, by number and by id (both must agree)."""
    results = set()
    for key in (c.number, c.pk, str(c.pk)):
        try:
            assert scope.get_complaint_for_user(user, key).pk == c.pk
            results.add(True)
        except Http404:
            results.add(False)
    assert len(results) == 1, f"number and id disagree for {user}"
    return results.pop()


@pytest.fixture
def two(org):
    """One complaint in each office, neither dispatched yet."""
    return register(org), register(org, office=org.b)


def dispatch(org, c: Complaint, dept_type: str, handler=None, by=None) -> Complaint:
    o = org.a if c.office_id == org.a.office.pk else org.b
    return services.dispatch(
        c, by or org.supervisor, department=o.dept[dept_type], handler=handler, at=AT + 5 * MIN
    )


# ---------------------------------------------------------------------------------------------
# office, department and company staff


@pytest.mark.parametrize("who", ["reception", "supervisor", "cs_manager", "director"])
def test_office_staff_see_their_office_only(org, two, who):
    a, b = two
    user = getattr(org, who)
    assert visible(user) == {a.number}
    assert can_open(user, a)
    assert not can_open(user, b)


def test_reception_of_office_a_cannot_open_office_b_complaint_by_number_or_by_id(org, two):
    _a, b = two
    for key in (b.number, b.pk, str(b.pk)):
        with pytest.raises(Http404):
            scope.get_complaint_for_user(org.reception, key)
    # The same answer as for a complaint that does not exist.
    for key in ("Y02-202603-9999", 999999):
        with pytest.raises(Http404):
            scope.get_complaint_for_user(org.reception, key)
    # Office B's own staff see it.
    assert visible(org.reception2) == visible(org.director2) == {b.number}


def test_staff_of_several_offices_see_each_of_them(org, two):
    org.supervisor.offices.add(org.b.office)
    assert visible(org.supervisor) == {c.number for c in two}


def test_department_staff_see_nothing_before_dispatch(org, two):
    for who in ("handler", "eng_manager", "guard", "handler2"):
        assert visible(getattr(org, who)) == set(), who


def test_department_staff_see_what_is_dispatched_to_their_department(org, two):
    a, b = two
    dispatch(org, a, DepartmentType.ENGINEERING)  # to the department, no handler named
    dispatch(org, b, DepartmentType.ENGINEERING, by=org.director2)

    assert visible(org.handler) == visible(org.eng_manager) == {a.number}
    assert can_open(org.handler, a) and not can_open(org.handler, b)
    assert visible(org.guard) == set()  # another department of the same office
    assert not can_open(org.guard, a)
    assert visible(org.handler2) == {b.number}  # the same department type in another office
    assert not can_open(org.handler2, a)


def test_a_complaint_redispatched_to_another_department_leaves_the_first(org, two):
    a, _b = two
    a = dispatch(org, a, DepartmentType.ENGINEERING, handler=org.handler)
    services.dispatch(
        a, org.supervisor, department=org.a.dept[DepartmentType.SECURITY], handler=org.guard, at=AT + 9 * MIN
    )
    assert visible(org.guard) == {a.number}
    assert visible(org.handler) == visible(org.eng_manager) == set()


def test_a_handler_keeps_seeing_what_is_assigned_to_them_after_moving_department(org, two):
    a, _b = two
    dispatch(org, a, DepartmentType.ENGINEERING, handler=org.handler)
    org.handler.department = org.a.dept[DepartmentType.SECURITY]
    org.handler.save()
    assert visible(org.handler) == {a.number}  # assigned to them
    assert visible(org.eng_manager) == {a.number}  # still engineering's job


@pytest.mark.parametrize("who", ["quality", "executive"])
def test_company_roles_see_every_office(org, two, who):
    user = getattr(org, who)
    assert visible(user) == {c.number for c in two}
    assert all(can_open(user, c) for c in two)


# ---------------------------------------------------------------------------------------------
# residents, inactive and anonymous users


def test_a_resident_sees_only_complaints_made_with_their_phone(org, two):
    a, b = two
    other_phone = register(org, phone="13912345678", complainant_name="李四", unit=org.a.other_unit)
    # Made for the resident's household by phone from another number: linked through the resident.
    via_resident = register(org, resident=org.a.resident, phone="13987654321")
    assert visible(org.resident) == {a.number, via_resident.number}
    assert can_open(org.resident, a)
    assert not can_open(org.resident, b)
    assert not can_open(org.resident, other_phone)


def test_a_resident_without_a_phone_sees_nothing(org, two):
    nobody = User.objects.create_user(username="resident2", password="pw-12345678", role=Role.RESIDENT)
    assert visible(nobody) == set()


@pytest.mark.parametrize("who", ["reception", "handler", "quality", "executive", "resident"])
def test_inactive_users_see_nothing(org, two, who):
    a, _b = two
    dispatch(org, a, DepartmentType.ENGINEERING, handler=org.handler)
    user = getattr(org, who)
    assert visible(user)
    user.is_active = False
    user.save()
    assert visible(user) == set()
    assert not can_open(user, a)


def test_department_staff_who_register_a_complaint_keep_seeing_it_as_its_first_receiver(org):
    c = services.register(
        org.guard,
        office=org.a.office,
        channel="visit",
        content="业主到岗亭反映地库照明不足。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        received_at=AT,
        at=AT + MIN,
    )
    assert c.owner == org.guard
    assert visible(org.guard) == {c.number}
    services.note(c, org.guard, text="已告知工程部", tell_complainant=True, at=AT + 5 * MIN)


def test_keys_that_are_not_numbers_or_ids_are_not_found(org, two):
    a, _b = two
    for key in ("", " ", "Y01", a.number + "'", "12abc", "9" * 25, -1, "-1"):
        with pytest.raises(Http404):
            scope.get_complaint_for_user(org.quality, key)


def test_a_non_ascii_digit_key_is_not_found(org, two):
    with pytest.raises(Http404):
        scope.get_complaint_for_user(org.quality, "²")


def test_anonymous_users_see_nothing(org, two):
    assert visible(AnonymousUser()) == set()
    with pytest.raises(Http404):
        scope.get_complaint_for_user(AnonymousUser(), two[0].number)


# ---------------------------------------------------------------------------------------------
# the complainant's identity


@pytest.fixture
def against_guard(org):
    """A complaint about the security guard, dispatched to security so the guard can see it."""
    sec = org.a.dept[DepartmentType.SECURITY]
    c = register(
        org, complained_party="保安部 夜班保安", complained_department=sec, complained_staff=org.guard
    )
    return services.dispatch(c, org.supervisor, department=sec, at=AT + 5 * MIN)


def test_complained_about_staff_and_their_department_cannot_see_the_complainant(org, against_guard):
    c = against_guard
    sec_manager = User.objects.create_user(
        username="sec_manager",
        password="pw-12345678",
        role=Role.DEPT_MANAGER,
        department=org.a.dept[DepartmentType.SECURITY],
    )
    assert can_open(org.guard, c) and can_open(sec_manager, c)  # they see the complaint...
    assert not scope.can_see_complainant(org.guard, c)  # ...but not who made it
    assert not scope.can_see_complainant(sec_manager, c)
    for who in ("reception", "supervisor", "cs_manager", "director", "quality", "executive", "handler"):
        assert scope.can_see_complainant(getattr(org, who), c), who


def test_complained_about_office_staff_cannot_see_the_complainant(org):
    c = register(org, complained_party="客服主管", complained_staff=org.supervisor)
    assert not scope.can_see_complainant(org.supervisor, c)
    assert scope.can_see_complainant(org.cs_manager, c)


def test_only_the_named_staff_member_is_excluded_when_no_department_is_named(org):
    c = register(org, complained_staff=org.guard)
    colleague = User.objects.create_user(
        username="guard2",
        password="pw-12345678",
        role=Role.HANDLER,
        department=org.a.dept[DepartmentType.SECURITY],
    )
    assert not scope.can_see_complainant(org.guard, c)
    assert scope.can_see_complainant(colleague, c)


def test_reveal_contact_is_recorded_in_the_timeline(org, against_guard):
    c = against_guard
    phone = services.reveal_contact(c, org.supervisor, at=AT + 10 * MIN)
    assert phone == org.a.resident.phone
    event = ComplaintEvent.objects.get(complaint=c, type=EventType.CONTACT_REVEALED)
    assert (event.actor, event.at) == (org.supervisor, AT + 10 * MIN)
    assert Complaint.objects.get(pk=c.pk).version == c.version  # not a change to the complaint


def test_reveal_contact_is_refused_to_the_complained_about_staff_and_out_of_scope_users(org, against_guard):
    c = against_guard
    sec_manager = User.objects.create_user(
        username="sec_manager",
        password="pw-12345678",
        role=Role.DEPT_MANAGER,
        department=org.a.dept[DepartmentType.SECURITY],
    )
    for user in (org.guard, sec_manager, org.reception2, org.handler2, org.resident):
        with pytest.raises(RoleNotAllowed):
            services.reveal_contact(c, user, at=AT + 10 * MIN)
    assert not ComplaintEvent.objects.filter(complaint=c, type=EventType.CONTACT_REVEALED).exists()
