"""Every page carries a Content-Security-Policy, the admin included (issue 13, finding 14).

Before, the policy was added to the workspace's own apps by name, and the admin, an error page or
any new app went out with none. Now every response gets the strict policy unless its view set its
own (the portal's, stricter; the API docs', with inline styles: kesu/web/middleware.py says why).
Django's admin runs under it unchanged: Chromium drives the sign-in, the change list with its filter
sidebar and actions, a date widget and its calendar, a related-object popup, the two-box selector,
an autocomplete and the delete confirmations, and no policy violation, console error or script
error happens on the way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from kesu.api.docs import DOCS_CSP
from kesu.portal.security import CSP as PORTAL_CSP
from kesu.web.middleware import CSP

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "pw-12345678"


def _superuser():
    from kesu.org.models import User

    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


def _policy(response) -> str:
    assert response.status_code < 500, response.status_code
    return response.headers.get("Content-Security-Policy", "")


@pytest.mark.django_db
def test_every_admin_page_carries_the_strict_policy(org):
    from kesu.org.models import Building

    building = Building.objects.filter(office=org.a.office).first()
    assert _policy(Client().get("/admin/login/")) == CSP
    client = Client()
    client.force_login(_superuser())
    pages = [
        "/admin/",
        "/admin/org/user/",
        "/admin/org/user/?role__exact=director",
        "/admin/org/user/add/",
        f"/admin/org/user/{org.director.pk}/change/",
        f"/admin/org/user/{org.director.pk}/delete/",
        f"/admin/org/building/{building.pk}/change/",
        "/admin/org/office/add/?_to_field=id&_popup=1",
        "/admin/org/calendaroverride/add/",
        "/admin/notify/outbox/",
        "/admin/api/webhooksubscription/add/",
        "/admin/jsi18n/",
        "/admin/autocomplete/?app_label=org&model_name=unit&field_name=building&term=3",
    ]
    for page in pages:
        policy = _policy(client.get(page))
        assert policy == CSP, page
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert _policy(client.post("/admin/logout/")) == CSP


@pytest.mark.django_db
def test_a_page_nobody_set_a_policy_for_still_gets_one(client):
    assert _policy(client.get("/no-such-page/")) == CSP
    assert _policy(client.get("/healthz")) == CSP
    assert _policy(client.get("/api/v1/choices/")) == CSP


@pytest.mark.django_db
def test_the_docs_and_the_portal_keep_their_own_policies(client):
    # The docs' policy is the only one with inline styles (drf-spectacular's template; see
    # kesu/web/middleware.py); scripts stay 'self' there too.
    assert _policy(client.get("/api/docs/")) == DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP + ";" and "unsafe-eval" not in DOCS_CSP
    assert _policy(client.get("/portal/login/")) == PORTAL_CSP


# ---------------------------------------------------------------------------------------------
# the admin in a real browser, under the policy

# Each violation is reported to the test as it happens, whichever page or popup it happens in.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.kesuCspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def browser(live_server):
    """(a page, a function that opens a path and checks its policy, the problems seen, the base URL)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop here
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = chromium.new_context(locale="zh-CN")
        context.expose_function("kesuCspViolation", lambda text: problems.append(f"CSP: {text}"))
        context.add_init_script(REPORT_VIOLATIONS)

        def watch(page):
            def console(message):
                if message.type == "error" and "favicon" not in (message.location or {}).get("url", ""):
                    problems.append(f"{page.url}: {message.text}")

            page.on("console", console)
            page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))

        context.on("page", watch)  # the popups too
        page = context.new_page()

        def visit(path: str) -> None:
            response = page.goto(f"{live_server.url}{path}")
            assert response.headers["content-security-policy"] == CSP, path

        yield page, visit, problems, live_server.url
        chromium.close()
        # The test's queries ran inside Playwright's greenlet, on a connection of their own.
        connections.close_all()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_admin_works_in_chromium_with_no_policy_violation(org, browser):
    from kesu.org.models import Building, CalendarOverride, Office, Unit, User

    page, visit, problems, base = browser
    _superuser()
    doomed = User.objects.create_user("leaver", password=PASSWORD, role="receptionist")
    User.objects.create_user("leaver2", password=PASSWORD, role="receptionist")

    # Sign in through the admin's own form.
    visit("/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    # A date widget: the "today" shortcut, then the calendar pop-up.
    visit("/admin/org/calendaroverride/add/")
    page.click(".datetimeshortcuts a >> nth=0")  # 今天
    assert page.input_value("#id_date")
    page.click("#calendarlink0")
    page.wait_for_selector("#calendarbox0", state="visible")
    page.click("#calendarbox0 .calendarnav-next")
    page.click("#calendarin0 td a >> text=15")
    page.fill("#id_name", "公司年会")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/org/calendaroverride/")
    assert CalendarOverride.objects.get(name="公司年会").date.day == 15

    # A related-object popup: add an office from the building form, back in the select.
    visit("/admin/org/building/add/")
    with page.expect_popup() as opened:
        page.click("#add_id_office")
    popup = opened.value
    popup.wait_for_load_state()
    popup.select_option("#id_company", index=1)
    popup.fill("#id_code", "Y09")
    popup.fill("#id_name", "新城花园")
    popup.click(".add-row a")  # the departments inline: one more row (inlines.js)
    popup.wait_for_selector("#id_departments-0-name")
    popup.click(".inline-deletelink")
    with popup.expect_event("close"):
        popup.click("input[name=_save]")
    assert "Y09 新城花园" in page.locator("#id_office option:checked").inner_text()
    page.fill("#id_name", "9栋")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/org/building/")
    assert Building.objects.filter(office__code="Y09", name="9栋").exists()
    assert Office.objects.filter(code="Y09").exists()

    # An autocomplete (select2, fetching from the admin).
    visit("/admin/org/unit/add/")
    page.click(".select2-selection")
    page.fill(".select2-search__field", "3栋")
    page.click(".select2-results__option >> text=Y01 3栋")
    page.fill("#id_number", "0801")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/org/unit/")
    assert Unit.objects.filter(number="0801", building__office__code="Y01").exists()

    # The change list: the filter sidebar (folding and a filter), search, the two-box selector.
    visit("/admin/org/user/")
    page.click("#changelist-filter details summary >> nth=0")
    page.click("#changelist-filter details summary >> nth=0")
    page.click("#changelist-filter a[href*='role__exact=receptionist']")
    page.wait_for_url("**role__exact=receptionist**")
    page.fill("#searchbar", "leaver")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**q=leaver**")
    visit(f"/admin/org/user/{doomed.pk}/change/")
    page.select_option("#id_offices_from", label="Y01 翠湖花园")
    page.click("#id_offices_add")
    assert page.locator("#id_offices_to option").count() == 1
    page.click("input[name=_continue]")
    page.wait_for_url(f"**/admin/org/user/{doomed.pk}/change/")
    assert list(User.objects.get(pk=doomed.pk).offices.values_list("code", flat=True)) == ["Y01"]

    # Delete confirmation, from the change form...
    page.click("a.deletelink")
    page.wait_for_url(f"**/admin/org/user/{doomed.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/org/user/")
    assert not User.objects.filter(pk=doomed.pk).exists()
    # ...and from the list's action (the selection counter is actions.js).
    visit("/admin/org/user/?q=leaver2")
    page.check("input.action-select")
    assert "1" in page.inner_text(".action-counter")
    page.select_option("select[name=action]", "delete_selected")
    page.click("button[name=index]")
    page.wait_for_selector("input[name=post]", state="attached")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/org/user/**")
    assert not User.objects.filter(username="leaver2").exists()

    assert problems == []
