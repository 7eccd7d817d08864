"""The demo company: deterministic, complete (every state, category and nature), built only through
the lifecycle, and loaded by `kesu demo` once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from demo_fingerprint import fingerprint
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from kesu.complaints.choices import CallbackMethod, CloseOutcome, Nature, Status
from kesu.complaints.models import Callback, Complaint, ComplaintEvent, SlaBreach
from kesu.demo import corpus
from kesu.demo.generate import DEMO_LOGINS, DEMO_PASSWORD, DemoError, generate
from kesu.org.choices import DepartmentType, Role
from kesu.org.models import Office, Unit, User

NOW = dt.datetime(2026, 3, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning
LATER = NOW + dt.timedelta(hours=7)  # the same day, late afternoon
SMALL = dict(seed=7, months=2, now=NOW, offices=3, per_office_month=(10, 12))

pytestmark = pytest.mark.django_db


def snapshot() -> list[tuple]:
    complaints = list(
        Complaint.objects.order_by("number").values_list(
            "number",
            "status",
            "nature",
            "is_major",
            "severity",
            "category__code",
            "channel",
            "content",
            "complainant_name",
            "complainant_phone",
            "unit__code",
            "received_at",
            "version",
        )
    )
    events = list(
        ComplaintEvent.objects.order_by("complaint__number", "at", "id").values_list(
            "complaint__number", "type", "at", "actor__username", "note"
        )
    )
    return complaints + events


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Generate a small demo three times and keep the last for the module: first with its finished
    history written step by step (rolled back), then loaded later the same day (rolled back)."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            generate(**SMALL, bulk_history=False)
            first, step_by_step = snapshot(), fingerprint()
            transaction.set_rollback(True)
        with transaction.atomic():
            generate(**{**SMALL, "now": LATER})
            later = fingerprint()
            transaction.set_rollback(True)
        with transaction.atomic():
            lines: list[str] = []
            summary = generate(**SMALL, progress=lines.append)
            yield SimpleNamespace(
                summary=summary,
                first=first,
                second=snapshot(),
                step_by_step=step_by_step,
                later=later,
                fingerprint=fingerprint(),
                progress=lines,
            )
            transaction.set_rollback(True)


def test_the_same_seed_gives_the_same_company(demo):
    assert demo.first == demo.second
    assert len(demo.first) > 100


def _json(value: object) -> object:
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True))


def test_history_written_in_bulk_is_what_the_lifecycle_writes_step_by_step(demo):
    """Every row: complaints, timelines (with their old → new values), callbacks, notifications."""
    fp = demo.fingerprint
    assert fp == demo.step_by_step
    finished = [c for c in fp["complaints"] if c["status"] in ("closed", "declined", "withdrawn")]
    assert len(finished) > 30 and len(fp["outbox"]) > 200


def test_another_process_on_another_database_makes_the_same_company(demo):
    """The same seed and moment, in a new process with another string-hash seed, on a fresh SQLite
    database (when this suite runs on PostgreSQL: across the two databases)."""
    home = tempfile.mkdtemp(prefix="kesu-demo-fp-")
    env = {k: v for k, v in os.environ.items() if k != "KESU_DATABASE_URL"}
    env.update(
        KESU_HOME=home,
        DJANGO_SETTINGS_MODULE="kesu.settings_test",
        PYTHONHASHSEED="2" if os.environ.get("PYTHONHASHSEED") == "1" else "1",  # not this process's
    )
    script = Path(__file__).with_name("demo_fingerprint.py")
    lo, hi = SMALL["per_office_month"]
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            str(SMALL["seed"]),
            NOW.isoformat(),
            str(SMALL["offices"]),
            str(lo),
            str(hi),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _json(demo.fingerprint) == json.loads(done.stdout)


def test_a_later_load_the_same_day_is_the_same_company(demo):
    """Loaded seven hours later: the same organisation, and every complaint received by then the same
    (number, time, people, words, judgement); one finished by then has the very same record."""
    now, later = demo.fingerprint, demo.later
    for part in ("offices", "departments", "buildings", "units", "residents", "staff", "staff_offices"):
        assert now[part] == later[part], part
    intake = ("number", "office", "channel", "received_at", "complainant_name", "complainant_phone", "unit")
    intake += ("resident", "content", "received_by", "requested_by", "on_spot_answer")
    cut = NOW - dt.timedelta(minutes=15)
    earlier = [c for c in later["complaints"] if dt.datetime.fromisoformat(c["received_at"]) <= cut]
    assert [{k: c[k] for k in intake} for c in now["complaints"]] == [
        {k: c[k] for k in intake} for c in earlier
    ]
    assert len(later["complaints"]) >= len(now["complaints"])
    registered_later = [e for e in later["events"] if e["type"] == "registered"]
    assert all(e in registered_later for e in now["events"] if e["type"] == "registered")
    finished = {
        c["number"]: c for c in now["complaints"] if c["status"] in ("closed", "declined", "withdrawn")
    }
    assert len(finished) > 30
    assert [c for c in later["complaints"] if c["number"] in finished] == list(finished.values())
    events = [e for e in now["events"] if e["complaint"] in finished]
    assert events == [e for e in later["events"] if e["complaint"] in finished]


def test_the_demo_logins_exist_and_sign_in_with_the_demo_password(demo):
    for username in DEMO_LOGINS:
        request = RequestFactory().post("/accounts/login/")  # the lockout backend wants the request
        assert authenticate(request, username=username, password=DEMO_PASSWORD) is not None, username
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_LOGINS)}
    y01, y02 = Office.objects.get(code="Y01"), Office.objects.get(code="Y02")
    assert users["admin"].is_superuser and users["admin"].role == Role.ADMIN
    for username, role in [
        ("reception", Role.RECEPTIONIST),
        ("supervisor", Role.SUPERVISOR),
        ("cs_manager", Role.CS_MANAGER),
        ("director", Role.DIRECTOR),
    ]:
        assert users[username].role == role
        assert list(users[username].offices.all()) == [y01]
    assert users["reception"].on_night_duty
    assert users["handler"].role == Role.HANDLER
    assert users["handler"].department.office == y01
    assert users["handler"].department.type == DepartmentType.ENGINEERING
    assert users["director2"].role == Role.DIRECTOR and list(users["director2"].offices.all()) == [y02]
    assert users["quality"].role == Role.QUALITY and users["executive"].role == Role.EXECUTIVE
    assert User.objects.filter(username="y03_eng_handler", role=Role.HANDLER).exists()
    assert not User.objects.filter(display_name="").exists()


def test_the_first_office_shows_every_state(demo):
    statuses = set(Complaint.objects.filter(office__code="Y01").values_list("status", flat=True))
    assert statuses == set(Status.values)


def test_every_category_and_nature_appears_and_some_are_major(demo):
    assert set(Complaint.objects.values_list("category__code", flat=True)) == set(corpus.CATEGORY_CODES)
    assert set(Complaint.objects.values_list("nature", flat=True)) == set(Nature.values)
    assert Complaint.objects.filter(is_major=True).exists()


def test_major_complaints_are_called_back_on_site_by_managers(demo):
    callbacks = Callback.objects.filter(complaint__is_major=True)
    assert callbacks.exists()
    for cb in callbacks.select_related("by"):
        assert cb.method == CallbackMethod.ONSITE
        assert cb.by.role in (Role.CS_MANAGER, Role.DIRECTOR)


def test_some_complaints_are_overdue_now_and_their_breaches_are_recorded(demo):
    assert Complaint.objects.overdue(now=NOW).exists()
    assert Complaint.objects.filter(office__code="Y01").overdue(now=NOW).exists()
    assert SlaBreach.objects.exists()


def test_closed_valid_complaints_have_their_lesson(demo):
    closed = Complaint.objects.filter(
        status=Status.CLOSED,
        nature=Nature.VALID,
        close_outcome__in=[CloseOutcome.RESOLVED, CloseOutcome.MEDIATION],
    )
    assert closed.exists()
    assert not closed.filter(lesson_cause="").exists()
    assert not closed.filter(lesson_learned="").exists()
    assert not closed.filter(lesson_prevention="").exists()


def test_every_complaint_has_a_history_before_now(demo):
    assert not Complaint.objects.exclude(events__type="registered").exists()
    assert not ComplaintEvent.objects.filter(at__gt=NOW).exists()
    assert not Complaint.objects.filter(received_at__lt=NOW - dt.timedelta(days=62)).exists()
    # Timelines run forwards: each event is no earlier than the one before it.
    last: dict[int, dt.datetime] = {}
    for complaint_id, at in ComplaintEvent.objects.order_by("id").values_list("complaint_id", "at"):
        assert at >= last.get(complaint_id, at)
        last[complaint_id] = at


def test_repeats_merges_reopenings_and_on_the_spot_answers_are_there(demo):
    repeat = Complaint.objects.filter(repeat_of__isnull=False).select_related("repeat_of").first()
    assert repeat is not None and repeat.unit_id == repeat.repeat_of.unit_id
    merged = Complaint.objects.filter(status=Status.MERGED).select_related("merged_into").first()
    assert merged is not None and merged.merged_into.office_id == merged.office_id
    assert Complaint.objects.filter(status=Status.CLOSED, reopen_count__gt=0).exists()
    assert Complaint.objects.filter(status=Status.CLOSED).exclude(on_spot_answer="").exists()
    assert Complaint.objects.filter(resident__isnull=False).exists()


def test_the_summary_counts_what_is_in_the_database(demo):
    s = demo.summary
    assert s.offices == 3
    assert s.units == Unit.objects.count() > 0
    assert s.complaints == Complaint.objects.count() == sum(s.by_status.values())
    assert s.overdue == Complaint.objects.overdue(now=NOW).count()
    assert any(line.startswith("Y01") for line in demo.progress)
    for office in Office.objects.all():
        assert 600 <= office.households <= 3000
        assert 0 < Unit.objects.filter(building__office=office).count() <= office.households


def test_generating_into_a_database_with_data_is_refused(demo):
    with pytest.raises(DemoError):
        generate(**SMALL)


def test_the_demo_command_keeps_existing_data_and_prints_the_logins(demo):
    before = Complaint.objects.count()
    out = StringIO()
    call_command("demo", no_serve=True, stdout=out)
    text = out.getvalue()
    assert Complaint.objects.count() == before
    assert "保留现有数据" in text
    for username in DEMO_LOGINS:
        assert username in text
    assert DEMO_PASSWORD in text
    assert "http://127.0.0.1:8000/" in text and "/admin/" in text


def test_the_demo_on_another_port_links_to_that_port_and_says_so(demo, monkeypatch):
    from django.conf import settings
    from django.test import override_settings

    from kesu.complaints.links import complaint_url

    monkeypatch.delenv("KESU_BASE_URL", raising=False)
    monkeypatch.delenv("KESU_PORTAL_BASE_URL", raising=False)
    with override_settings(
        KESU_BASE_URL="http://127.0.0.1:8000", KESU_PORTAL_BASE_URL="http://127.0.0.1:8000"
    ):
        out = StringIO()
        call_command("demo", no_serve=True, port=8100, stdout=out)
        text = out.getvalue()
        assert "http://127.0.0.1:8100/" in text and "http://127.0.0.1:8000/" not in text
        assert "links in messages: http://127.0.0.1:8100" in text
        assert settings.KESU_PORTAL_BASE_URL == "http://127.0.0.1:8100"
        assert complaint_url(Complaint.objects.first()).startswith("http://127.0.0.1:8100/portal/")
