"""Sign-in, sign-out, password change, lock-out and session expiry of the staff workspace."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from web_support import HTMX, client_for, url


def test_sign_in_page_is_in_chinese(db):
    r = Client().get(url("login"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "用户名" in html and "密码" in html and "登录" in html
    assert 'lang="zh-hans"' in html


def test_sign_in_and_land_on_the_home_page(org):
    client = Client()
    r = client.post(url("login"), {"username": "reception", "password": "pw-12345678"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert client.get("/").status_code == 200


def test_sign_in_returns_to_the_page_asked_for(org):
    client = Client()
    r = client.get(url("list"))
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=")
    r = client.post(
        url("login") + "?next=/complaints/",
        {"username": "reception", "password": "pw-12345678", "next": "/complaints/"},
    )
    assert r["Location"] == "/complaints/"


def test_wrong_password_says_so_in_chinese(org):
    r = Client().post(url("login"), {"username": "reception", "password": "wrong"})
    assert r.status_code == 200
    assert "用户名或密码不正确" in r.content.decode()


def test_repeated_failures_lock_the_account_with_a_chinese_message(org):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        r = client.post(url("login"), {"username": "reception", "password": "wrong"})
    assert r.status_code == 429
    html = r.content.decode()
    assert "登录失败次数过多，账号已暂时锁定" in html
    assert 'value="reception"' in html  # the user name is kept, the password is not
    # even the right password is refused while locked
    r = client.post(url("login"), {"username": "reception", "password": "pw-12345678"})
    assert r.status_code == 429
    assert client.get(url("list")).status_code == 302


def test_sign_out_is_a_post_and_ends_the_session(org):
    client = client_for(org.reception)
    assert client.get("/").status_code == 200
    r = client.post(url("logout"))
    assert r.status_code == 302 and r["Location"] == url("login")
    assert client.get(url("list")).status_code == 302


def test_change_password(org):
    client = client_for(org.reception)
    r = client.get(url("password_change"))
    assert "修改密码" in r.content.decode()
    r = client.post(
        url("password_change"),
        {
            "old_password": "pw-12345678",
            "new_password1": "Nacht-Dienst-2026",
            "new_password2": "Nacht-Dienst-2026",
        },
    )
    assert r.status_code == 302
    org.reception.refresh_from_db()
    assert org.reception.check_password("Nacht-Dienst-2026")
    assert client.get("/").status_code == 200  # still signed in after the change


def test_change_password_errors_in_chinese(org):
    r = client_for(org.reception).post(
        url("password_change"), {"old_password": "nope", "new_password1": "a", "new_password2": "b"}
    )
    assert r.status_code == 200
    html = r.content.decode()
    assert "旧密码不正确" in html or "你的旧密码不正确" in html
    assert "两个密码字段不一致" in html or "不一致" in html


@pytest.mark.parametrize("name", ["home", "intake", "list", "export", "password_change"])
def test_every_page_needs_sign_in(db, name):
    r = Client().get(url(name))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_an_expired_session_on_an_htmx_request_redirects_the_whole_page(db):
    r = Client().post(
        url("act", "Y01-202601-0001", "note"),
        HTTP_HX_CURRENT_URL="http://testserver/complaints/Y01-202601-0001/",
        **HTMX,
    )
    assert r.status_code == 200
    assert r["HX-Redirect"] == "/login/?next=%2Fcomplaints%2FY01-202601-0001%2F"


def test_residents_cannot_use_the_staff_workspace(org):
    client = client_for(org.resident)
    assert client.get(url("list")).status_code == 403
    assert client.get(url("intake")).status_code == 403


def test_sessions_expire_after_the_idle_time():
    assert settings.SESSION_SAVE_EVERY_REQUEST is True  # the cookie age counts from the last request
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY


def test_workspace_pages_carry_a_content_security_policy(org):
    r = client_for(org.reception).get("/")
    csp = r["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "object-src 'none'" in csp and "'unsafe-inline'" not in csp


@pytest.mark.parametrize(
    "path",
    ["/reports/monthly/?month=2026-02", "/reports/dashboard/", "/notifications/", "/notifications/bell/"],
)
def test_report_and_notification_pages_carry_the_workspaces_content_security_policy(org, path):
    """They show complaint text (the summary's examples, notification bodies): an injected script stays
    inert."""
    r = client_for(org.quality).get(path)
    assert r.status_code == 200
    assert r["Content-Security-Policy"] == client_for(org.reception).get("/")["Content-Security-Policy"]


def test_not_found_page_is_in_chinese(org):
    r = client_for(org.reception).get(url("complaint", "Y01-209901-0001"))
    assert r.status_code == 404
    assert "不在您的查看范围内" in r.content.decode()


def test_pages_of_other_apps_keep_their_blocks_in_the_shared_layout(org):
    """The reports extend web/base.html and put ECharts in {% block scripts %}."""
    from django.template import engines

    html = (
        engines["django"]
        .from_string(
            '{% extends "web/base.html" %}{% block scripts %}<script src="/x.js"></script>{% endblock %}'
        )
        .render({})
    )
    assert '<script src="/x.js"></script>' in html


def test_managers_see_the_reports_link(org):
    assert 'href="/reports/"' in client_for(org.director).get("/").content.decode()
    assert 'href="/reports/"' not in client_for(org.handler).get("/").content.decode()


def test_pages_name_the_tab_icon_they_serve(org, client):
    """Browsers ask for an icon on every page: the workspace, the report and the resident portal name
    one that is in the static files (not a 404 in every log and console)."""
    import re

    from django.contrib.staticfiles import finders

    pages = [
        client_for(org.reception).get("/"),
        client_for(org.quality).get("/reports/monthly/?month=2026-02"),
        client.get("/portal/", follow=True),
        client.get("/login/"),
    ]
    for page in pages:
        icon = re.search(
            r'<link rel="icon" type="image/svg\+xml" href="/static/([^"]+)">', page.content.decode()
        )
        assert icon and finders.find(icon.group(1)), page.request["PATH_INFO"]
