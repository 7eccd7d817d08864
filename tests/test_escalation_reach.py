"""Escalation that reaches the right people (docs/decisions/0014): the executive hears of every major
complaint within the hour; each office sets the ladder's waits per tier; repeat complaints and those the
company marks important go straight to the company, and the complainant is told who handles it now and
when they will hear; a 重大投诉 is a valid complaint unless the company says otherwise.

Office window 08:00–19:00; a general complaint received Tue 2026-03-10 10:00 is to be forwarded by 10:20.
"""

from __future__ import annotations

import pytest
from api_support import api_for, assert_problem
from conftest import local
from django.core.exceptions import ValidationError

from kesu.complaints import services, sla_defaults
from kesu.complaints.choices import Tier
from kesu.complaints.errors import RoleNotAllowed
from kesu.complaints.models import Complaint, SlaPolicy
from kesu.notify import messages
from kesu.notify.models import Escalation, Outbox
from kesu.ops.jobs import check_deadlines
from kesu.portal.progress import timeline

TUE_10 = local(2026, 3, 10, 10, 0)


def register(org, where=None, by=None, received=TUE_10, **kwargs) -> Complaint:
    where = where or org.a
    return services.register(
        by or (org.reception if where is org.a else org.reception2),
        office=where.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=where.resident.phone,
        unit=where.unit,
        received_at=received,
        at=received,
        **kwargs,
    )


def rows(kind: str, user) -> list[Outbox]:
    return list(Outbox.objects.filter(kind=kind, user=user))


# --- the executive hears of every major complaint ------------------------------------------------


def test_a_major_complaint_registered_at_night_reaches_the_executive_within_the_hour_once(org):
    night = local(2026, 3, 10, 23, 0)
    c = register(org, received=night, is_major=True, nature="valid", severity="major")
    [row] = rows("major", org.executive)
    assert row.complaint_id == c.pk and night <= row.created_at <= c.report_due_at == local(2026, 3, 11, 0, 0)
    assert f"须于 {messages.fmt(c.report_due_at)} 前上报公司" in row.body
    # The office has not reported by midnight: the executive hears the report is overdue, once.
    for at in (local(2026, 3, 10, 23, 30), local(2026, 3, 11, 0, 1), local(2026, 3, 11, 0, 30)):
        check_deadlines(at)
    assert len(rows("major", org.executive)) == 1
    assert len(rows("overdue_report", org.executive)) == 1


def test_a_complaint_judged_major_later_reaches_the_executive_then(org):
    c = register(org, nature="valid", severity="general", category="facilities")
    assert rows("major", org.executive) == []
    services.assess(c, org.supervisor, is_major=True, at=local(2026, 3, 10, 10, 30))
    assert len(rows("major", org.executive)) == 1


def test_escalating_a_major_complaint_to_the_company_reaches_quality_and_the_executive(org):
    c = register(org, is_major=True, nature="valid", severity="major")
    services.escalate(c, org.director, reason="业主称将联系媒体", tier=Tier.COMPANY, at=TUE_10)
    heard = set(Outbox.objects.filter(kind="escalated", complaint=c).values_list("user__username", flat=True))
    assert heard == {"quality", "executive"}


# --- the ladder's waits, per office ---------------------------------------------------------------


def test_each_office_sets_its_own_wait_per_tier_of_the_ladder(org):
    # Office A keeps the defaults (director 15, company 30, executive 60 minutes); office B its own 5/10/20.
    SlaPolicy.objects.create(
        office=org.b.office,
        severity="general",
        **{
            **sla_defaults.DEFAULT_POLICIES["general"],
            "escalate_director_minutes": 5,
            "escalate_company_minutes": 10,
            "escalate_executive_minutes": 20,
        },
    )
    a, b = register(org), register(org, org.b)

    def tiers(c):
        return sorted(Escalation.objects.filter(breach__complaint=c).values_list("tier", flat=True))

    check_deadlines(local(2026, 3, 10, 10, 21))  # both forward deadlines passed at 10:20: breach
    check_deadlines(local(2026, 3, 10, 10, 27))
    assert (tiers(a), tiers(b)) == ([], [2])
    check_deadlines(local(2026, 3, 10, 10, 37))
    assert (tiers(a), tiers(b)) == ([2], [2, 3])
    check_deadlines(local(2026, 3, 10, 10, 58))
    assert (tiers(a), tiers(b)) == ([2], [2, 3, 4])
    check_deadlines(local(2026, 3, 10, 11, 8))
    assert (tiers(a), tiers(b)) == ([2, 3], [2, 3, 4])
    check_deadlines(local(2026, 3, 10, 12, 7))
    assert tiers(a) == [2, 3]
    check_deadlines(local(2026, 3, 10, 12, 9))
    assert tiers(a) == [2, 3, 4]
    assert [
        r.user.username for r in Outbox.objects.filter(kind="escalation", complaint=a).order_by("pk")
    ] == [
        "director",
        "quality",
        "executive",
    ]


def test_the_admin_edits_the_waits_with_the_offices_other_time_limits(org, admin_client):
    page = admin_client.get("/admin/complaints/slapolicy/add/")
    assert page.status_code == 200
    for name in ("escalate_director_minutes", "escalate_company_minutes", "escalate_executive_minutes"):
        assert f'name="{name}"' in page.content.decode()
    assert 'name="escalate_director_minutes" value="15"' in page.content.decode()


# --- repeat and important complaints go to the company, and the complainant is told ------------------


def test_a_repeat_complaint_lands_at_the_company_tier(org):
    earlier = register(org)
    c = register(org, by=org.supervisor, repeat_of=earlier.number, received=local(2026, 3, 12, 10, 0))
    c.refresh_from_db()
    assert (c.repeat_of, c.tier) == (earlier, Tier.COMPANY)
    assert c.reported_at is not None
    assert {u.username for u in (r.user for r in Outbox.objects.filter(kind="escalated", complaint=c))} == {
        "quality"
    }
    [sms] = Outbox.objects.filter(kind="company", complaint=c)
    assert "公司品质管理部" in sms.body and messages.fmt(c.committed_answer_at) in sms.body


def test_a_complaint_linked_as_a_repeat_later_goes_to_the_company(org):
    earlier = register(org)
    c = register(org, received=local(2026, 3, 12, 10, 0))
    services.link_repeat(
        c, org.supervisor, target=earlier, reason="承诺时间内未答复", at=local(2026, 3, 12, 10, 5)
    )
    assert Complaint.objects.get(pk=c.pk).tier == Tier.COMPANY
    assert Outbox.objects.filter(kind="company", complaint=c).count() == 1


def test_the_complainant_hears_who_handles_it_now_and_when_once(org):
    c = register(org)
    # The promised answer (Thu 10:00) has passed unanswered: the company makes a new promise from now.
    at = local(2026, 3, 12, 11, 0)
    c = services.escalate(c, org.director, reason="管理处无法协调", tier=Tier.COMPANY, at=at)
    c.refresh_from_db()
    assert c.committed_answer_at > at
    [sms] = Outbox.objects.filter(kind="company", complaint=c, channel="sms")
    assert sms.body == (
        f"您的投诉 {c.number} 已转由公司品质管理部处理，我们将于 {messages.fmt(c.committed_answer_at)} 前给您答复。"
    )
    entries = [e for e in timeline(c) if e.event == "escalated"]
    assert [e.title for e in entries] == ["已转由公司品质管理部处理"]
    assert "前给您答复" in entries[0].text
    # Further up the ladder (company → executive) is not news to the complainant: no second message.
    services.escalate(c, org.quality, reason="公司领导督办", at=local(2026, 3, 12, 11, 30))
    assert Outbox.objects.filter(kind="company", complaint=c).count() == 1


def test_escalating_within_the_office_tells_the_complainant_nothing(org):
    c = register(org)
    services.escalate(c, org.supervisor, reason="需经理协调", at=local(2026, 3, 10, 10, 30))
    assert not Outbox.objects.filter(kind="company", complaint=c).exists()


def test_the_company_marks_a_complaint_important_and_takes_it_straight_over(org):
    c = register(org)
    with pytest.raises(RoleNotAllowed):
        services.escalate(c, org.supervisor, reason="重点", important=True)
    c = services.escalate(
        c, org.quality, reason="涉及多户，公司督办", important=True, at=local(2026, 3, 10, 11, 0)
    )
    c.refresh_from_db()
    assert c.tier == Tier.COMPANY
    assert c.events.last().data["important"] is True
    assert Outbox.objects.filter(kind="company", complaint=c).count() == 1


# --- 重大 is a kind of valid complaint ---------------------------------------------------------------


def test_major_with_nature_assist_is_refused_by_default(org):
    c = register(org)
    with pytest.raises(ValidationError) as e:
        services.assess(c, org.supervisor, nature="assist", is_major=True)
    assert "有效投诉" in e.value.message_dict["is_major"][0]
    assert not Complaint.objects.get(pk=c.pk).is_major
    with pytest.raises(ValidationError):
        register(org, nature="assist", is_major=True)
    valid = services.assess(c, org.supervisor, nature="valid", is_major=True)
    assert valid.is_major


def test_major_with_nature_assist_is_refused_by_the_api_as_problem_json(org):
    c = register(org)
    problem = assert_problem(
        api_for(org.supervisor).post(
            f"/complaints/{c.number}/assess/", {"nature": "assist", "is_major": True}
        ),
        400,
    )
    assert "is_major" in problem["errors"]


def test_major_with_nature_assist_is_accepted_when_the_rule_is_off(org, settings):
    settings.KESU_MAJOR_MUST_BE_VALID = False
    c = services.assess(register(org), org.supervisor, nature="assist", is_major=True)
    assert Complaint.objects.get(pk=c.pk).is_major


def test_the_assess_form_says_a_major_complaint_is_valid(org, settings):
    from kesu.web.forms import AssessForm

    c = register(org)
    form = AssessForm(complaint=c, user=org.supervisor)
    assert "性质须为“有效投诉”" in str(form.fields["is_major"].help_text)
    settings.KESU_MAJOR_MUST_BE_VALID = False
    assert "有效投诉" not in str(AssessForm(complaint=c, user=org.supervisor).fields["is_major"].help_text)
