"""Registration (登记受理): numbering, first-contact ownership, the committed answer time, the
notifications it queues, and every kind of bad input.

Bad input is reported by field, all at once, and nothing is written: no complaint, no event, no
outbox row, no attachment (row or file), and no number used up.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings

from kesu.complaints import alerts as rules
from kesu.complaints import services
from kesu.complaints.choices import EventType, Status
from kesu.complaints.models import Attachment, Complaint, ComplaintCounter, ComplaintEvent
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType
from kesu.org.models import User

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100
TEXT = "这不是照片，只是一段文字。\n".encode()

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


# A Tuesday (a working day) in and out of office A's 08:00–19:00 window.
DAY = local(2026, 3, 10, 10, 0)
NIGHT = local(2026, 3, 10, 23, 30)


def counts() -> dict[str, int]:
    media = Path(settings.MEDIA_ROOT)
    return {
        **{
            m.__name__: m.objects.count()
            for m in (Complaint, ComplaintEvent, Outbox, Attachment, ComplaintCounter)
        },
        "files": sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0,
    }


def rejected(make, **kwargs) -> dict[str, list[str]]:
    """Register with bad input: return the errors by field, having checked nothing was written."""
    before = counts()
    with pytest.raises(ValidationError) as exc:
        make(**kwargs)
    assert counts() == before, "a refused registration wrote something"
    errors = exc.value.message_dict
    assert all(messages and all(messages) for messages in errors.values()), "every error says what is wrong"
    return errors


def upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


@pytest.fixture
def register(make_complaint):
    """make_complaint at a fixed "now" (DAY) unless told otherwise."""

    def make(**kwargs):
        kwargs.setdefault("at", DAY)
        return make_complaint(**kwargs)

    return make


# ---------------------------------------------------------------------------------------------
# office, unit, phone


def test_an_unknown_office_code_is_refused(register):
    errors = rejected(register, office="Y99")
    assert set(errors) == {"office"}
    assert "Y99" in errors["office"][0]


@pytest.mark.parametrize("by_code", [False, True], ids=["office", "office-code"])
def test_receptionist_cannot_register_for_an_office_they_do_not_work_in(org, register, by_code):
    office_b = org.b.office.code if by_code else org.b.office
    errors = rejected(register, office=office_b, unit=org.b.unit, phone=org.b.resident.phone)
    assert set(errors) == {"office"}
    assert org.b.office.name in errors["office"][0]


def test_an_unknown_unit_code_is_refused(register):
    errors = rejected(register, unit="Y01-3栋-9999")
    assert set(errors) == {"unit"}
    assert "Y01-3栋-9999" in errors["unit"][0]


@pytest.mark.parametrize("by_code", [False, True], ids=["unit", "unit-code"])
def test_a_unit_of_another_office_is_refused(org, register, by_code):
    errors = rejected(register, unit=org.b.unit.code if by_code else org.b.unit)
    assert set(errors) == {"unit"}
    assert org.b.unit.code in errors["unit"][0]


def test_a_unit_given_by_its_code_is_found(org, register):
    c = register(unit=org.a.unit.code)
    assert c.unit == org.a.unit


@pytest.mark.parametrize("phone", ["12345", "abc", "1380013800", "138001380001"])
def test_a_phone_number_that_is_not_one_is_refused(register, phone):
    errors = rejected(register, phone=phone)
    assert set(errors) == {"phone"}
    assert phone in errors["phone"][0]


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("138-0013-8000", "13800138000"),
        ("+86 13800138000", "13800138000"),
        ("0755-86001234", "075586001234"),
        ("010-12345678转123", "01012345678转123"),
    ],
)
def test_a_phone_number_is_stored_in_one_canonical_form(register, phone, stored):
    c = register(phone=phone)
    assert Complaint.objects.get(pk=c.pk).complainant_phone == stored


# ---------------------------------------------------------------------------------------------
# content and times


@pytest.mark.parametrize("content", ["", "   \n "])
def test_a_complaint_without_content_is_refused(register, content):
    assert set(rejected(register, content=content)) == {"content"}


def test_content_of_100_kb_is_refused(register):
    errors = rejected(register, content="电梯" * 51200)
    assert set(errors) == {"content"}
    assert "5000" in errors["content"][0]


def test_a_complaint_received_an_hour_from_now_is_refused(register):
    assert set(rejected(register, received_at=DAY + dt.timedelta(hours=1))) == {"received_at"}


def test_a_clock_a_minute_ahead_of_ours_is_tolerated(register):
    c = register(received_at=DAY + dt.timedelta(minutes=1))
    assert Complaint.objects.get(pk=c.pk).received_at == DAY + dt.timedelta(minutes=1)


def test_a_complaint_received_more_than_a_year_ago_is_refused(register):
    assert set(rejected(register, received_at=DAY - dt.timedelta(days=367))) == {"received_at"}


@pytest.mark.parametrize("before", [dt.timedelta(hours=1), dt.timedelta(0)], ids=["earlier", "same-time"])
def test_a_requested_time_not_after_receipt_is_refused(register, before):
    received = DAY - dt.timedelta(hours=2)
    errors = rejected(register, received_at=received, requested_by=received - before)
    assert set(errors) == {"requested_by"}


# ---------------------------------------------------------------------------------------------
# attachments


@override_settings(
    KESU_ATTACHMENT_LIMITS={"image": 64, "audio": 1 << 20, "video": 1 << 20, "document": 1 << 20}
)
def test_a_photo_over_the_image_limit_is_refused(register):
    errors = rejected(register, attachments=[upload(PNG, "电梯.png")])
    assert set(errors) == {"attachments"}
    assert "电梯.png" in errors["attachments"][0]


@pytest.mark.parametrize(
    ("data", "name"),
    [(EXE, "setup.exe"), (EXE, "invoice.pdf"), (TEXT, "photo.jpg"), (b"", "empty.png")],
    ids=["exe", "exe-named-pdf", "text-named-jpg", "empty"],
)
def test_a_file_that_is_not_a_photo_recording_video_or_pdf_is_refused(register, data, name):
    errors = rejected(register, attachments=[upload(PNG, "ok.png"), upload(data, name)])
    assert set(errors) == {"attachments"}
    assert name in errors["attachments"][0]


@pytest.mark.parametrize(
    ("data", "name", "kind", "content_type"),
    [
        (PNG, "x.pdf", "image", "image/png"),
        (JPEG, "x.pdf", "image", "image/jpeg"),
        (PDF, "scan.jpg", "document", "application/pdf"),
    ],
    ids=["png-named-pdf", "jpeg-named-pdf", "pdf-named-jpg"],
)
def test_the_type_of_an_attachment_comes_from_its_bytes_not_its_name(
    register, data, name, kind, content_type
):
    c = register(attachments=[upload(data, name)])
    att = Attachment.objects.get(complaint=c)
    assert (att.kind, att.content_type, att.original_name, att.size) == (kind, content_type, name, len(data))
    stored = Path(att.file.name)
    assert stored.suffix != Path(name).suffix and Path(name).stem not in stored.name, (
        "never the user's file name"
    )
    with att.file.open("rb") as f:
        assert f.read() == data


def test_several_mistakes_are_reported_together(register):
    errors = rejected(
        register,
        phone="abc",
        content=" ",
        unit="Y01-3栋-9999",
        received_at=DAY + dt.timedelta(hours=3),
        channel="fax",
        attachments=[upload(TEXT, "photo.jpg")],
    )
    assert set(errors) == {"phone", "content", "unit", "received_at", "channel", "attachments"}


# ---------------------------------------------------------------------------------------------
# numbering


def test_numbers_run_per_office_and_month(org, register):
    assert register().number == "Y01-202603-0001"
    assert register().number == "Y01-202603-0002"
    office_b = register(by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone)
    assert office_b.number == "Y02-202603-0001"
    assert register().number == "Y01-202603-0003"


def test_the_month_of_a_number_is_the_local_month_of_receipt(register):
    def received(*args: int) -> dt.datetime:
        # As the database and most clients hand it over: in UTC.
        return local(*args).astimezone(dt.UTC)

    at = local(2026, 3, 1, 0, 30)
    assert register(at=at, received_at=received(2026, 2, 28, 23, 59)).number == "Y01-202602-0001"
    # 00:00 on 1 March in Shanghai is still 28 February in UTC.
    assert register(at=at, received_at=received(2026, 3, 1, 0, 0)).number == "Y01-202603-0001"
    assert register(at=at, received_at=received(2026, 2, 28, 9, 0)).number == "Y01-202602-0002"


def test_a_refused_registration_does_not_use_up_a_number(register):
    assert register().number == "Y01-202603-0001"
    rejected(register, phone="12345")
    assert register().number == "Y01-202603-0002"


def test_a_registration_that_fails_after_numbering_gives_its_number_back(register, monkeypatch):
    assert register().number == "Y01-202603-0001"

    def broken(*args, **kwargs):
        raise RuntimeError("notification rules failed")

    monkeypatch.setattr(rules, "on_event", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        register()
    assert counts() == before
    monkeypatch.undo()

    assert register().number == "Y01-202603-0002"


# ---------------------------------------------------------------------------------------------
# what a registration records


def test_whoever_receives_a_complaint_owns_it_to_the_end(org, register):
    c = register(by=org.supervisor)
    assert (c.received_by, c.owner) == (org.supervisor, org.supervisor)
    c = services.dispatch(
        c, org.cs_manager, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
    )
    assert Complaint.objects.get(pk=c.pk).owner == org.supervisor


def test_a_registration_is_the_first_event_of_the_timeline(org, register):
    c = register(nature="valid", severity="general", category="facilities")
    event = c.events.get()
    assert (event.type, event.actor, event.at, event.from_status, event.to_status) == (
        EventType.REGISTERED,
        org.reception,
        DAY,
        "",
        Status.RECEIVED,
    )
    assert c.assessed_by == org.reception


def test_the_answer_is_promised_48_hours_after_receipt_of_a_general_complaint(register):
    received = DAY - dt.timedelta(hours=2)
    c = register(received_at=received, severity="general")
    assert Complaint.objects.get(pk=c.pk).committed_answer_at == received + dt.timedelta(hours=48)


def test_a_promised_answer_time_given_at_registration_is_kept(register):
    promised = DAY + dt.timedelta(hours=6)
    assert register(committed_answer_at=promised).committed_answer_at == promised


def test_a_complaint_answered_on_the_spot_is_registered_as_resolved(register):
    received = DAY - dt.timedelta(minutes=30)
    answer = "停水为市政管网维修，今晚八点恢复，已当场解释。"
    c = register(received_at=received, on_spot_answer=answer)
    row = Complaint.objects.get(pk=c.pk)
    assert (row.status, row.answered_at, row.resolved_at, row.resolution) == (
        Status.RESOLVED,
        received,
        received,
        answer,
    )
    assert row.committed_answer_at is None
    sms = Outbox.objects.get(complaint=c, channel="sms")
    assert c.number in sms.body


def test_the_acknowledgement_sms_gives_the_number_and_the_promised_time(org, register):
    c = register(phone="138-0013-8000")
    sms = Outbox.objects.get(complaint=c, channel="sms")
    assert (sms.kind, sms.address) == ("ack", "13800138000")
    assert c.number in sms.body
    assert "2026-03-12 10:00" in sms.body


def test_a_complaint_registered_at_night_alerts_whoever_is_on_night_duty(org, register):
    User.objects.filter(pk=org.reception2.pk).update(on_night_duty=True)  # on duty, but for office B
    c = register(at=NIGHT)
    night = Outbox.objects.filter(complaint=c, kind="night")
    assert [n.user for n in night] == [org.reception]


def test_a_complaint_registered_in_the_day_does_not_wake_the_night_duty(register):
    c = register(at=DAY)
    assert not Outbox.objects.filter(complaint=c, kind="night").exists()


def test_a_major_complaint_alerts_the_director_and_quality_at_once(org, register):
    c = register(is_major=True, severity="major", nature="valid", category="facilities")
    alerted = set(Outbox.objects.filter(complaint=c, kind="major").values_list("user__username", flat=True))
    assert {"director", "quality"} <= alerted
    assert "director2" not in alerted


def test_a_general_complaint_alerts_no_one_as_major(register):
    c = register(severity="general")
    assert not Outbox.objects.filter(complaint=c, kind="major").exists()
