"""Complaining from the portal: one of the resident's own homes, words, an optional category, photos
checked on the server, preferred contact time, anonymity; the number and answer time on submit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from portal_support import (  # noqa: F401
    complain_form,
    jpeg_bytes,
    noisy_jpeg_bytes,
    portal_home_fixture,
    upload,
)

from kesu.complaints.models import Complaint
from kesu.notify.models import Outbox
from kesu.portal.models import PortalSubmission

pytestmark = pytest.mark.usefixtures("portal_home")
WORDS = "3栋2号电梯从昨晚开始经常停运，今早困了人。"


@pytest.fixture
def resident(client, org):
    client.force_login(org.resident, backend="django.contrib.auth.backends.ModelBackend")
    return org.resident


def post(client, key, org, headers=None, **fields):
    data = {
        "key": key,
        "unit": org.a.unit.pk,
        "content": WORDS,
        "category": "facilities",
        "preferred_contact": "evening",
    }
    data.update(fields)
    return client.post(reverse("portal:new"), data, headers=headers or {})


def test_a_resident_files_with_a_photo_and_gets_the_number_and_the_answer_time(client, org, resident):
    key = complain_form(client)
    response = post(client, key, org, photos=[upload("IMG_0001.jpg", jpeg_bytes())], anonymous="on")
    c = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:sent", args=[c.number])
    assert (c.channel, c.unit, c.category.code, c.status) == ("online", org.a.unit, "facilities", "received")
    assert (c.received_by, c.complainant_phone, c.complainant_name) == (resident, resident.phone, "王建国")
    assert c.content == WORDS and c.committed_answer_at is not None
    photo = c.attachments.get()
    assert (photo.kind, photo.content_type) == ("image", "image/jpeg")
    wish = PortalSubmission.objects.get(complaint=c)
    assert (wish.anonymous, wish.preferred_contact, wish.user) == (True, "evening", resident)

    page = client.get(response["Location"]).content.decode()
    local = timezone.localtime(c.committed_answer_at)
    assert c.number in page and f"{local.month}月{local.day}日 {local:%H:%M}" in page
    # The same, as a notification: the acknowledgement SMS to the resident's phone.
    ack = Outbox.objects.get(complaint=c, kind="ack")
    assert (ack.channel, ack.address) == ("sms", resident.phone) and c.number in ack.body


def test_from_wechat_the_channel_is_wechat(client, org, resident):
    key = complain_form(client)
    post(client, key, org, headers={"User-Agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"})
    assert Complaint.objects.get().channel == "wechat"


def test_a_form_sent_twice_files_one_complaint(client, org, resident):
    key = complain_form(client)
    first = post(client, key, org)
    second = post(client, key, org)
    assert Complaint.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_the_form_offers_only_the_residents_own_homes(client, org, resident):
    page = client.get(reverse("portal:new")).content.decode()
    assert "3栋-1201" in page and "3栋-1202" not in page
    key = complain_form(client)
    response = post(client, key, org, unit=org.a.other_unit.pk)
    assert response.status_code == 400 and not Complaint.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.jpg", "这不是照片，只是一段文字。".encode() * 20, "不是照片，只能上传照片"),
        ("photo.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" * 20, "不是照片"),
        ("photo.jpg", jpeg_bytes(400, 300)[:600], "不是完整的照片"),
    ],
    ids=["text-named-jpg", "pdf-named-jpg", "cut-off-jpeg"],
)
def test_a_file_that_is_not_a_photo_is_refused(client, org, resident, name, data, message):
    key = complain_form(client)
    response = post(client, key, org, photos=[upload(name, data)])
    assert response.status_code == 400 and message in response.content.decode()
    assert "请重新选择照片" in response.content.decode()
    assert not Complaint.objects.exists()


def test_each_bad_photo_is_named_not_only_the_first(client, org, resident):
    key = complain_form(client)
    bad = [
        upload("说明.jpg", "这不是照片，只是一段文字。".encode() * 20),
        upload("IMG_0002.jpg", jpeg_bytes()),
        upload("IMG_0003.jpg", jpeg_bytes(400, 300)[:600]),
    ]
    response = post(client, key, org, photos=bad)
    page = response.content.decode()
    assert response.status_code == 400
    assert "“说明.jpg”不是照片" in page and "“IMG_0003.jpg”不是完整的照片" in page
    assert "IMG_0002.jpg" not in page
    assert not Complaint.objects.exists()


def test_an_oversized_photo_is_refused(client, org, resident, settings):
    settings.KESU_PORTAL_MAX_PHOTO_BYTES = 100_000
    big = noisy_jpeg_bytes(400, 400)
    assert len(big) > 100_000
    key = complain_form(client)
    response = post(client, key, org, photos=[upload("big.jpg", big)])
    assert response.status_code == 400 and "太大" in response.content.decode()
    assert not Complaint.objects.exists()


def test_a_request_larger_than_all_photos_together_is_refused_before_reading_it(
    client, org, resident, settings
):
    settings.KESU_PORTAL_MAX_PHOTOS, settings.KESU_PORTAL_MAX_PHOTO_BYTES = 1, 10_000
    key = complain_form(client)
    response = post(client, key, org, photos=[upload("a.jpg", noisy_jpeg_bytes(1200, 1200))])
    assert response.status_code == 413 and "照片太大" in response.content.decode()


def test_more_photos_than_allowed_are_refused(client, org, resident, settings):
    settings.KESU_PORTAL_MAX_PHOTOS = 2
    key = complain_form(client)
    photos = [upload(f"p{n}.jpg", jpeg_bytes()) for n in range(3)]
    response = post(client, key, org, photos=photos)
    assert response.status_code == 400 and "最多上传 2 张照片" in response.content.decode()


def test_submissions_are_limited_per_resident(client, org, resident, settings):
    settings.KESU_PORTAL_SUBMISSIONS_PER_HOUR = 2
    for _ in range(2):
        assert post(client, complain_form(client), org).status_code == 302
    response = post(client, complain_form(client), org)
    assert response.status_code == 429 and "提交投诉的次数太多" in response.content.decode()
    assert Complaint.objects.count() == 2


def test_a_qr_code_preselects_the_home_and_records_where_it_was_scanned(client, org, resident):
    building = org.a.unit.building
    page = client.get(reverse("portal:new"), {"o": "Y01", "b": building.pk}).content.decode()
    assert f'value="{org.a.unit.pk}" checked' in page and "来自二维码" in page
    key = complain_form(client)
    post(client, key, org, o="Y01", b=building.pk)
    assert Complaint.objects.get().address == "翠湖花园 3栋（扫码）"


def test_a_wished_date_becomes_the_requested_completion_time(client, org, resident):
    day = timezone.localdate() + dt.timedelta(days=3)
    post(client, complain_form(client), org, wanted_by=day.isoformat())
    requested = timezone.localtime(Complaint.objects.get().requested_by)
    assert (requested.date(), requested.time()) == (day, dt.time(19, 0))


def test_today_may_be_the_wished_date(client, org, resident):
    today = timezone.localdate()
    page = client.get(reverse("portal:new")).content.decode()
    assert f'min="{today.isoformat()}"' in page
    response = post(client, complain_form(client), org, wanted_by=today.isoformat())
    assert response.status_code == 302, response.content.decode()
    c = Complaint.objects.get()
    requested = timezone.localtime(c.requested_by)
    assert requested.date() == today and c.requested_by > c.received_at
    # by the end of the front desk's day, or of today when that has passed
    assert requested.time() in (dt.time(19, 0), dt.time(23, 59))


def test_a_past_date_and_empty_words_are_explained(client, org, resident):
    response = post(client, complain_form(client), org, content="  ", wanted_by="2020-01-01")
    page = response.content.decode()
    assert response.status_code == 400 and "请写下发生了什么" in page and "今天或以后" in page


def test_words_are_shown_as_text_never_run_as_script(client, org, resident):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 楼道灯坏了'
    post(client, complain_form(client), org, content=evil)
    c = Complaint.objects.get()
    for url in (reverse("portal:detail", args=[c.number]), reverse("portal:home")):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in client.get(reverse("portal:detail", args=[c.number])).content.decode()


def test_residents_see_their_own_photos_and_nothing_else(client, org, resident):
    import io

    from kesu.complaints import services

    photo = jpeg_bytes()
    post(client, key=complain_form(client), org=org, photos=[upload("IMG_0001.jpg", photo)])
    c = Complaint.objects.get()
    mine = c.attachments.get()
    # A photo staff add while handling it (a site check) stays internal.
    services.add_attachment(c, org.supervisor, io.BytesIO(jpeg_bytes(color=(0, 90, 0))), "site.jpg")
    staff_photo = c.attachments.exclude(pk=mine.pk).get()

    page = client.get(reverse("portal:detail", args=[c.number])).content.decode()
    own_url = reverse("portal:photo", args=[c.number, mine.pk])
    staff_url = reverse("portal:photo", args=[c.number, staff_photo.pk])
    assert "您提交的照片 1 张" in page and own_url in page and staff_url not in page
    response = client.get(own_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == photo
    assert response["Cache-Control"] == "private, max-age=3600"
    assert client.get(staff_url).status_code == 404

    # Another resident (or nobody) gets nothing.
    from kesu.org.models import User

    other = User.objects.create(username="r-13911112222", role="resident", phone="13911112222")
    client.force_login(other, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(own_url).status_code == 404
    client.logout()
    assert client.get(own_url).status_code == 302
