"""Scheduled delivery of the monthly report, and `kesu report monthly` on the command line."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import local
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from report_support import build_data

from kesu.notify.models import Outbox
from kesu.org.choices import Role
from kesu.org.models import User
from kesu.reports import delivery


@pytest.fixture(autouse=True)
def _fresh_memo(monkeypatch):
    monkeypatch.setattr(delivery, "_queued", set())


@pytest.mark.parametrize(
    "month, first",
    [
        (1, dt.date(2026, 1, 4)),  # New Year off 1–3 January; Sunday the 4th is a make-up working day (调休)
        (2, dt.date(2026, 2, 2)),  # the 1st is a Sunday
        (5, dt.date(2026, 5, 6)),  # Labour Day holiday 1–5 May
        (10, dt.date(2026, 10, 8)),  # National Day holiday 1–7 October
    ],
)
def test_first_working_day_follows_the_official_calendar(db, month, first):
    assert delivery.first_working_day(2026, month) == first


def test_nothing_is_queued_before_the_first_working_day(org):
    assert delivery.deliver_monthly(now=local(2026, 3, 1, 10, 0)) == 0  # Sunday 1 March
    assert not Outbox.objects.filter(kind="monthly_report").exists()


def test_last_months_report_is_queued_once_to_each_quality_user(org):
    build_data(org)
    other = User.objects.create_user(username="quality2", password="pw-12345678", role=Role.QUALITY)
    User.objects.create_user(username="gone", password="pw-12345678", role=Role.QUALITY, is_active=False)
    assert delivery.deliver_monthly(now=local(2026, 3, 2, 9, 0)) == 2
    rows = list(Outbox.objects.filter(kind="monthly_report").order_by("user_id"))
    assert [r.user for r in rows] == [org.quality, other]
    assert [r.delivery_key for r in rows] == [
        f"report:2026-02:u{org.quality.pk}",
        f"report:2026-02:u{other.pk}",
    ]
    row = rows[0]
    assert row.subject == "示范物业2026年2月客户投诉工作月报"
    assert row.body.startswith(
        "示范物业2026年2月客户投诉工作月报已生成：受理投诉 11 宗，有效投诉 6 宗，重大投诉 1 宗；"
    )
    assert row.payload["url"] == "/reports/monthly/?month=2026-02"
    for fmt in ("pdf", "docx", "xlsx"):
        assert default_storage.exists(row.payload["files"][fmt]["path"])
    # later passes the same day, and the rest of the month, queue nothing more
    assert delivery.deliver_monthly(now=local(2026, 3, 2, 9, 1)) == 0
    delivery._queued.clear()
    assert delivery.deliver_monthly(now=local(2026, 3, 20, 9, 0)) == 0
    assert Outbox.objects.filter(kind="monthly_report").count() == 2


def test_a_server_down_on_the_first_working_day_catches_up(org):
    assert delivery.deliver_monthly(now=local(2026, 3, 5, 15, 0)) == 1
    assert Outbox.objects.get(kind="monthly_report").delivery_key == f"report:2026-02:u{org.quality.pk}"


def test_cli_writes_each_format(org, tmp_path):
    build_data(org)
    out = tmp_path / "feb.json"
    call_command("report", "monthly", "--month", "2026-02", "--out", str(out))
    report = json.loads(out.read_text())
    assert report["total"] == 11 and report["scope"]["type"] == "company"
    call_command(
        "report", "monthly", "--month", "2026-02", "--office", "Y02", "--format", "json", "--out", str(out)
    )
    assert json.loads(out.read_text())["total"] == 4
    for fmt in ("xlsx", "docx", "pdf", "html"):
        path = tmp_path / f"feb.{fmt}"
        call_command("report", "monthly", "--month", "2026-01", "--to", "2026-02", "--out", str(path))
        assert path.stat().st_size > 1000


def test_cli_scopes_to_a_user_and_reports_bad_input(org):
    with pytest.raises(CommandError, match="--month"):
        call_command("report", "monthly", "--month", "2026/02", "--out", "-")
    with pytest.raises(CommandError, match="Y01"):
        call_command(
            "report", "monthly", "--month", "2026-02", "--user", "director2", "--office", "Y01", "--out", "-"
        )
    with pytest.raises(CommandError, match="--out"):
        call_command("report", "monthly", "--month", "2026-02", "--format", "pdf")


def test_cli_prints_the_file_written_and_no_library_chatter(tmp_path):
    """A first run on a fresh machine (matplotlib builds its font cache) prints one line: the report
    and where it went, not the libraries' progress notes."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, KESU_HOME=str(tmp_path / "home"), MPLCONFIGDIR=str(tmp_path / "mpl"))
    for name in (
        "KESU_DATABASE_URL",
        "DJANGO_SETTINGS_MODULE",
        "KESU_LOG_LEVEL",
    ):  # the product's own settings
        env.pop(name, None)
    cli = [sys.executable, "-m", "kesu.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    out = tmp_path / "feb.pdf"
    run = subprocess.run(
        [*cli, "report", "monthly", "--month", "2026-02", "--format", "pdf", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 1000
    assert run.stderr == "" and run.stdout.strip().endswith(f"→ {out} ({out.stat().st_size:,} bytes)")
