"""The complaint page: fields, deadlines, the handling record, and each action as a small htmx form
(allowed and refused, errors in Chinese with the input kept, concurrent edits)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from web_support import HTMX, act, client_for, dispatched, fresh, local_input, resolved, url

from kesu.complaints import services
from kesu.complaints.choices import EventType, Status
from kesu.complaints.models import Callback, ComplaintEvent
from kesu.org.choices import DepartmentType


def page(client, c):
    r = client.get(url("complaint", c.number))
    assert r.status_code == 200
    return r.content.decode()


def action_form(html: str, code: str) -> str:
    start = html.index(f'id="action-{code}"')
    return html[start : html.index("</details>", start)]


def action_codes(client, c) -> set[str]:
    html = page(client, c)
    return {code for code in _ALL if f'id="action-{code}"' in html}


_ALL = [
    "assess",
    "dispatch",
    "accept",
    "resolve",
    "call_back",
    "reopen",
    "close",
    "note",
    "escalate",
    "attach",
    "link",
    "merge",
    "decline",
    "withdraw",
]


# ---------------------------------------------------------------------------------------------
# the page


def test_complaint_page_shows_the_record_deadlines_and_handling_record(org, make_complaint):
    c = make_complaint(content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。", complained_party="工程部")
    html = page(client_for(org.supervisor), c)
    for text in (
        c.number,
        "已受理",
        "3栋2号电梯经常停运",
        "3栋-1201",
        "王建国",
        "工程部",
        "来电",
        "翠湖花园",
    ):
        assert text in html
    assert 'class="due due--' in html and "data-due=" in html  # live countdowns
    assert "转呈" in html and "承诺答复" in html
    assert "登记受理" in html  # the timeline
    assert "客户投诉记录表" in html and "投诉处理记录表" in html and "回访记录" in html


def test_phone_is_masked_on_the_page(org, make_complaint):
    c = make_complaint()
    html = page(client_for(org.supervisor), c)
    phone = org.a.resident.phone
    assert phone not in html
    assert phone[:3] + "****" + phone[-4:] in html
    assert "显示完整号码" in html


def test_deadline_colours_red_when_overdue_and_amber_within_the_hour(org, make_complaint):
    now = timezone.now()
    late = make_complaint(received_at=now - dt.timedelta(days=3), severity="general")
    html = page(client_for(org.supervisor), late)
    assert "due--overdue" in html and "已超时" in html
    soon = make_complaint(committed_answer_at=now + dt.timedelta(minutes=30))
    html = page(client_for(org.supervisor), soon)
    assert "due--soon" in html


def test_internal_notes_and_what_the_complainant_was_told_look_different(org, make_complaint):
    c = make_complaint()
    c = services.note(c, org.supervisor, text="内部：先查监控录像")
    services.note(c, org.supervisor, text="已电话告知业主明早派人检修", tell_complainant=True)
    html = page(client_for(org.supervisor), c)
    internal = html.index("内部：先查监控录像")
    told = html.index("已电话告知业主明早派人检修")
    assert html.rfind("tl--internal", 0, internal) > html.rfind("tl--told", 0, internal)
    assert html.rfind("tl--told", 0, told) > html.rfind("tl--internal", 0, told)
    assert "内部备注" in html and "告知投诉人进展" in html


# ---------------------------------------------------------------------------------------------
# only the actions allowed now


def test_each_role_sees_only_the_actions_allowed_now(org, make_complaint):
    c = make_complaint()
    assert action_codes(client_for(org.reception), c) == set(services.allowed_actions(c, org.reception)) - {
        "reveal_contact"
    }
    assert "close" not in action_codes(client_for(org.reception), c)
    c = dispatched(org, make_complaint)
    assert action_codes(client_for(org.handler), c) >= {"accept", "resolve", "note"}
    assert "dispatch" not in action_codes(client_for(org.handler), c)


def test_closed_complaint_offers_no_state_changes(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="满意")
    c = services.close(c, org.supervisor, lesson_cause="a", lesson_learned="b", lesson_prevention="c")
    codes = action_codes(client_for(org.director), c)
    assert codes == set()
    assert "该投诉已结束" in page(client_for(org.director), c)


def test_a_refused_action_is_403_with_a_chinese_message(org, make_complaint):
    c = make_complaint()
    r = act(client_for(org.reception), c, "close", {"outcome": "resolved"})
    assert r.status_code == 403
    assert "您现在不能对该投诉执行“结案”" in r.content.decode()
    assert fresh(c).status == Status.RECEIVED


def test_unknown_action_is_404(org, make_complaint):
    c = make_complaint()
    assert act(client_for(org.supervisor), c, "explode").status_code == 404


# ---------------------------------------------------------------------------------------------
# every action through its form


def test_assess_saves_the_judgement_and_redraws_the_page(org, make_complaint):
    c = make_complaint()
    r = act(
        client_for(org.supervisor),
        c,
        "assess",
        {"nature": "valid", "severity": "general", "category": "facilities"},
    )
    assert r.status_code == 200
    assert r["HX-Retarget"] == "#complaint"
    assert "判定已保存" in r.content.decode()
    c = fresh(c)
    assert (c.nature, c.severity, c.category.code) == ("valid", "general", "facilities")


def test_revising_a_judgement_needs_a_reason_next_to_the_field_and_keeps_the_input(org, make_complaint):
    c = make_complaint(nature="valid", severity="general", category="facilities")
    r = act(
        client_for(org.supervisor),
        c,
        "assess",
        {"nature": "assist", "severity": "minor", "category": "environment"},
    )
    assert r.status_code == 422
    html = r.content.decode()
    assert "修改已有的判定必须填写原因" in html
    assert 'id="id_assess_reason_error"' in html
    assert '<option value="assist" selected>' in html  # what was chosen is still chosen
    assert fresh(c).nature == "valid"


def test_department_staff_may_revise_only_the_nature(org, make_complaint):
    c = dispatched(org, make_complaint)
    form = action_form(page(client_for(org.handler), c), "assess")
    assert 'name="nature"' in form and 'name="severity"' not in form
    r = act(client_for(org.handler), c, "assess", {"nature": "assist", "reason": "属邻里纠纷"})
    assert r.status_code == 200
    assert fresh(c).nature == "assist"


def test_dispatch_to_a_department_of_the_office_with_an_optional_handler(org, make_complaint):
    c = make_complaint()
    eng = org.a.dept[DepartmentType.ENGINEERING]
    form = action_form(page(client_for(org.supervisor), c), "dispatch")
    select = form[form.index('name="department"') : form.index("</select>", form.index('name="department"'))]
    assert f'value="{eng.pk}"' in select
    assert f'value="{org.b.dept[DepartmentType.ENGINEERING].pk}"' not in select  # only office A's
    r = act(client_for(org.supervisor), c, "dispatch", {"department": eng.pk, "handler": org.handler.pk})
    assert r.status_code == 200, r.content.decode()
    c = fresh(c)
    assert c.status == Status.DISPATCHED and c.department == eng and c.handler == org.handler


def test_dispatch_to_another_offices_department_is_refused_next_to_the_field(org, make_complaint):
    c = make_complaint()
    r = act(
        client_for(org.supervisor), c, "dispatch", {"department": org.b.dept[DepartmentType.ENGINEERING].pk}
    )
    assert r.status_code == 422
    assert 'id="id_dispatch_department_error"' in r.content.decode()


def test_accept_by_the_department(org, make_complaint):
    c = dispatched(org, make_complaint)
    r = act(client_for(org.handler), c, "accept", {"note": "马上到场"})
    assert r.status_code == 200
    assert fresh(c).status == Status.IN_PROGRESS


def test_a_handler_of_another_department_gets_nothing(org, make_complaint):
    c = dispatched(org, make_complaint)
    client = client_for(org.guard)  # security, office A
    assert client.get(url("complaint", c.number)).status_code == 404
    assert act(client, c, "accept").status_code == 404


def test_note_internal_or_told_to_the_complainant(org, make_complaint):
    c = make_complaint()
    client = client_for(org.supervisor)
    assert act(client, c, "note", {"text": "先联系工程部", "audience": "internal"}).status_code == 200
    c = fresh(c)
    assert (
        act(client, c, "note", {"text": "已告知业主今晚处理", "audience": "complainant"}).status_code == 200
    )
    notes = list(ComplaintEvent.objects.filter(complaint=c, type=EventType.NOTE).order_by("at", "id"))
    assert [(n.note, n.visibility) for n in notes] == [
        ("先联系工程部", "internal"),
        ("已告知业主今晚处理", "complainant"),
    ]
    assert fresh(c).answered_at is not None


def test_empty_note_is_an_error_in_chinese(org, make_complaint):
    c = make_complaint()
    r = act(client_for(org.supervisor), c, "note", {"text": "", "audience": "internal"})
    assert r.status_code == 422
    assert '<p class="error" id="id_note_text_error">该字段是必填项。</p>' in r.content.decode()


def test_escalate_to_the_next_tier(org, make_complaint):
    c = make_complaint()
    r = act(client_for(org.supervisor), c, "escalate", {"tier": 1, "reason": "业主情绪激动，要求经理出面"})
    assert r.status_code == 200
    assert fresh(c).tier == 1


def test_company_quality_marks_a_complaint_important_from_its_page_and_the_desk_cannot(org, make_complaint):
    c = make_complaint()
    assert 'name="important"' not in action_form(page(client_for(org.supervisor), c), "escalate")
    act(client_for(org.supervisor), c, "escalate", {"tier": 1, "reason": "升一级", "important": "on"})
    c = fresh(c)
    assert c.tier == 1  # the box is not theirs: an ordinary escalation

    quality = client_for(org.quality)
    assert 'name="important"' in action_form(page(quality, c), "escalate")
    r = act(quality, c, "escalate", {"tier": 2, "reason": "涉及多户，公司督办", "important": "on"})
    assert r.status_code == 200
    c = fresh(c)
    assert c.tier == 3  # straight to the company, whatever tier was chosen
    assert c.events.last().data["important"] is True


def test_resolve_by_the_responsible_department(org, make_complaint):
    c = dispatched(org, make_complaint)
    r = act(client_for(org.handler), c, "resolve", {"resolution": "已更换门机板", "tell_complainant": "on"})
    assert r.status_code == 200
    c = fresh(c)
    assert c.status == Status.RESOLVED and c.resolution == "已更换门机板"


def test_call_back_satisfied_then_close_with_lesson(org, make_complaint):
    c = resolved(org, make_complaint)
    client = client_for(org.supervisor)
    r = act(
        client,
        c,
        "call_back",
        {"method": "phone", "satisfaction": "satisfied", "words": "很满意", "confirmed": "on"},
    )
    assert r.status_code == 200
    c = fresh(c)
    assert c.satisfaction == "satisfied" and Callback.objects.get(complaint=c).confirmed
    r = act(
        client,
        c,
        "close",
        {
            "outcome": "resolved",
            "lesson_cause": "门机板老化",
            "lesson_learned": "巡检不到位",
            "lesson_prevention": "每月检查",
        },
    )
    assert r.status_code == 200
    assert fresh(c).status == Status.CLOSED


def test_close_of_a_valid_complaint_needs_the_lesson_next_to_each_field(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="满意")
    r = act(client_for(org.supervisor), c, "close", {"outcome": "resolved", "lesson_cause": "门机板老化"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_close_lesson_learned_error"' in html and 'id="id_close_lesson_prevention_error"' in html
    assert "门机板老化" in html  # what was typed is kept
    assert fresh(c).status == Status.RESOLVED


def test_call_back_dissatisfied_reopens_with_the_deadline_in_one_step(org, make_complaint):
    c = resolved(org, make_complaint)
    due = timezone.now() + dt.timedelta(days=2)
    r = act(
        client_for(org.cs_manager),
        c,
        "call_back",
        {
            "method": "phone",
            "satisfaction": "dissatisfied",
            "words": "电梯还是经常停",
            "rectify_due_at": local_input(due),
        },
    )
    assert r.status_code == 200, r.content.decode()
    assert "已转入整改" in r.content.decode()
    c = fresh(c)
    assert c.status == Status.RECTIFYING and c.reopen_count == 1
    assert abs((c.rectify_due_at - due).total_seconds()) < 60
    assert Callback.objects.get(complaint=c).satisfaction == "dissatisfied"


def test_call_back_with_a_past_rectify_deadline_changes_nothing(org, make_complaint):
    c = resolved(org, make_complaint)
    r = act(
        client_for(org.cs_manager),
        c,
        "call_back",
        {
            "method": "phone",
            "satisfaction": "dissatisfied",
            "words": "还是坏",
            "rectify_due_at": local_input(timezone.now() - dt.timedelta(hours=1)),
        },
    )
    assert r.status_code == 422
    assert "整改期限必须晚于现在" in r.content.decode() and "还是坏" in r.content.decode()
    assert not Callback.objects.filter(complaint=c).exists()


def test_reopen_with_deadline(org, make_complaint):
    # Verification (跟踪验证) found the work not done: reopened without a callback.
    c = resolved(org, make_complaint)
    due = timezone.now() + dt.timedelta(days=1)
    r = act(
        client_for(org.supervisor), c, "reopen", {"reason": "重新检修", "rectify_due_at": local_input(due)}
    )
    assert r.status_code == 200
    assert fresh(c).status == Status.RECTIFYING


def test_close_refused_while_the_complainant_is_dissatisfied(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="dissatisfied", words="不行")
    assert c.status == Status.RECTIFYING  # 不满意 starts rectification at once
    r = act(
        client_for(org.supervisor),
        c,
        "close",
        {"outcome": "resolved", "lesson_cause": "a", "lesson_learned": "b", "lesson_prevention": "c"},
    )
    assert r.status_code == 403  # not offered while rectifying; refused if sent anyway
    assert fresh(c).status == Status.RECTIFYING


def test_decline_with_reason(org, make_complaint):
    c = make_complaint()
    r = act(
        client_for(org.supervisor),
        c,
        "decline",
        {"reason": "outside_responsibility", "explanation": "属市政道路，已告知业主拨打12345。"},
    )
    assert r.status_code == 200
    c = fresh(c)
    assert c.status == Status.DECLINED and c.decline_reason == "outside_responsibility"


def test_withdraw(org, make_complaint):
    c = make_complaint()
    r = act(client_for(org.reception), c, "withdraw", {"reason": "业主来电撤回"})
    assert r.status_code == 200
    assert fresh(c).status == Status.WITHDRAWN


def test_link_and_merge_by_number(org, make_complaint):
    first = make_complaint()
    second = make_complaint()
    third = make_complaint()
    client = client_for(org.supervisor)
    assert (
        act(client, second, "link", {"target": first.number, "reason": "承诺时间未答复"}).status_code == 200
    )
    assert fresh(second).repeat_of == first
    assert act(client, third, "merge", {"target": first.number}).status_code == 200
    assert fresh(third).status == Status.MERGED and fresh(third).merged_into == first


def test_link_to_an_unknown_number_is_an_error_next_to_the_field(org, make_complaint):
    c = make_complaint()
    r = act(client_for(org.supervisor), c, "link", {"target": "Y01-209901-9999"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_link_target_error"' in html and "找不到投诉" in html and "Y01-209901-9999" in html


def test_merge_into_another_offices_complaint_is_not_found(org, make_complaint):
    c = make_complaint()
    other = services.register(
        org.reception2,
        office=org.b.office,
        channel="phone",
        content="楼道灯坏了",
        complainant_name="李四",
        phone="13900001111",
    )
    r = act(client_for(org.supervisor), c, "merge", {"target": other.number})
    assert r.status_code == 422 and "找不到投诉" in r.content.decode()


def test_attach_files(org, make_complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    c = make_complaint()
    client = client_for(org.reception)
    r = client.post(
        url("act", c.number, "attach"),
        {"version": c.version, "attachments": [SimpleUploadedFile("现场.png", png, "image/png")]},
        **HTMX,
    )
    assert r.status_code == 200, r.content.decode()
    att = fresh(c).attachments.get()
    assert att.original_name == "现场.png"
    got = client.get(url("attachment", c.number, att.pk))
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content).startswith(b"\x89PNG")


def test_attaching_a_forbidden_type_is_refused_in_chinese(org, make_complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = make_complaint()
    r = client_for(org.reception).post(
        url("act", c.number, "attach"),
        {"version": c.version, "attachments": [SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 20)]},
        **HTMX,
    )
    assert r.status_code == 422
    assert "只能上传照片、录音、视频或 PDF" in r.content.decode()


# ---------------------------------------------------------------------------------------------
# concurrency and the no-JavaScript path


def test_stale_version_shows_a_clear_message_with_reload_and_keeps_the_text(org, make_complaint):
    c = make_complaint()
    loaded = c.version
    services.note(c, org.cs_manager, text="经理先看了")  # someone else changes it meanwhile
    r = act(
        client_for(org.supervisor), c, "note", {"text": "我的备注", "audience": "internal"}, version=loaded
    )
    assert r.status_code == 409
    html = r.content.decode()
    assert "该投诉已被他人修改，请刷新后重试" in html
    assert "我的备注" in html
    assert url("reload_with", c.number, "note") in html and url("complaint", c.number) in html
    assert not ComplaintEvent.objects.filter(complaint=c, note="我的备注").exists()


def test_reload_after_a_stale_version_puts_the_typed_values_back_on_the_new_version(org, make_complaint):
    c = make_complaint()
    services.note(c, org.cs_manager, text="经理先看了")
    r = client_for(org.supervisor).post(
        url("reload_with", c.number, "note"),
        {"version": 1, "text": "我的备注", "audience": "complainant"},
        **HTMX,
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "经理先看了" in html and "我的备注" in html
    assert f'name="version" value="{fresh(c).version}"' in html


def test_actions_work_without_javascript(org, make_complaint):
    c = make_complaint()
    client = client_for(org.supervisor)
    r = act(client, c, "note", {"text": "无脚本也能用", "audience": "internal"}, htmx=False)
    assert r.status_code == 302 and r["Location"] == url("complaint", c.number)
    r = act(client, fresh(c), "note", {"text": "", "audience": "internal"}, htmx=False)
    assert r.status_code == 422 and "<html" in r.content.decode()


# ---------------------------------------------------------------------------------------------
# privacy


def test_reveal_phone_is_recorded_in_the_timeline(org, make_complaint):
    c = make_complaint()
    r = client_for(org.supervisor).post(url("reveal", c.number), **HTMX)
    assert r.status_code == 200
    html = r.content.decode()
    assert org.a.resident.phone in html
    assert 'hx-swap-oob="true"' in html and "查看联系方式" in html
    e = ComplaintEvent.objects.get(complaint=c, type=EventType.CONTACT_REVEALED)
    assert e.actor == org.supervisor


def test_no_reveal_button_without_a_phone(org, make_complaint):
    c = make_complaint(phone="", unit=None, address="小区东门岗亭旁", complainant_name="路过的业主")
    html = page(client_for(org.supervisor), c)
    assert "显示完整号码" not in html


def test_the_complained_about_staff_sees_no_complainant(org, make_complaint):
    c = make_complaint(complained_staff=org.handler, complained_party="工程部 张师傅")
    c = services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    html = page(client_for(org.handler), c)
    assert "投诉人信息已保密" in html
    for secret in ("王建国", org.a.resident.phone, org.a.resident.phone[-4:], "3栋-1201", "显示完整号码"):
        assert secret not in html
    assert client_for(org.handler).post(url("reveal", c.number), **HTMX).status_code == 403
    for form in ("record", "handling", "callback"):
        printed = client_for(org.handler).get(url("print", c.number, form)).content.decode()
        assert "王建国" not in printed and org.a.resident.phone[-4:] not in printed


# ---------------------------------------------------------------------------------------------
# scope: every URL that takes a complaint answers 404 across offices


def _complaint_urls(c, att_pk):
    return [
        ("get", url("complaint", c.number)),
        ("get", url("complaint", c.pk)),
        ("post", url("act", c.number, "note")),
        ("post", url("reload_with", c.number, "note")),
        ("post", url("reveal", c.number)),
        ("get", url("attachment", c.number, att_pk)),
        ("get", url("print", c.number, "record")),
        ("get", url("print", c.number, "handling")),
        ("get", url("print", c.number, "callback")),
    ]


@pytest.mark.parametrize("who", ["director2", "reception2", "handler2", "guard"])
def test_every_complaint_url_is_404_outside_the_users_scope(org, make_complaint, who):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = make_complaint(
        attachments=[(SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "a.png")]
    )
    att = c.attachments.get()
    client = client_for(getattr(org, who))
    for method, u in _complaint_urls(c, att.pk):
        r = getattr(client, method)(u, {"version": c.version, "text": "x", "audience": "internal"})
        assert r.status_code == 404, (who, u, r.status_code)
    assert fresh(c).version == c.version
    assert not ComplaintEvent.objects.filter(complaint=c, type=EventType.CONTACT_REVEALED).exists()


def test_every_complaint_url_is_open_to_the_office(org, make_complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = make_complaint(
        attachments=[(SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "a.png")]
    )
    client = client_for(org.director)
    for method, u in _complaint_urls(c, c.attachments.get().pk):
        if method == "get":
            assert client.get(u).status_code == 200, u


def test_print_views_look_like_the_paper_forms(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(
        c, org.supervisor, method="phone", satisfaction="satisfied", words="满意", confirmed=True
    )
    client = client_for(org.supervisor)
    record = client.get(url("print", c.number, "record")).content.decode()
    assert (
        "客户投诉记录表" in record and "☑来电" in record and "☑有效投诉" in record and "接待人签名" in record
    )
    assert "print.css" in record
    handling = client.get(url("print", c.number, "handling")).content.decode()
    assert "投诉处理记录表" in handling and "处理过程" in handling and "已更换2号电梯门机板" in handling
    callback = client.get(url("print", c.number, "callback")).content.decode()
    assert "回访记录" in callback and "☑满意" in callback and "☑电话回访" in callback
    assert org.a.resident.phone not in callback  # masked on paper too
    assert client.get(url("print", c.number, "other")).status_code == 404


def test_complaint_page_lives_where_notifications_link_to(org, make_complaint):
    """kesu.notify links staff to /complaints/<number>/."""
    c = make_complaint()
    assert url("complaint", c.number) == f"/complaints/{c.number}/"
    assert client_for(org.supervisor).get(f"/complaints/{c.number}/").status_code == 200


def test_complaint_page_queries_do_not_grow_with_the_timeline(
    org, make_complaint, django_assert_max_num_queries
):
    c = dispatched(org, make_complaint)
    c = services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
    )
    for i in range(5):
        c = services.note(c, org.supervisor, text=f"进展 {i}")
    client = client_for(org.supervisor)
    client.get(url("complaint", c.number))
    with django_assert_max_num_queries(40) as few:
        client.get(url("complaint", c.number))
    for i in range(30):
        c = services.note(c, org.handler, text=f"更多进展 {i}", tell_complainant=i % 2 == 0)
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.SECURITY], handler=org.guard)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("complaint", c.number))
