"""Simplified Chinese by default, English available: the language switch and a complete catalog."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from web_support import client_for, dispatched, resolved, url


@pytest.fixture(autouse=True)
def _back_to_chinese():
    """A request in English leaves English active in this thread; later tests expect the default."""
    from django.utils import translation

    yield
    translation.activate("zh-hans")


CATALOG = Path(__file__).resolve().parent.parent / "kesu" / "locale" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u4e00-\u9fff]")


class Chrome(HTMLParser):
    """The workspace's own words (headings, buttons, summaries, legends, table heads), not the data."""

    TAGS = {"h1", "h2", "h3", "summary", "button", "legend", "th"}

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.TAGS:
            self.depth += 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if tag in self.TAGS and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def chinese_chrome(html: str) -> list[str]:
    p = Chrome()
    p.feed(html)
    return [t.strip() for t in p.texts if CJK.search(t)]


def test_chinese_is_the_default(org):
    html = client_for(org.reception).get("/").content.decode()
    assert 'lang="zh-hans"' in html and "我的待办" in html
    assert "等我处理" in " ".join(chinese_chrome(html))  # (the check below does see the chrome)


def test_english_for_an_english_browser(org):
    client = client_for(org.reception)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in html and "My queue" in html and "Waiting for me" in html


def test_the_language_switch_is_remembered(org):
    client = client_for(org.reception)
    r = client.post(url("set_language"), {"language": "en", "next": "/complaints/"})
    assert r.status_code == 302 and r["Location"] == "/complaints/"
    assert "Export to Excel" in client.get(url("list")).content.decode()
    client.post(url("set_language"), {"language": "zh-hans", "next": "/"})
    assert "导出 Excel" in client.get(url("list")).content.decode()


def test_sign_in_page_in_english(db):
    html = Client().get(url("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "User name" in html and "Password" in html and "Sign in" in html


@pytest.mark.parametrize("who", ["supervisor", "handler", "cs_manager"])
def test_no_chinese_left_in_the_english_workspace(org, make_complaint, who):
    """Headings, buttons, summaries, legends and table heads are all translated (data stays as typed)."""
    open_ = make_complaint()
    working = dispatched(org, make_complaint)
    done = resolved(org, make_complaint)
    client = client_for(getattr(org, who))
    client.post(url("set_language"), {"language": "en", "next": "/"})
    pages = [url("home"), url("list"), url("intake"), url("password_change")]
    pages += [
        url("complaint", c.number) for c in (open_, working, done) if who != "handler" or c.department_id
    ]
    pages += [url("print", done.number, form) for form in ("record", "handling", "callback")]
    for page in pages:
        html = client.get(page).content.decode()
        assert chinese_chrome(html) == [], page


def test_the_english_catalog_is_complete_and_compiled():
    po = (CATALOG / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]  # after the header
    untranslated = [
        e for e in entries if re.search(r'^msgstr(\[0\])? ""$', e, re.M) and 'msgstr ""\n"' not in e
    ]
    assert untranslated == []
    assert "#, fuzzy" not in po
    mo = CATALOG / "django.mo"
    assert mo.exists() and mo.stat().st_size > 10_000


def test_my_notifications_and_the_bell_in_english(org, make_complaint):
    """The notifications page and the header's bell (polled) speak English; the messages themselves are
    the company's (Chinese) templates."""
    job = dispatched(org, make_complaint)  # a new job for the handler
    client = client_for(org.handler)
    client.post(url("set_language"), {"language": "en", "next": "/"})
    html = client.get("/notifications/").content.decode()
    assert "<h1>My notifications" in html and '<small id="unread-count">1 unread</small>' in html
    assert "Mark all as read" in html and "Mark as read" in html and f"Open complaint {job.number}" in html
    bell = client.get("/notifications/bell/", HTTP_HX_REQUEST="true").content.decode()
    assert '>Notifications <span class="bell-count">1<span class="visually-hidden">' in bell
    assert not CJK.search(re.sub(r"<[^>]+>", "", bell))


def test_the_admin_index_in_english(admin_client):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Complaint handling and configuration" in page and "投诉处理与系统配置" not in page
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "投诉处理与系统配置" in page
