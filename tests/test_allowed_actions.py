"""The actions a complaint page or the API offers are exactly those the lifecycle accepts
(issue 13, finding 15): for every persona and complaint, each listed action goes through and each
unlisted one is refused. A button that is always refused tells the person complained about that
the complaint is theirs to be kept from; a missing one hides work that is theirs to do."""

from __future__ import annotations

import pytest
from django.db import transaction
from identity_support import confidential_fixture  # noqa: F401

from kesu.complaints import services
from kesu.complaints.errors import ComplaintError
from kesu.complaints.models import Complaint
from kesu.org.choices import DEPARTMENT_ROLES, DepartmentType

PERSONAS = [
    "reception",
    "supervisor",
    "cs_manager",
    "director",
    "handler",
    "eng_manager",
    "guard",
    "quality",
    "executive",
]


class _Undo(Exception):
    pass


def _accepted(run) -> bool:
    """Whether the lifecycle accepts the action (a refusal is a ComplaintError); nothing is kept."""
    try:
        with transaction.atomic():
            run()
            raise _Undo
    except _Undo:
        return True
    except ComplaintError:
        return False


TRIALS = {
    "reveal_contact": lambda c, u: services.reveal_contact(c, u),
    # Department staff judge the nature only (责任部门判定有效性); the desk makes a first judgement.
    "assess": lambda c, u: (
        services.assess(c, u, nature="invalid", nature_subtype="venting", reason="核实")
        if u.role in DEPARTMENT_ROLES
        else services.assess(c, u, category="facilities")
    ),
    "accept": lambda c, u: services.accept(c, u),
    "resolve": lambda c, u: services.resolve(c, u, resolution="已处理。"),
}


@pytest.fixture
def complaints(org, make_complaint, confidential):
    eng = org.a.dept[DepartmentType.ENGINEERING]
    sec = org.a.dept[DepartmentType.SECURITY]
    about_handler = make_complaint(complained_staff=org.handler, complained_department=eng, nature="valid")
    about_handler = services.dispatch(about_handler, org.supervisor, department=eng)
    about_guard = make_complaint(complained_staff=org.guard, nature="valid")
    about_guard = services.dispatch(about_guard, org.supervisor, department=sec, handler=org.guard)
    ordinary = services.dispatch(make_complaint(nature="valid"), org.supervisor, department=eng)
    anonymous = services.dispatch(make_complaint(anonymous_to_staff=True), org.supervisor, department=eng)
    undispatched = make_complaint(complained_staff=org.supervisor)
    return {
        "about the handler": about_handler,
        "about the guard": about_guard,
        "ordinary": ordinary,
        "anonymous": anonymous,
        "about the supervisor": undispatched,
        "confidential, in progress": confidential.c,
    }


def test_listed_actions_are_accepted_and_unlisted_ones_refused(org, complaints):
    wrong = []
    for who in PERSONAS:
        user = getattr(org, who)
        for label, c in complaints.items():
            if not Complaint.objects.visible_to(user).filter(pk=c.pk).exists():
                continue
            c = Complaint.objects.get(pk=c.pk)
            listed = set(services.allowed_actions(c, user))
            for action, run in TRIALS.items():
                accepted = _accepted(lambda run=run, c=c, user=user: run(c, user))
                if accepted != (action in listed):
                    wrong.append(
                        f"{who} / {label} / {action}: listed {action in listed}, accepted {accepted}"
                    )
    assert not wrong, "\n".join(wrong)


def test_the_staff_member_complained_about_neither_reveals_nor_judges_it(org, complaints):
    c = complaints["about the handler"]
    assert {"reveal_contact", "assess"}.isdisjoint(services.allowed_actions(c, org.handler))
    assert {"reveal_contact", "assess"} <= set(services.allowed_actions(c, org.supervisor))
    # Their department manager judges it (责任部门判定有效性), but does not learn who complained.
    listed = set(services.allowed_actions(c, org.eng_manager))
    assert "assess" in listed and "reveal_contact" not in listed
