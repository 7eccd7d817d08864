"""Intake (《客户投诉记录表》): find the resident as you type, recent complaints and repeat warnings,
the committed answer time, on-the-spot answers, attachments, and the number to read out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from web_support import HTMX, client_for, fresh, local_input, url

from kesu.complaints import services
from kesu.complaints.choices import EventType, Status
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.org.models import Resident

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form_data(org, **overrides):
    data = {
        "office": org.a.office.pk,
        "received_at": "",
        "channel": "phone",
        "resident": org.a.resident.pk,
        "unit": "3栋-1201",
        "complainant_name": "",
        "phone": "",
        "content": "3栋电梯今晚又停了，有人被困在里面。",
        "answer_mode": "committed",
        "committed_answer_at": "",
    }
    data.update(overrides)
    return data


def test_intake_form_mirrors_the_paper_record(org):
    r = client_for(org.reception).get(url("intake"))
    assert r.status_code == 200
    html = r.content.decode()
    for label in (
        "客户投诉记录表",
        "受理时间",
        "投诉渠道",
        "栋/房号",
        "投诉人",
        "联系电话",
        "投诉内容",
        "被投诉部门/人员",
        "当场答复",
        "承诺答复时间",
        "附件",
    ):
        assert label in html, label
    assert 'type="file"' in html and "multiple" in html and 'capture="environment"' in html
    assert 'accept="image/*,audio/*,video/*,application/pdf"' in html
    # the receptionist works in one office: it is chosen for them
    assert f'type="hidden" name="office" value="{org.a.office.pk}"' in html


def test_committed_answer_time_defaults_from_the_policy(org):
    html = client_for(org.reception).get(url("intake")).content.decode()
    from kesu.complaints.deadlines import committed_answer_due
    from kesu.web.forms import local_minute

    received = local_minute(timezone.now())
    expected = timezone.localtime(committed_answer_due(org.a.office, "general", received)).strftime(
        "%Y-%m-%dT%H:"
    )
    assert f'name="committed_answer_at" value="{expected}' in html
    assert 'data-promise-url="/new/promise/"' in html


def test_the_page_asks_the_lifecycle_for_the_committed_time_as_the_form_changes(org):
    client = client_for(org.reception)
    office = org.a.office.pk
    general = client.get(
        url("promise"), {"office": office, "severity": "general", "received_at": "2026-03-10T10:00"}
    )
    major = client.get(url("promise"), {"office": office, "is_major": "1", "received_at": "2026-03-10T10:00"})
    # The policy's answer hours: 48 for 一般, 24 for 重大 (kesu.complaints.sla_defaults).
    assert general.json() == {"committed_answer_at": "2026-03-12T10:00"}
    assert major.json() == {"committed_answer_at": "2026-03-11T10:00"}
    bad = client.get(url("promise"), {"office": office, "received_at": "yesterday"})
    assert bad.status_code == 400 and bad.json() == {"committed_answer_at": ""}


def test_find_a_resident_by_unit_phone_or_name(org):
    client = client_for(org.reception)
    for q in ("3栋-1201", "3-1201", "1201", org.a.resident.phone[-4:], "王建"):
        html = client.get(url("find"), {"find": q}).content.decode()
        assert "3栋-1201" in html and "王建国" in html, q
        assert org.a.resident.phone not in html  # shown masked
        assert org.a.resident.phone[-4:] in html


def test_find_shows_units_without_a_resident_record(org):
    html = client_for(org.reception).get(url("find"), {"find": "3栋-1202"}).content.decode()
    assert "3栋-1202" in html and "无住户档案" in html


def test_find_stays_in_the_users_offices(org):
    html = client_for(org.reception).get(url("find"), {"find": org.b.resident.phone[-4:]}).content.decode()
    assert "锦绣华庭" not in html and org.b.resident.name not in html or "没有找到" in html
    assert f'data-resident="{org.b.resident.pk}"' not in html


def test_register_shows_the_number_to_read_out_and_the_committed_time(org):
    client = client_for(org.reception)
    r = client.post(url("intake"), form_data(org), **HTMX)
    assert r.status_code == 200
    c = Complaint.objects.get()
    assert r["HX-Redirect"] == url("complaint", c.number) + "?registered=1"
    assert (c.resident, c.unit, c.complainant_name, c.complainant_phone) == (
        org.a.resident,
        org.a.unit,
        "王建国",
        org.a.resident.phone,
    )
    assert c.received_by == org.reception and c.channel == "phone"
    html = client.get(r["HX-Redirect"]).content.decode()
    assert "已登记，请告知投诉人" in html and c.number in html
    assert "承诺答复时间" in html
    assert timezone.localtime(c.committed_answer_at).strftime("%H:%M") in html


def test_register_without_javascript_redirects(org):
    r = client_for(org.reception).post(url("intake"), form_data(org))
    assert r.status_code == 302 and "?registered=1" in r["Location"]


def test_register_by_typed_unit_name_and_phone(org):
    r = client_for(org.reception).post(
        url("intake"),
        form_data(org, resident="", unit="3栋-1202", complainant_name="赵女士", phone="139 0000 1234"),
    )
    assert r.status_code == 302
    c = Complaint.objects.get()
    assert (c.unit, c.complainant_name, c.complainant_phone, c.resident) == (
        org.a.other_unit,
        "赵女士",
        "13900001234",
        None,
    )


def test_night_call_back_dated_shows_the_night_rule(org):
    # a general complaint received at 02:30 is forwarded from the next working window, not at once
    now = timezone.localtime()
    night = now.replace(hour=2, minute=30, second=0, microsecond=0)
    if night > now:
        night -= dt.timedelta(days=1)
    client = client_for(org.reception)
    r = client.post(url("intake"), form_data(org, received_at=local_input(night), severity="general"))
    c = Complaint.objects.get()
    assert c.received_at == night
    assert timezone.localtime(c.forward_due_at).hour >= 8  # the next morning window, + 20 minutes
    html = client.get(r["Location"]).content.decode()
    assert "夜间受理" in html and "下一个工作时段" in html


def test_night_major_complaint_is_passed_on_at_once(org):
    now = timezone.localtime()
    night = now.replace(hour=2, minute=30, second=0, microsecond=0)
    if night > now:
        night -= dt.timedelta(days=1)
    client = client_for(org.reception)
    r = client.post(url("intake"), form_data(org, received_at=local_input(night), is_major="on"))
    c = Complaint.objects.get()
    assert c.forward_due_at == c.received_at + dt.timedelta(minutes=10)
    assert "已即时通知部门经理和管理处主任" in client.get(r["Location"]).content.decode()


@pytest.mark.parametrize(
    ("subtype", "next_step"),
    # an enquiry settled at the counter owes no callback: closing is the next step (decision 0011);
    # any other complaint answered on the spot still owes its callback (closing stays possible)
    [("enquiry", "close"), ("", "call_back")],
)
def test_on_the_spot_answer_is_recorded_and_can_be_closed_at_once(org, subtype, next_step):
    client = client_for(org.supervisor)
    r = client.post(
        url("intake"),
        form_data(
            org,
            answer_mode="on_spot",
            on_spot_answer="已告知业主停水为市政检修，今晚20点恢复。",
            nature="invalid",
            nature_subtype=subtype,
            severity="minor",
            category="facilities",
        ),
    )
    c = Complaint.objects.get()
    assert c.status == Status.RESOLVED and c.on_spot_answer.startswith("已告知业主停水")
    assert c.nature_subtype == subtype
    html = client.get(r["Location"]).content.decode()
    assert "已当场答复并记录" in html
    assert f'id="action-{next_step}" open' in html
    assert 'id="action-close"' in html


def test_on_the_spot_answer_without_text_is_an_error(org):
    r = client_for(org.reception).post(url("intake"), form_data(org, answer_mode="on_spot"), **HTMX)
    assert r.status_code == 422
    assert "选择当场答复时，请填写答复内容" in r.content.decode()


def test_errors_are_in_chinese_next_to_the_field_and_nothing_typed_is_lost(org):
    data = form_data(
        org, resident="", unit="9栋-9999", complainant_name="钱先生", phone="12345", content="楼道里堆满杂物"
    )
    r = client_for(org.reception).post(url("intake"), data, **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_unit_error"' in html and "本管理处没有房屋“9栋-9999”" in html
    for typed in ("9栋-9999", "钱先生", "12345", "楼道里堆满杂物"):
        assert typed in html
    assert 'hx-preserve="true"' in html  # chosen files survive the swap
    assert not Complaint.objects.exists()


def test_phone_error_from_the_lifecycle_lands_next_to_the_phone(org):
    r = client_for(org.reception).post(url("intake"), form_data(org, resident="", phone="12345"), **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_phone_error"' in html and "不是有效的电话号码" in html


def test_missing_content_is_refused(org):
    r = client_for(org.reception).post(url("intake"), form_data(org, content=""), **HTMX)
    assert r.status_code == 422 and 'id="id_content_error"' in r.content.decode()


def test_attachments_are_stored_with_the_complaint(org):
    data = form_data(
        org, attachments=[SimpleUploadedFile("门禁.png", PNG), SimpleUploadedFile("录音.png", PNG)]
    )
    r = client_for(org.reception).post(url("intake"), data)
    assert r.status_code == 302
    assert sorted(Complaint.objects.get().attachments.values_list("original_name", flat=True)) == [
        "录音.png",
        "门禁.png",
    ]


def test_a_forbidden_attachment_keeps_the_form(org):
    data = form_data(org, attachments=[SimpleUploadedFile("病毒.exe", b"MZ" + b"\x00" * 100)])
    r = client_for(org.reception).post(url("intake"), data, **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert "只能上传照片、录音、视频或 PDF" in html and "3栋电梯今晚又停了" in html


def test_each_bad_attachment_is_named_not_only_the_first(org):
    data = form_data(
        org,
        attachments=[
            SimpleUploadedFile("病毒.exe", b"MZ" + b"\x00" * 100),
            SimpleUploadedFile("门禁.png", PNG),
            SimpleUploadedFile("空白.jpg", b""),
        ],
    )
    r = client_for(org.reception).post(url("intake"), data, **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert "文件“病毒.exe”的类型不被接受" in html and "文件“空白.jpg”是空的" in html
    assert (
        "门禁.png" not in html.split('class="error"', 1)[-1].split("</p>", 1)[0]
    )  # the good one is not blamed
    assert not Complaint.objects.exists()


def test_recent_complaints_of_the_unit_and_caller_are_shown(org, make_complaint):
    old = make_complaint(category="facilities")
    html = client_for(org.reception).get(url("history"), {"resident": org.a.resident.pk}).content.decode()
    assert old.number in html


def test_repeat_warning_for_the_same_unit_and_category(org, make_complaint):
    old = make_complaint(category="facilities")
    client = client_for(org.reception)
    html = client.get(url("history"), {"unit": "3栋-1201", "category": "facilities"}).content.decode()
    assert "疑似重复投诉" in html and old.number in html
    # a different category is not a repeat
    html = client.get(url("history"), {"unit": "3栋-1201", "category": "fees"}).content.decode()
    assert "疑似重复投诉" not in html and old.number in html


def test_repeat_warning_by_the_callers_phone(org, make_complaint):
    old = make_complaint(category="facilities", unit=None, resident=None)
    html = (
        client_for(org.reception)
        .get(url("history"), {"phone": org.a.resident.phone, "category": "facilities"})
        .content.decode()
    )
    assert "疑似重复投诉" in html and old.number in html


def test_closed_more_than_30_days_ago_is_not_a_repeat(org, make_complaint):
    long_ago = timezone.now() - dt.timedelta(days=60)
    c = make_complaint(
        category="facilities", nature="valid", severity="general", received_at=long_ago, at=long_ago
    )
    c = services.withdraw(c, org.supervisor, reason="撤回", at=long_ago + dt.timedelta(hours=1))
    html = (
        client_for(org.reception)
        .get(url("history"), {"unit": "3栋-1201", "category": "facilities"})
        .content.decode()
    )
    assert "疑似重复投诉" not in html and c.number in html


def test_saving_a_likely_repeat_needs_a_decision(org, make_complaint):
    old = make_complaint(category="facilities")
    client = client_for(org.reception)
    r = client.post(url("intake"), form_data(org, category="facilities"), **HTMX)
    assert r.status_code == 422
    html = r.content.decode()
    assert "请确认这是否是重复投诉" in html and old.number in html
    assert Complaint.objects.count() == 1
    # the receptionist says it is a repeat: recorded for the supervisor to link
    r = client.post(url("intake"), form_data(org, category="facilities", repeat_choice=old.number))
    assert r.status_code == 302
    new = Complaint.objects.exclude(pk=old.pk).get()
    note = ComplaintEvent.objects.get(complaint=new, type=EventType.NOTE)
    assert old.number in note.note and note.visibility == "internal"


def test_a_supervisor_confirming_a_repeat_links_it(org, make_complaint):
    old = make_complaint(category="facilities")
    r = client_for(org.supervisor).post(
        url("intake"), form_data(org, category="facilities", repeat_choice=old.number)
    )
    assert r.status_code == 302
    assert Complaint.objects.exclude(pk=old.pk).get().repeat_of == old


def test_not_a_repeat_registers_a_new_complaint(org, make_complaint):
    old = make_complaint(category="facilities")
    r = client_for(org.reception).post(
        url("intake"), form_data(org, category="facilities", repeat_choice="new", repeat_shown=old.number)
    )
    assert r.status_code == 302
    assert fresh(Complaint.objects.exclude(pk=old.pk).get()).repeat_of is None


def test_cannot_register_for_another_office(org):
    r = client_for(org.reception).post(
        url("intake"), form_data(org, office=org.b.office.pk, resident="", unit=""), **HTMX
    )
    assert r.status_code == 422
    assert not Complaint.objects.exists()


def test_company_staff_choose_the_office(org):
    html = client_for(org.quality).get(url("intake")).content.decode()
    assert f'<option value="{org.a.office.pk}"' in html and f'<option value="{org.b.office.pk}"' in html


def test_resident_of_another_office_is_not_accepted(org):
    other = Resident.objects.get(pk=org.b.resident.pk)
    r = client_for(org.reception).post(url("intake"), form_data(org, resident=other.pk, unit=""), **HTMX)
    assert r.status_code == 422
    assert "所选住户不属于该管理处" in r.content.decode()


def test_the_complainant_may_ask_to_stay_anonymous_to_the_staff_involved(org, make_complaint):
    from kesu.complaints import services as s
    from kesu.org.choices import DepartmentType

    r = client_for(org.reception).post(
        url("intake"), form_data(org, anonymous_to_staff="on", preferred_contact="evening")
    )
    assert r.status_code == 302
    c = Complaint.objects.get()
    assert c.anonymous_to_staff and c.preferred_contact == "evening"
    c = s.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    html = client_for(org.handler).get(url("complaint", c.number)).content.decode()
    assert "投诉人信息已保密" in html and "王建国" not in html
    html = client_for(org.supervisor).get(url("complaint", c.number)).content.decode()
    assert "王建国" in html and "晚上" in html and "对涉及的工作人员保密身份" in html
