"""Helpers shared by the portal tests: a data folder of its own (the demo SMS log), reading codes from
that log the way a person does (import `portal_home_fixture` to use the `portal_home` fixture), signing in through the pages, and small real and fake photos."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "portal"
_CODE = re.compile(r"验证码为\s*(\d{6})")


@pytest.fixture(name="portal_home")
def portal_home_fixture(settings, tmp_path):
    """An empty data folder with its own SMS log; codes are sent in the request (no thread), so
    tests inside a transaction see them once on_commit callbacks run."""
    settings.KESU_HOME = tmp_path
    settings.KESU_SMS_LOG = tmp_path / "sms.log"
    settings.KESU_PORTAL_SEND_IN_BACKGROUND = False
    return tmp_path


def sms_lines(home: Path) -> list[str]:
    path = home / "sms.log"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def codes_sent(home: Path, phone: str) -> list[str]:
    """The sign-in codes texted to `phone`, oldest first, read from the demo SMS log."""
    found = []
    for line in sms_lines(home):
        if phone in line.split("\t"):
            match = _CODE.search(line)
            if match:
                found.append(match.group(1))
    return found


def last_code(home: Path, phone: str) -> str:
    codes = codes_sent(home, phone)
    assert codes, f"no code for {phone} in the SMS log"
    return codes[-1]


def ask_code(client, capture, phone: str, *, next_url: str = "", **extra):
    data = {"phone": phone}
    if next_url:
        data["next"] = next_url
    with capture(execute=True):
        return client.post(reverse("portal:login"), data, **extra)


def enter_code(client, code: str, **extra):
    return client.post(reverse("portal:code"), {"code": code}, **extra)


def sign_in(client, capture, home: Path, phone: str):
    response = ask_code(client, capture, phone)
    assert response.status_code == 302, response.content.decode()[:500]
    response = enter_code(client, last_code(home, phone))
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def jpeg_bytes(width: int = 64, height: int = 48, color=(200, 80, 40), quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def noisy_jpeg_bytes(width: int, height: int) -> bytes:
    """A photo-like JPEG that does not compress well (for size limits)."""
    import random

    rng = random.Random(7)
    img = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def complain_form(client, **params):
    """GET the form and return its one-time key (as a browser would have it)."""
    response = client.get(reverse("portal:new"), params)
    assert response.status_code == 200
    match = re.search(r'name="key" value="([0-9a-f-]{36})"', response.content.decode())
    assert match
    return match.group(1)
