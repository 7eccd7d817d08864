"""The one decision of what a viewer may learn of who complained: kesu.complaints.scope.complainant_view
(rows, renderers) and complainant_visible_q (queries: search, look-ups) say the same for every persona
and every kind of confidential complaint, and a hidden complainant leaves no field behind."""

from __future__ import annotations

import pytest
from identity_support import NAME, confidential_fixture  # noqa: F401

from kesu.complaints import scope, services
from kesu.complaints.models import Complaint
from kesu.org.choices import DepartmentType, Role
from kesu.org.models import User


@pytest.fixture
def kinds(org, make_complaint):
    eng = org.a.dept[DepartmentType.ENGINEERING]
    sec = org.a.dept[DepartmentType.SECURITY]
    return [
        make_complaint(),
        make_complaint(complained_staff=org.handler),
        make_complaint(complained_department=eng),
        make_complaint(complained_department=sec, complained_staff=org.guard),
        make_complaint(anonymous_to_staff=True),
        make_complaint(complained_staff=org.supervisor, anonymous_to_staff=True),
        make_complaint(complained_staff=org.reception),
    ]


def test_the_row_rule_and_the_query_rule_agree_for_every_persona(org, kinds):
    admin = User.objects.create_superuser("root", password="pw-12345678", role=Role.ADMIN)
    dept_admin = User.objects.create_superuser(
        "root2", password="pw-12345678", role=Role.HANDLER, department=org.a.dept[DepartmentType.ENGINEERING]
    )
    inactive = User.objects.create_user("gone", password="pw-12345678", role=Role.SUPERVISOR, is_active=False)
    people = [u for u in vars(org).values() if isinstance(u, User)] + [admin, dept_admin, inactive]
    for user in people:
        by_query = set(
            Complaint.objects.filter(scope.complainant_visible_q(user)).values_list("pk", flat=True)
        )
        by_row = {c.pk for c in kinds if scope.complainant_view(user, c).visible}
        assert by_query == by_row, user.username
        assert all(scope.can_see_complainant(user, c) == (c.pk in by_row) for c in kinds)


def test_who_may_identify_the_complainant(org, kinds):
    plain, about_handler, about_eng, about_guard, anonymous, about_supervisor, about_reception = kinds

    def who(c):
        return {
            name
            for name in (
                "reception",
                "supervisor",
                "director",
                "handler",
                "eng_manager",
                "guard",
                "executive",
            )
            if scope.complainant_view(getattr(org, name), c).visible
        }

    everyone = {"reception", "supervisor", "director", "handler", "eng_manager", "guard", "executive"}
    assert who(plain) == everyone
    assert who(about_handler) == everyone - {"handler"}
    assert who(about_eng) == everyone - {"handler", "eng_manager"}
    assert who(about_guard) == everyone - {"guard"}
    assert who(anonymous) == {"reception", "supervisor", "director", "executive"}
    assert who(about_supervisor) == {"reception", "director", "executive"}
    assert who(about_reception) == everyone - {"reception"}


def test_a_hidden_complainant_leaves_no_field(org, confidential):
    c = confidential.c
    hidden = scope.complainant_view(org.handler, c)
    assert hidden.hidden
    assert (hidden.name, hidden.masked_name, hidden.phone, hidden.unit, hidden.unit_label) == (
        "",
        "",
        "",
        None,
        "",
    )
    assert (hidden.unit_code, hidden.address, hidden.home, hidden.has_phone) == ("", "", "", False)
    assert (
        hidden.person(confidential.account) == "业主/住户" and hidden.username(confidential.account) is None
    )
    assert (
        hidden.person(org.supervisor) == str(org.supervisor)
        and hidden.username(org.supervisor) == "supervisor"
    )
    att = c.attachments.order_by("pk").first()
    assert NAME in att.original_name and hidden.attachment_name(att) == f"附件{att.pk}.jpg"

    shown = scope.complainant_view(org.supervisor, c)
    assert shown.visible and shown.name == NAME and shown.phone == "136****3333"
    assert shown.unit_label == "3栋-1202" and shown.home == "3栋-1202"
    assert shown.username(confidential.account) == confidential.account.username
    assert shown.attachment_name(att) == att.original_name


def test_can_see_complainant_is_the_view(org, kinds):
    for c in kinds:
        for user in (org.handler, org.supervisor, org.guard):
            assert scope.can_see_complainant(user, c) == scope.complainant_view(user, c).visible
    services.reveal_contact(kinds[0], org.supervisor)  # the reveal goes through the same decision
