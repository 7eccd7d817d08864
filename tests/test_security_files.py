"""The data folder is Kesu's user's only (issue 13, finding 13): the database, the secret key, the SMS
and e-mail logs (live sign-in codes, messages about complaints) and attachments are 0600, their
folders 0700 — whatever umask the shell that started Kesu had."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

ROOT = Path(__file__).resolve().parent.parent
KESU = Path(sys.executable).with_name("kesu")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """A permissive umask, as a login shell has: files would be 0644 unless Kesu says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_kesu_migrate_creates_a_private_data_folder(tmp_path):
    home = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_") and k != "DJANGO_SETTINGS_MODULE"}
    env["KESU_HOME"] = str(home)
    done = subprocess.run(
        ["/bin/sh", "-c", f'umask 022 && exec "{KESU}" migrate --verbosity 0'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert mode(home) == 0o700
    files = [p for p in home.iterdir() if p.is_file()]
    assert {"kesu.sqlite3", "secret_key"} <= {p.name for p in files}
    assert {p.name: mode(p) for p in files} == dict.fromkeys((p.name for p in files), 0o600)


def test_an_existing_world_readable_data_folder_is_closed_at_start_up(tmp_path):
    home = tmp_path / "old"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(KESU_HOME=str(home), DJANGO_SETTINGS_MODULE="kesu.settings")
    subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, check=True, cwd=ROOT)
    assert mode(home) == 0o700


@pytest.mark.parametrize("log", ["sms", "email"])
def test_the_sms_and_email_logs_are_created_private(tmp_path, settings, open_umask, log):
    from kesu.notify.channels.email import Email
    from kesu.notify.channels.sms import FileSms
    from kesu.notify.models import Outbox

    path = tmp_path / "logs" / f"{log}.log"
    settings.KESU_SMS_LOG = settings.KESU_EMAIL_LOG = path
    settings.KESU_SMTP_URL = ""
    row = Outbox(
        kind="otp",
        channel="sms" if log == "sms" else "email",
        address="13800138000" if log == "sms" else "a@example.com",
        subject="登录验证码",
        body="您的登录验证码为 123456",
        delivery_key=f"test:{log}",
    )
    (FileSms() if log == "sms" else Email()).send(row)
    assert f"test:{log}" in path.read_text(encoding="utf-8")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_a_log_an_older_kesu_left_world_readable_is_closed_on_the_next_message(
    tmp_path, settings, open_umask
):
    from kesu.notify.channels.base import KeyedLog

    path = tmp_path / "sms.log"
    path.write_text("")
    path.chmod(0o644)
    KeyedLog(path).append("k1", "KEY\tk1\tcode 654321\n")
    assert mode(path) == 0o600


def test_attachments_and_their_folders_are_private(tmp_path, settings, open_umask):
    settings.MEDIA_ROOT = tmp_path / "media"
    storage = FileSystemStorage()
    name = storage.save("attachments/2026/03/photo.jpg", ContentFile(b"\xff\xd8\xff" + b"\x00" * 100))
    path = Path(storage.path(name))
    assert mode(path) == 0o600
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert mode(folder) == 0o700, folder


@pytest.mark.django_db
def test_an_attachment_saved_at_intake_is_private(org, settings, tmp_path, open_umask):
    import io

    from kesu.complaints import services
    from kesu.complaints.models import Attachment

    settings.MEDIA_ROOT = tmp_path / "media"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    c = services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="电梯停运。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        attachments=[(io.BytesIO(png), "电梯.png")],
    )
    att = Attachment.objects.get(complaint=c)
    assert mode(Path(att.file.path)) == 0o600
    assert mode(Path(att.file.path).parent) == 0o700
