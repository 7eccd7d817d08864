"""The page's deadline badges (kesu.web.clock) agree with the lifecycle's own "pending" query."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from web_support import dispatched, resolved

from kesu.complaints import services
from kesu.complaints.deadlines import DUE_FIELD, is_pending, pending_q
from kesu.complaints.models import Complaint
from kesu.web import clock


def test_pending_mirrors_the_lifecycle_query_in_every_state(org, make_complaint):
    now = timezone.now()
    make_complaint()
    make_complaint(is_major=True)
    dispatched(org, make_complaint)
    r = resolved(org, make_complaint)
    r2 = resolved(org, make_complaint)
    services.call_back(
        r2,
        org.supervisor,
        method="phone",
        satisfaction="dissatisfied",
        words="不行",
        rectify_due_at=now + dt.timedelta(days=1),
    )
    services.reopen(
        resolved(org, make_complaint),
        org.supervisor,
        reason="复查未通过",
        rectify_due_at=now + dt.timedelta(days=2),
    )
    services.withdraw(make_complaint(), org.reception, reason="撤回")
    services.note(make_complaint(), org.supervisor, text="已告知", tell_complainant=True)
    assert r.status == "resolved"
    for kind in DUE_FIELD:
        by_query = set(Complaint.objects.filter(pending_q(kind)).values_list("pk", flat=True))
        by_row = {c.pk for c in Complaint.objects.all() if is_pending(c, kind)}
        assert by_query == by_row, kind


def test_countdown_words():
    assert clock.countdown_text(45 * 60) == "剩余 45分"
    assert clock.countdown_text(3 * 3600 + 5 * 60) == "剩余 3小时5分"
    assert clock.countdown_text(2 * 86400 + 3 * 3600) == "剩余 2天3小时"
    assert clock.countdown_text(-(2 * 3600 + 10 * 60)) == "已超时 2小时10分"
    assert clock.countdown_text(10) == "剩余 1分"


def test_state_colours():
    now = timezone.now()
    assert clock.Due("resolve", now - dt.timedelta(minutes=1), now).state == "overdue"
    assert clock.Due("resolve", now + dt.timedelta(minutes=59), now).state == "soon"
    assert clock.Due("resolve", now + dt.timedelta(hours=2), now).state == "ok"
