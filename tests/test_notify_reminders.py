"""Who hears what as time passes : a deadline about to pass warns whoever owns the next
step, once; a deadline that stays passed climbs the ladder one tier per interval, each tier once; and
managers get a morning digest of what is overdue in their scope, once a day.

Deadlines below (office window 08:00–19:00) for a general complaint received Tue 2026-03-10 10:00:
forward 10:20, committed answer Thu 03-12 10:00, resolve Thu 03-12 12:00.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import local

from kesu.complaints import reminders, services
from kesu.complaints.models import SlaBreach
from kesu.notify.models import DigestRun, DueSoonWarning, Escalation, Outbox
from kesu.ops.jobs import check_deadlines as sweep_all
from kesu.org.choices import DepartmentType

TUE_10 = local(2026, 3, 10, 10, 0)
MIN = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _timing(settings):
    settings.KESU_DUE_SOON_MINUTES = {
        "forward": 5,
        "report": 15,
        "answer": 240,
        "resolve": 120,
        "rectify": 120,
        "callback": 120,
    }
    settings.KESU_ESCALATE_MAX_AGE_HOURS = 48
    settings.KESU_DIGEST_TIME = "08:00"
    settings.KESU_DIGEST_ROLES = ["cs_manager", "director", "dept_manager", "quality"]
    settings.KESU_REDIS_URL = ""


@pytest.fixture(autouse=True)
def _hourly_ladder(db):
    # These tests climb the ladder one tier an hour (the company's time limits; the defaults are 15/30/60).
    from kesu.complaints.models import SlaPolicy

    for policy in SlaPolicy.objects.filter(office=None):
        policy.escalate_director_minutes = policy.escalate_company_minutes = 60
        policy.escalate_executive_minutes = 60
        policy.save()


def register(org, received=TUE_10, **kwargs):
    return services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        received_at=received,
        at=received,
        **kwargs,
    )


def heard(kind: str, c=None) -> list[str]:
    rows = Outbox.objects.filter(kind=kind, channel="inapp")
    if c is not None:
        rows = rows.filter(complaint=c)
    return sorted(rows.values_list("user__username", flat=True))


# ---------------------------------------------------------------------------------------------
# about to pass


def test_a_forward_deadline_about_to_pass_warns_the_supervisor_and_the_first_receiver_once(org):
    c = register(org)
    reminders.warn_due_soon(local(2026, 3, 10, 10, 14))  # 6 minutes to go: not yet
    assert heard("due_soon") == []
    assert reminders.warn_due_soon(local(2026, 3, 10, 10, 16)) == (1, 2)
    assert heard("due_soon", c) == ["reception", "supervisor"]
    row = Outbox.objects.filter(kind="due_soon").first()
    assert row.subject == f"即将超时 {c.number}"
    assert row.body.startswith("转呈：时限 2026-03-10 10:20 即将到期，请及时处理。翠湖花园")
    assert reminders.warn_due_soon(local(2026, 3, 10, 10, 18)) == (0, 0)  # once per deadline
    assert DueSoonWarning.objects.count() == 1


def test_a_resolve_deadline_about_to_pass_warns_the_named_handler(org):
    c = register(org)
    c = services.dispatch(
        c,
        org.supervisor,
        department=org.a.dept[DepartmentType.ENGINEERING],
        handler=org.handler,
        at=TUE_10 + MIN,
    )
    reminders.warn_due_soon(local(2026, 3, 12, 10, 30))  # resolve due Thu 12:00, lead 2 h
    assert heard("due_soon", c) == ["handler"]


def test_a_met_deadline_warns_nobody(org):
    c = register(org)
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=TUE_10 + MIN)
    reminders.warn_due_soon(local(2026, 3, 10, 10, 16))
    assert heard("due_soon") == []


# ---------------------------------------------------------------------------------------------
# climbing the ladder


def test_a_deadline_that_stays_passed_climbs_one_tier_per_hour_each_tier_once_up_to_the_executive(org):
    c = register(org)
    sweep_all(local(2026, 3, 10, 10, 21))  # breach: the owner of the next step and tier 1 (CS manager)
    assert heard("overdue_forward", c) == ["cs_manager", "supervisor"]

    sweep_all(local(2026, 3, 10, 11, 19))
    assert heard("escalation") == []
    sweep_all(local(2026, 3, 10, 11, 21))
    assert heard("escalation") == ["director"]
    sweep_all(local(2026, 3, 10, 11, 40))  # same interval: nothing more
    assert heard("escalation") == ["director"]
    sweep_all(local(2026, 3, 10, 12, 21))
    sweep_all(local(2026, 3, 10, 13, 21))
    sweep_all(local(2026, 3, 10, 14, 21))
    sweep_all(local(2026, 3, 10, 18, 0))
    assert heard("escalation") == ["director", "executive", "quality"]
    assert sorted(Escalation.objects.values_list("tier", flat=True)) == [2, 3, 4]
    row = Outbox.objects.get(kind="escalation", user=org.executive)
    assert "转呈超时：时限 2026-03-10 10:20 已过 3小时1分钟 仍未办结，升级至公司领导。" in row.body


def test_a_sweep_that_was_down_does_not_flood_the_top_each_tier_waits_its_interval(org):
    # The server was down from 10:21 to 14:00: the deadline passed long ago, but the ladder still
    # climbs one tier per interval from the step before, never director, quality and executive at once.
    register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    for minute in (0, 1, 2, 30):
        sweep_all(local(2026, 3, 10, 14, minute))
    assert heard("escalation") == ["director"]
    sweep_all(local(2026, 3, 10, 15, 0))
    assert heard("escalation") == ["director", "quality"]
    sweep_all(local(2026, 3, 10, 15, 30))
    assert heard("escalation") == ["director", "quality"]
    sweep_all(local(2026, 3, 10, 16, 0))
    assert heard("escalation") == ["director", "executive", "quality"]


def test_escalation_stops_when_the_step_is_done(org):
    c = register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=local(2026, 3, 10, 10, 30)
    )
    sweep_all(local(2026, 3, 10, 11, 30))
    assert heard("escalation") == []


def test_escalation_starts_above_the_tier_the_complaint_was_raised_to(org):
    c = register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    services.escalate(c, org.supervisor, reason="业主情绪激动", tier=3, at=local(2026, 3, 10, 10, 30))
    sweep_all(local(2026, 3, 10, 11, 21))
    assert heard("escalation") == ["executive"]


def test_breaches_older_than_the_limit_are_left_to_the_digest(org, settings):
    settings.KESU_ESCALATE_MAX_AGE_HOURS = 2
    register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    sweep_all(local(2026, 3, 10, 12, 30))  # 2 h 10 min after the deadline
    assert heard("escalation") == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_escalate_and_warn_once(org):
    from django.db import connection

    register(org)
    register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    errors = []

    def work():
        try:
            sweep_all(local(2026, 3, 10, 11, 21))
        except BaseException as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert Escalation.objects.count() == 2  # one per breach
    assert len(heard("escalation")) == 2
    assert SlaBreach.objects.filter(kind="forward").count() == 2


# ---------------------------------------------------------------------------------------------
# morning digest


def test_managers_get_a_morning_digest_of_what_is_overdue_in_their_scope_once_a_day(org):
    a = register(org)
    services.dispatch(a, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=TUE_10 + MIN)
    register(org)  # never forwarded
    wed_0759, wed_0800 = local(2026, 3, 11, 7, 59), local(2026, 3, 11, 8, 0)
    assert reminders.send_digests(wed_0759) == 0
    assert reminders.send_digests(wed_0800) == 3
    # not director2 (Y02 has nothing overdue), not the engineering manager (its job is not late yet)
    assert heard("digest") == ["cs_manager", "director", "quality"]
    director = Outbox.objects.get(kind="digest", user=org.director)
    assert director.delivery_key == f"digest:2026-03-11:u{org.director.pk}"
    assert director.subject == "超时投诉汇总 2026-03-11"
    assert "截至 2026-03-11 08:00，您负责的范围内有 1 件超时投诉" in director.body
    assert "Y01 翠湖花园：转呈超时 1 件" in director.body
    assert reminders.send_digests(local(2026, 3, 11, 12, 0)) == 0  # once a day
    assert DigestRun.objects.get().messages == 3

    assert reminders.send_digests(local(2026, 3, 13, 8, 0)) == 4  # Friday: the repair is late too
    eng = Outbox.objects.get(kind="digest", user=org.eng_manager)
    assert "1 件超时投诉" in eng.body and "处理超时 1 件" in eng.body and "转呈超时" not in eng.body
    director = Outbox.objects.filter(kind="digest", user=org.director).first()  # newest first
    assert "2 件超时投诉" in director.body and "承诺答复超时 2 件" in director.body


def test_no_digest_when_nothing_is_overdue(org):
    register(org)
    assert reminders.send_digests(local(2026, 3, 10, 10, 5)) == 0
    assert not Outbox.objects.filter(kind="digest").exists()


def test_admins_see_each_escalation(org, admin_client):
    c = register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    sweep_all(local(2026, 3, 10, 11, 21))
    page = admin_client.get("/admin/notify/escalation/")
    assert page.status_code == 200 and c.number in page.content.decode()
    # the ladder's record and the complaint are read-only there: they change only through their code
    from kesu.notify.models import Escalation

    e = Escalation.objects.first()
    assert admin_client.get("/admin/notify/escalation/add/").status_code == 403
    assert admin_client.post(f"/admin/notify/escalation/{e.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/notify/escalation/{e.pk}/change/", {"tier": 9}).status_code == 403
    assert Escalation.objects.get(pk=e.pk).tier == e.tier
    assert admin_client.get("/admin/complaints/complaint/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/complaints/complaint/{c.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_each_automatic_escalation_is_on_the_complaints_record_once(org, client):
    from kesu.api.models import WebhookSubscription
    from kesu.complaints.models import ComplaintEvent

    hook = WebhookSubscription.objects.create(
        owner=org.quality, url="http://127.0.0.1:9/hook", secret="s", events=["escalated"]
    )
    c = register(org)
    sweep_all(local(2026, 3, 10, 10, 21))
    sweep_all(local(2026, 3, 10, 11, 21))
    sweep_all(local(2026, 3, 10, 11, 40))  # same interval: no second entry
    sweep_all(local(2026, 3, 10, 12, 21))
    events = list(ComplaintEvent.objects.filter(complaint=c, type="escalated").order_by("at"))
    assert [(e.data["tier"], e.data["kind"], e.data["automatic"], e.actor_id) for e in events] == [
        (2, "forward", True, None),
        (3, "forward", True, None),
    ]
    assert events[0].data["overdue_minutes"] == 61
    c.refresh_from_db()
    assert c.tier == 0 and c.status == "received"  # the alarm does not move the handling tier
    # The handling record shows it; a webhook subscribed to "escalated" hears it.
    client.force_login(org.supervisor)
    html = client.get(f"/complaints/{c.number}/").content.decode()
    assert html.count("超时自动升级") == 2 and "管理处主任" in html
    assert Outbox.objects.filter(channel="webhook", payload__subscription=hook.pk).count() == 2
