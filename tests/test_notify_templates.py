"""Message wording: built-in Chinese text, replaced by an admin's template for a kind (and channel),
rendered over a safe context — never the complainant's identity, a masked unit, a link."""

from __future__ import annotations

import pytest
from conftest import local

from kesu.notify import messages
from kesu.notify.models import MessageTemplate, Outbox
from kesu.org.choices import DepartmentType

TUE_10 = local(2026, 3, 10, 10, 0)


def register(make_complaint, **kwargs):
    return make_complaint(received_at=TUE_10, at=TUE_10, **kwargs)


def test_the_built_in_acknowledgement_gives_the_number_and_the_committed_time(org, make_complaint):
    c = register(make_complaint)
    sms = Outbox.objects.get(complaint=c, channel="sms")
    assert sms.body == f"您的投诉已受理，编号 {c.number}，我们将于 2026-03-12 10:00 前给您答复。"
    assert sms.subject == f"投诉 {c.number}"


def test_an_admins_template_words_the_message_with_number_office_unit_category_severity_deadline_and_link(
    org, make_complaint, settings
):
    settings.KESU_BASE_URL = "https://kesu.example.com/"
    MessageTemplate.objects.create(
        kind="ack",
        channel="sms",
        subject="【{{ office }}】{{ number }}",
        body="{{ office }}已受理您反映的{{ category }}问题（{{ severity }}，{{ unit }}），编号{{ number }}，"
        "{{ deadline }}前答复。{{ link }}",
    )
    c = register(make_complaint, category="facilities", severity="general")
    sms = Outbox.objects.get(complaint=c, channel="sms")
    assert sms.subject == f"【翠湖花园】{c.number}"
    assert sms.body == (
        f"翠湖花园已受理您反映的设施设备维护问题（一般，3栋-12**），编号{c.number}，2026-03-12 10:00前答复。"
        f"https://kesu.example.com/complaints/{c.number}/"
    )


def test_a_template_for_the_family_covers_every_overdue_kind_and_a_channel_template_wins(org, make_complaint):
    from kesu.complaints.sweep import sweep

    MessageTemplate.objects.create(
        kind="overdue", subject="超时：{{ number }}", body="{{ deadline_label }} {{ deadline }}"
    )
    c = register(make_complaint)
    sweep(local(2026, 3, 10, 10, 21))
    row = Outbox.objects.filter(complaint=c, kind="overdue_forward").first()
    assert (row.subject, row.body) == (f"超时：{c.number}", "转呈超时 2026-03-10 10:20")

    MessageTemplate.objects.create(kind="ack", subject="通用 {{ number }}", body="通用")
    MessageTemplate.objects.create(kind="ack", channel="sms", subject="短信 {{ number }}", body="短信")
    c2 = register(make_complaint)
    assert Outbox.objects.get(complaint=c2, channel="sms").body == "短信"


def test_templates_see_only_strings_never_the_complaint_or_the_complainant(org, make_complaint):
    MessageTemplate.objects.create(
        kind="dispatched",
        subject="{{ number }}",
        body="[{{ complaint.complainant_name }}][{{ complainant_phone }}][{{ content }}]",
    )
    c = register(make_complaint)
    from kesu.complaints import services

    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], at=TUE_10)
    row = Outbox.objects.filter(complaint=c, kind="dispatched").first()
    assert row.body == "[][][3栋2号电梯经常停运，昨晚困了一位老人十多分钟。]"
    assert c.complainant_phone not in row.body and "王建国" not in row.body


def test_a_broken_template_falls_back_to_the_built_in_text_and_never_stops_a_registration(
    org, make_complaint
):
    # Saved around the admin's check (e.g. by a script): rendering must still not fail intake.
    MessageTemplate.objects.create(kind="ack", subject="{{ number }}", body="{% for %}")
    c = register(make_complaint)
    assert Outbox.objects.get(complaint=c, channel="sms").body.startswith("您的投诉已受理，编号")


def test_the_admin_refuses_a_template_with_a_syntax_error_and_offers_the_built_in_text(admin_client, db):
    page = admin_client.get("/admin/notify/messagetemplate/add/", {"kind": "ack"})
    assert page.status_code == 200
    assert "您的投诉已受理" in page.content.decode()  # prefilled and listed
    answer = admin_client.post(
        "/admin/notify/messagetemplate/add/",
        {"kind": "ack", "channel": "", "subject": "{{ number }", "body": "{% if %}", "is_active": "on"},
    )
    assert answer.status_code == 200 and "模板语法错误" in answer.content.decode()
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize(
    ("code", "masked"),
    [("Y01-3栋-1201", "3栋-12**"), ("Y01-A座-501", "A座-5**"), ("Y02-12栋-2", "12栋-*")],
)
def test_units_are_masked(code, masked):
    assert messages.mask_unit(code) == masked


def test_a_changed_template_is_used_at_once_in_this_process(org, make_complaint):
    t = MessageTemplate.objects.create(kind="ack", subject="A {{ number }}", body="A")
    assert Outbox.objects.get(complaint=register(make_complaint), channel="sms").body == "A"
    t.body = "B"
    t.save()
    assert Outbox.objects.get(complaint=register(make_complaint), channel="sms").body == "B"
