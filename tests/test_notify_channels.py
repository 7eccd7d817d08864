"""Channels, each against a real receiver: SMS (log file, HTTP provider), e-mail (aiosmtpd), WeCom
and DingTalk robots (a local HTTP server); and the fan-out of in-app rows to each person's channels
and their office's group robots."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest
from conftest import local
from notify_support import sms_lines

from kesu.complaints import services
from kesu.notify import delivery
from kesu.notify.channels import Permanent, Retry
from kesu.notify.channels.base import KeyedLog, message_id
from kesu.notify.channels.email import Email
from kesu.notify.channels.robots import DingTalk, WeCom, dingtalk_sign
from kesu.notify.channels.sms import FileSms, HttpSms
from kesu.notify.models import NotificationPreference, OfficeChannel, Outbox
from kesu.org.choices import DepartmentType

pytest_plugins = ["notify_support"]  # fixtures: notify_env, http_sink, smtp_sink

TUE_10 = local(2026, 3, 10, 10, 0)


def row(**values) -> Outbox:
    defaults = dict(
        created_at=TUE_10,
        kind="major",
        channel=Outbox.Channel.INAPP,
        subject="重大投诉 Y01-202603-0001",
        body="重大投诉，请立即处理；须于 2026-03-10 11:00 前上报公司。翠湖花园 · 设施设备维护 · 电梯困人",
        payload={"number": "Y01-202603-0001", "link": "https://kesu.example.com/complaints/Y01-202603-0001/"},
        delivery_key="e1:major:u1",
        next_attempt_at=TUE_10,
    )
    defaults.update(values)
    return Outbox(**defaults)


def deliver_all():
    while delivery.deliver_due().total:
        pass


# ---------------------------------------------------------------------------------------------
# SMS


def test_the_file_provider_writes_one_line_per_message_and_drops_a_repeat(db, notify_env):
    sms = row(
        channel="sms", kind="ack", address="13800138000", body="您的投诉已受理，\n编号 Y01-202603-0001。"
    )
    FileSms().send(sms)
    FileSms().send(sms)  # a second deliverer, or the same one after a crash
    KeyedLog._state.clear()  # as a fresh process sees the file
    FileSms().send(sms)
    lines = sms_lines(notify_env.sms_log)
    assert len(lines) == 1
    assert lines[0][0] == "e1:major:u1" and lines[0][2] == "13800138000"
    assert lines[0][3] == "【客诉】您的投诉已受理， 编号 Y01-202603-0001。"  # one line, signed


def test_the_http_provider_posts_the_template_id_and_credentials_with_an_idempotency_key(
    db, notify_env, http_sink
):
    s = notify_env.settings
    s.KESU_SMS_HTTP_URL, s.KESU_SMS_HTTP_USER, s.KESU_SMS_HTTP_TOKEN = (
        http_sink.url("/sms/send"),
        "kesu",
        "s3cret",
    )
    s.KESU_SMS_TEMPLATES, s.KESU_SMS_SIGN_NAME = {"ack": "SMS_1001"}, "示范物业"
    HttpSms().send(row(channel="sms", kind="ack", address="13800138000", body="您的投诉已受理。"))
    (request,) = http_sink.requests
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["key"] == "e1:major:u1"
    body = request["json"]
    assert (body["account"], body["phone"], body["sign"], body["template"]) == (
        "kesu",
        "13800138000",
        "示范物业",
        "SMS_1001",
    )
    assert body["params"]["number"] == "Y01-202603-0001" and body["text"] == "您的投诉已受理。"

    http_sink.status_next = 503
    with pytest.raises(Retry):
        HttpSms().send(row(channel="sms", address="13800138000", delivery_key="k2"))
    http_sink.status_next = 401
    with pytest.raises(Permanent):
        HttpSms().send(row(channel="sms", address="13800138000", delivery_key="k3"))


# ---------------------------------------------------------------------------------------------
# e-mail


def test_email_goes_over_smtp_with_a_message_id_derived_from_the_delivery_key(db, notify_env, smtp_sink):
    notify_env.settings.KESU_SMTP_URL = smtp_sink.url
    notify_env.settings.KESU_EMAIL_FROM = "客诉 <kesu@wuye.example.com>"
    mail = row(channel="email", address="director@wuye.example.com")
    Email().send(mail)
    Email().send(mail)  # sent again after a crash: the same Message-ID, for the receiver to drop
    first, second = smtp_sink.messages
    assert first["Message-ID"] == second["Message-ID"] == message_id("e1:major:u1", "wuye.example.com")
    assert first["Subject"] == "重大投诉 Y01-202603-0001"
    assert first["To"] == "director@wuye.example.com"
    assert first["X-Kesu-Delivery-Key"] == "e1:major:u1"
    text = first.get_content()
    assert "须于 2026-03-10 11:00 前上报公司" in text
    assert "https://kesu.example.com/complaints/Y01-202603-0001/" in text


def test_email_without_a_server_goes_to_the_email_log_once(db, notify_env):
    mail = row(channel="email", address="director@wuye.example.com")
    Email().send(mail)
    Email().send(mail)
    text = notify_env.email_log.read_text(encoding="utf-8")
    assert text.count("KEY\te1:major:u1\t") == 1 and "Subject:" in text


def test_an_unreachable_smtp_server_is_retried_and_a_missing_address_is_not(db, notify_env):
    from notify_support import free_port

    notify_env.settings.KESU_SMTP_URL = f"smtp://127.0.0.1:{free_port()}"
    with pytest.raises(Retry):
        Email().send(row(channel="email", address="a@b.example.com"))
    with pytest.raises(Permanent):
        Email().send(row(channel="email", address=""))


# ---------------------------------------------------------------------------------------------
# robots


@pytest.fixture
def office_robots(org, http_sink):
    return OfficeChannel.objects.create(
        office=org.a.office,
        wecom_webhook=http_sink.url("/cgi-bin/webhook/send?key=Y01"),
        dingtalk_webhook=http_sink.url("/robot/send?access_token=Y01"),
        dingtalk_secret="SECxyz",
    )


def test_wecom_gets_a_markdown_message(db, notify_env, http_sink, office_robots):
    WeCom().send(row(channel="wecom", payload={**row().payload, "office_channel": office_robots.pk}))
    (request,) = http_sink.requests
    assert request["path"] == "/cgi-bin/webhook/send?key=Y01"
    assert request["json"]["msgtype"] == "markdown"
    content = request["json"]["markdown"]["content"]
    assert content.startswith("**重大投诉 Y01-202603-0001**")
    assert "[查看详情](https://kesu.example.com/complaints/Y01-202603-0001/)" in content
    assert request["key"] == "e1:major:u1"


def test_dingtalk_is_signed_with_the_timestamp_and_the_robots_secret(
    db, notify_env, http_sink, office_robots
):
    DingTalk().send(row(channel="dingtalk", payload={**row().payload, "office_channel": office_robots.pk}))
    (request,) = http_sink.requests
    path, _, query = request["path"].partition("?")
    params = urllib.parse.parse_qs(query)
    assert path == "/robot/send" and params["access_token"] == ["Y01"]
    timestamp = params["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(b"SECxyz", f"{timestamp}\nSECxyz".encode(), hashlib.sha256).digest()
    ).decode()
    assert params["sign"] == [expected]  # parse_qs undid the URL-encoding
    assert dingtalk_sign("SECxyz", int(timestamp)) == urllib.parse.quote_plus(expected)
    assert request["json"]["msgtype"] == "markdown"
    assert request["json"]["markdown"]["title"] == "重大投诉 Y01-202603-0001"


def test_a_robot_that_answers_with_an_error_code_is_retried(db, notify_env, http_sink, office_robots):
    http_sink.status_next = 200
    with pytest.raises(Retry, match="机器人返回"):
        WeCom().send(row(channel="wecom", payload={"office_channel": office_robots.pk}))


def test_a_robot_whose_office_settings_were_removed_is_not_retried(db, notify_env, office_robots):
    office_robots.is_active = False
    office_robots.save()
    with pytest.raises(Permanent):
        WeCom().send(row(channel="wecom", payload={"office_channel": office_robots.pk}))


# ---------------------------------------------------------------------------------------------
# fan-out


def test_a_major_complaint_reaches_each_person_in_app_and_by_their_channels_and_the_office_group_once(
    org, make_complaint, notify_env, http_sink, smtp_sink, office_robots
):
    notify_env.settings.KESU_SMTP_URL = smtp_sink.url
    org.director.email = "director@wuye.example.com"
    org.director.save()
    NotificationPreference.objects.create(user=org.director, email=True, wecom_webhook=http_sink.url("/me"))
    NotificationPreference.objects.create(user=org.quality, email=True, kinds="overdue")  # not for major
    org.quality.email = "quality@wuye.example.com"
    org.quality.save()

    c = make_complaint(is_major=True, severity="major", category="facilities", received_at=TUE_10, at=TUE_10)
    deliver_all()

    major = Outbox.objects.filter(complaint=c, kind="major")
    inapp = set(major.filter(channel="inapp").values_list("user__username", flat=True))
    assert inapp == {"director", "cs_manager", "eng_manager", "quality", "executive"}
    assert set(major.values_list("state", flat=True)) == {"sent"}
    assert [m["To"] for m in smtp_sink.messages] == ["director@wuye.example.com"]
    personal = http_sink.accepted_for("/me")
    assert len(personal) == 1 and "重大投诉" in personal[0]["json"]["markdown"]["content"]
    # the office group: one message for the event, on each robot, however many people it reached
    assert len(http_sink.accepted_for("/cgi-bin/webhook/send")) == 1
    assert len(http_sink.accepted_for("/robot/send")) == 1
    # the complainant's acknowledgement went by SMS, and never to a group
    assert [line[2] for line in sms_lines(notify_env.sms_log)] == [c.complainant_phone]
    assert c.complainant_phone not in str([r["json"] for r in http_sink.requests])

    # fanning out again (a deliverer that died after fanning out) adds nothing
    from kesu.notify.channels.inapp import InApp

    before = Outbox.objects.count()
    for parent in major.filter(channel="inapp"):
        InApp().send(parent)
    assert Outbox.objects.count() == before


def test_staff_without_settings_get_email_when_their_account_has_an_address(org, make_complaint, notify_env):
    org.handler.email = "handler@wuye.example.com"
    org.handler.save()
    c = make_complaint()
    services.dispatch(
        c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
    )
    deliver_all()
    emails = Outbox.objects.filter(complaint=c, channel="email")
    assert list(emails.values_list("address", "state")) == [("handler@wuye.example.com", "sent")]
    assert "handler@wuye.example.com" in notify_env.email_log.read_text(encoding="utf-8")

    notify_env.settings.KESU_NOTIFY_EMAIL_BY_DEFAULT = False
    c2 = make_complaint()
    services.dispatch(
        c2, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
    )
    deliver_all()
    assert not Outbox.objects.filter(complaint=c2, channel="email").exists()


def test_an_office_group_hears_only_the_kinds_it_chose(
    org, make_complaint, notify_env, http_sink, office_robots
):
    office_robots.kinds = "dispatched"
    office_robots.save()
    c = make_complaint(is_major=True, severity="major")
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    deliver_all()
    kinds = set(
        Outbox.objects.filter(complaint=c, channel__in=["wecom", "dingtalk"]).values_list("kind", flat=True)
    )
    assert kinds == {"dispatched"}
    assert len(http_sink.accepted) == 2  # one per robot


def test_an_email_attaches_the_files_its_message_names_and_links_to_the_page(db, notify_env, smtp_sink):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    notify_env.settings.KESU_SMTP_URL = smtp_sink.url
    name = default_storage.save("reports/2026-03/月报.xlsx", ContentFile(b"PK\x03\x04 xlsx bytes"))
    payload = {
        "url": "/reports/monthly/?month=2026-03",
        "files": {
            "xlsx": {
                "path": name,
                "content_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            },
            "pdf": {"path": "../../etc/passwd", "content_type": "application/pdf"},  # never followed
        },
    }
    Email().send(
        row(channel="email", address="quality@wuye.example.com", kind="monthly_report", payload=payload)
    )
    (mail,) = smtp_sink.messages
    attachments = list(mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == [name.rsplit("/", 1)[-1]]
    assert attachments[0].get_content() == b"PK\x03\x04 xlsx bytes"
    assert "https://kesu.example.com/reports/monthly/?month=2026-03" in mail.get_body().get_content()
