"""One demo story told on its own: the demo's steps ask the lifecycle's rules, never guess them."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from kesu.complaints.choices import CloseOutcome, EventType, Nature, Status
from kesu.demo import corpus
from kesu.demo.generate import NORMAL, _Complaints, _organisation, _Plan
from kesu.org.choices import Role

NOW = dt.datetime(2026, 3, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

pytestmark = pytest.mark.django_db


class _Low(random.Random):
    """Every "does it happen?" draw says yes (0.05): a neighbour's matter, revised, not satisfied, then
    settled by mediation."""

    def random(self) -> float:
        return 0.05


def test_a_complaint_settled_by_mediation_after_a_dissatisfied_callback_is_closed_by_a_manager():
    """Ending it other than by satisfying a complainant who once said no is a manager's decision: the
    demo's CS supervisor hands it to the CS-centre manager instead of being refused (the default demo
    used to stop here)."""
    (ctx,) = _organisation(random.Random(3), 1, lambda line: None)
    gen = _Complaints(2026, NOW, 2, (1, 1))
    unit = ctx.units[0]
    plan = _Plan(
        received_at=NOW - dt.timedelta(days=10),
        rng=_Low(1),
        nature=Nature.ASSIST,
        fate=NORMAL,
        reopen=True,
        category=corpus.ASSIST_CATEGORY[0],
        template=corpus.ASSIST_TEXTS[0],
        unit=unit,
    )
    gen.run(ctx, [plan])

    from kesu.complaints.models import Complaint

    c = Complaint.objects.get(number=plan.number)
    assert c.status == Status.CLOSED and c.close_outcome == CloseOutcome.MEDIATION
    assert c.reopen_count == 1
    closed = c.events.get(type=EventType.CLOSED)
    assert closed.actor.role == Role.CS_MANAGER
    assert closed.data.get("unsatisfied") is True
