"""The API docs page renders in a real browser (Debian's Chromium) with the internet cut off: every
asset comes from this server, the strict Content-Security-Policy blocks nothing, and the operations
of the schema are listed."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kesu.api.docs import DOCS_CSP

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SHOT = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "api" / "docs.png"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    # The live server needs real transactions; serialized rollback leaves the database as the next
    # transactional tests expect it (content types not recreated under new ids).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_docs_render_offline_under_a_strict_csp(live_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    host = urlsplit(live_server.url).netloc
    outside: list[str] = []
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()

        def only_this_server(route):
            if urlsplit(route.request.url).netloc == host:
                route.continue_()
            else:  # no internet: anything else would fail on an intranet
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_this_server)
        page.on(
            "console", lambda m: m.type == "error" and "favicon" not in m.text and problems.append(m.text)
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        response = page.goto(f"{live_server.url}/api/docs/")
        assert response.headers["content-security-policy"] == DOCS_CSP
        page.wait_for_selector(".opblock", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=False)
        browser.close()
    assert outside == []
    assert problems == []
    assert "/api/v1/complaints/" in paths and "/api/v1/complaints/{number}/callback/" in paths
    assert len(paths) >= 25
