"""Links in messages and QR codes lead to where Kesu is served (issue 14, item 1): with KESU_BASE_URL
unset, `kesu serve` / `kesu demo` on another port than 8000 point the links at that port, and say at
start-up which base URL messages use; a KESU_BASE_URL that is set is kept."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from kesu.complaints.links import complaint_url
from kesu.notify.messages import complaint_link
from kesu.ops.baseurl import served_url
from kesu.portal.qr import building_url

DEFAULTS = {"KESU_BASE_URL": "http://127.0.0.1:8000", "KESU_PORTAL_BASE_URL": "http://127.0.0.1:8000"}


@pytest.fixture
def unset(monkeypatch):
    """Neither base URL in the environment (the demo's case)."""
    monkeypatch.delenv("KESU_BASE_URL", raising=False)
    monkeypatch.delenv("KESU_PORTAL_BASE_URL", raising=False)


@pytest.fixture
def no_gunicorn(monkeypatch):
    """`kesu serve` up to the moment it would start serving (keeping the test's database connection,
    which serve closes before forking)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    monkeypatch.setattr(BaseApplication, "run", lambda self: None)
    monkeypatch.setattr(connections, "close_all", lambda: None)


def serve(**options) -> str:
    out = StringIO()
    call_command("serve", no_sweeper=True, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_served_on_another_port_every_link_leads_to_that_port(org, make_complaint, unset, no_gunicorn):
    with override_settings(**DEFAULTS):  # whatever serve sets is undone with this block
        text = serve(host="127.0.0.1", port=8100)
        assert "links in messages: http://127.0.0.1:8100" in text
        c = make_complaint()
        assert complaint_url(c).startswith("http://127.0.0.1:8100/portal/")
        assert complaint_link(c.number) == f"http://127.0.0.1:8100/complaints/{c.number}/"
        assert building_url(org.a.office).startswith("http://127.0.0.1:8100/portal/")


@pytest.mark.django_db
def test_a_base_url_that_is_set_is_kept_and_said(org, monkeypatch, no_gunicorn):
    monkeypatch.setenv("KESU_BASE_URL", "https://kesu.example.cn")
    monkeypatch.delenv("KESU_PORTAL_BASE_URL", raising=False)
    with override_settings(
        KESU_BASE_URL="https://kesu.example.cn", KESU_PORTAL_BASE_URL="https://kesu.example.cn"
    ):
        text = serve(port=8100)
        assert "links in messages: https://kesu.example.cn（KESU_BASE_URL）" in text
        assert settings.KESU_BASE_URL == "https://kesu.example.cn"
        assert building_url(org.a.office).startswith("https://kesu.example.cn/portal/")


@pytest.mark.django_db
def test_a_portal_address_of_its_own_is_kept_and_said(org, monkeypatch, no_gunicorn):
    monkeypatch.delenv("KESU_BASE_URL", raising=False)
    monkeypatch.setenv("KESU_PORTAL_BASE_URL", "https://wuye.example.cn")
    with override_settings(
        KESU_BASE_URL=DEFAULTS["KESU_BASE_URL"], KESU_PORTAL_BASE_URL="https://wuye.example.cn"
    ):
        text = serve(port=8100)
        assert "links in messages: http://127.0.0.1:8100" in text
        assert "portal links and QR codes: https://wuye.example.cn" in text
        assert building_url(org.a.office).startswith("https://wuye.example.cn/portal/")


def test_serving_on_every_interface_links_to_an_address_others_can_reach():
    url = served_url("0.0.0.0", 8100)
    assert url.startswith("http://") and url.endswith(":8100")
    assert "0.0.0.0" not in url
    assert served_url("::1", 8100) == "http://[::1]:8100"
    assert served_url("kesu.local", 80) == "http://kesu.local:80"
