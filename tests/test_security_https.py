"""HTTPS can be configured, and is by default with an https KESU_BASE_URL (issue 13, finding 9):
secure cookies, HSTS, the redirect of plain HTTP and the proxy's X-Forwarded-Proto, each with its own
environment variable; `kesu manage check --deploy` is clean with the production settings the README
gives (read from the README itself, so the two cannot drift apart)."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KESU = Path(sys.executable).with_name("kesu")


def readme_production_env() -> dict[str, str]:
    """The `export` lines of the README's scaled set-up, with a real secret for `KESU_SECRET_KEY=...`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Running scaled", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's scaled section has no sh block"
    env: dict[str, str] = {}
    for line in block.group(1).splitlines():
        if not line.startswith("export "):
            continue
        for word in shlex.split(line[len("export ") :], comments=True):
            name, _, value = word.partition("=")
            env[name] = value
    assert env.get("KESU_SECRET_KEY") == "...", env
    env["KESU_SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # A production process: none of this test process's settings, nor the browser tests' async switch.
    skip = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_") and k not in skip}
    env["KESU_HOME"] = str(tmp_path / "var")
    env.update(extra)
    return env


def settings_in(tmp_path: Path, names: list[str], **env: str) -> dict[str, str]:
    """The repr of some settings in a fresh process with these environment variables."""
    code = "import django, sys; django.setup(); from django.conf import settings; " + "".join(
        f"print(repr(settings.{n})); " for n in names
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kesu.settings", **env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(zip(names, done.stdout.splitlines(), strict=True))


HTTPS_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
]


def test_check_deploy_is_clean_with_the_readmes_production_settings(tmp_path):
    env = readme_production_env()
    assert env["KESU_BASE_URL"].startswith("https://")
    done = subprocess.run(
        [str(KESU), "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "System check identified no issues" in output, output[-3000:]
    assert "WARNINGS" not in output and "?: (" not in output, output[-3000:]


def test_an_https_base_url_turns_every_https_setting_on(tmp_path):
    got = settings_in(tmp_path, HTTPS_SETTINGS, KESU_BASE_URL="https://kesu.example.com")
    assert got == {
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SECURE_HSTS_SECONDS": str(365 * 86400),
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SECURE_HSTS_PRELOAD": "False",
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    }


def test_the_embedded_default_stays_plain_http(tmp_path):
    got = settings_in(tmp_path, HTTPS_SETTINGS)
    assert got == {
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "False",
        "SECURE_HSTS_PRELOAD": "False",
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_PROXY_SSL_HEADER": "None",
    }


def test_each_https_setting_has_its_own_variable(tmp_path):
    got = settings_in(
        tmp_path,
        HTTPS_SETTINGS,
        KESU_BASE_URL="https://kesu.example.com",
        KESU_SESSION_COOKIE_SECURE="false",
        KESU_CSRF_COOKIE_SECURE="false",
        KESU_HSTS_SECONDS="600",
        KESU_HSTS_INCLUDE_SUBDOMAINS="false",
        KESU_HSTS_PRELOAD="true",
        KESU_SSL_REDIRECT="false",
        KESU_PROXY_SSL_HEADER="X-Scheme=https",
    )
    assert got == {
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "SECURE_HSTS_SECONDS": "600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "False",
        "SECURE_HSTS_PRELOAD": "True",
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_SCHEME', 'https')",
    }
    assert settings_in(tmp_path, ["SECURE_PROXY_SSL_HEADER"], KESU_PROXY_SSL_HEADER="off") == {
        "SECURE_PROXY_SSL_HEADER": "None"
    }


def test_a_bad_proxy_header_setting_says_what_it_should_look_like(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kesu.settings", KESU_PROXY_SSL_HEADER="https"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode != 0 and "KESU_PROXY_SSL_HEADER must look like" in done.stderr


@pytest.mark.django_db
def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts_and_secure_cookies(settings, org):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 365 * 86400
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.ALLOWED_HOSTS = ["kesu.example.com"]
    client = Client(HTTP_HOST="kesu.example.com")
    plain = client.get("/login/", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301 and plain["Location"] == "https://kesu.example.com/login/"
    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure.cookies["csrftoken"]["secure"]
    signed_in = client.post(
        "/login/",
        {"username": "reception", "password": "pw-12345678"},
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert signed_in.status_code == 302 and signed_in.cookies["sessionid"]["secure"]
