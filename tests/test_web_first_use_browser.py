"""What a new user meets in the workspace, in a real browser (Playwright driving Debian's chromium) at
1366×768: a dangerous action asks once; a note says whom it is for and who will see it;
the list's filter panel folds away after a search so the results are on the first screen.

Screenshots go to test-artifacts/screenshots/first-use/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_web_browser import ARGS, CHROMIUM, Desk
from web_support import chromium_browser, seed_default_rules

from kesu.complaints import services
from kesu.complaints.choices import Status
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.notify.models import Outbox

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "first-use"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    yield from chromium_browser(SHOTS, CHROMIUM, ARGS)


@pytest.fixture(autouse=True)
def seeded(db):
    seed_default_rules()


def shot(desk: Desk, name: str, full_page: bool = False) -> None:
    desk.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page, caret="initial")


def record_dialogs(page) -> list[str]:
    """Every confirm() the page shows, answered yes."""
    seen: list[str] = []

    def answer(dialog):
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return seen


# ---------------------------------------------------------------------------------------------
# 6. one confirmation


@pytest.mark.django_db(transaction=True)
def test_withdrawing_asks_once(browser, live_server, org, make_complaint):
    from playwright.sync_api import expect

    c = make_complaint()
    desk = Desk(browser, live_server.url, "supervisor")
    page = desk.page
    asked = record_dialogs(page)
    desk.go(f"/complaints/{c.number}/")
    box = desk.open_action("withdraw")
    box.get_by_label("撤回说明").fill("业主来电说问题已自行解决，要求撤回。")
    box.get_by_role("button", name="撤回投诉").click()
    expect(page.locator(".flash")).to_contain_text("投诉已撤回")
    assert asked == ["确定要“撤回”吗？"]
    assert Complaint.objects.get(pk=c.pk).status == Status.WITHDRAWN
    desk.close()


@pytest.mark.django_db(transaction=True)
def test_declining_asks_once_and_no_means_nothing_is_sent(browser, live_server, org, make_complaint):
    from playwright.sync_api import expect

    c = make_complaint()
    desk = Desk(browser, live_server.url, "supervisor")
    page = desk.page
    desk.go(f"/complaints/{c.number}/")
    box = desk.open_action("decline")
    box.get_by_label("不予受理原因").select_option(index=1)
    box.get_by_label("向投诉人的解释").fill("该事项属于市政管理范围，已告知业主联系方式。")

    # "No": nothing is sent, and the dialog came once
    refused: list[str] = []

    def refuse(dialog):
        refused.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    box.get_by_role("button", name="不予受理").click()
    page.wait_for_timeout(500)
    assert refused == ["确定要“不予受理”吗？"]
    assert Complaint.objects.get(pk=c.pk).status == Status.RECEIVED
    page.remove_listener("dialog", refuse)

    # "Yes": declined, after one question
    asked = record_dialogs(page)
    box.get_by_role("button", name="不予受理").click()
    expect(page.locator(".flash")).to_contain_text("已不予受理")
    assert asked == ["确定要“不予受理”吗？"]
    assert Complaint.objects.get(pk=c.pk).status == Status.DECLINED
    desk.close()


# ---------------------------------------------------------------------------------------------
# 8. a note says whom it is for


@pytest.mark.django_db(transaction=True)
def test_a_note_has_no_default_audience_and_says_who_will_see_it(browser, live_server, org, make_complaint):
    from playwright.sync_api import expect

    c = make_complaint()
    desk = Desk(browser, live_server.url, "supervisor")
    page = desk.page
    desk.go(f"/complaints/{c.number}/")
    box = desk.open_action("note")
    internal = box.get_by_label("内部备注（投诉人看不到）")
    told = box.get_by_label("告知投诉人（以短信发给投诉人，住户端可见）")
    assert not internal.is_checked() and not told.is_checked()  # no choice made for the clerk

    # Typed and sent without choosing: refused, in Chinese, and nothing is recorded
    box.get_by_label("内容").fill("已电话告知业主：明天上午工程部上门检修。")
    box.get_by_role("button", name="保存记录").click()
    box = page.locator("#action-note")
    expect(box.locator("#id_note_audience_error")).to_contain_text("请选择")
    expect(box.get_by_label("内容")).to_have_value("已电话告知业主：明天上午工程部上门检修。")
    assert not ComplaintEvent.objects.filter(complaint=c, type="note").exists()
    shot(desk, "note-audience-required")

    # Told to the complainant: the confirmation says the complainant hears of it (by SMS)
    box.get_by_label("告知投诉人（以短信发给投诉人，住户端可见）").check()
    box.get_by_role("button", name="保存记录").click()
    expect(page.locator(".flash")).to_contain_text("已告知投诉人（短信）")
    expect(page.locator(".tl--told").last).to_contain_text("明天上午工程部上门检修")
    sms = Outbox.objects.filter(complaint=c, channel=Outbox.Channel.SMS, kind="progress")
    assert [row.address for row in sms] == [c.complainant_phone] and "明天上午" in sms[0].body
    shot(desk, "note-told")

    # The next note starts with no choice again; an internal one says the complainant cannot see it
    box = desk.open_action("note")
    assert not box.get_by_label("内部备注（投诉人看不到）").is_checked()
    assert not box.get_by_label("告知投诉人（以短信发给投诉人，住户端可见）").is_checked()
    box.get_by_label("内容").fill("工程部说配件周三到。")
    box.get_by_label("内部备注（投诉人看不到）").check()
    box.get_by_role("button", name="保存记录").click()
    expect(page.locator(".flash")).to_contain_text("内部备注，投诉人看不到")
    notes = ComplaintEvent.objects.filter(complaint=c, type="note").order_by("id")
    assert [e.visibility for e in notes] == ["complainant", "internal"]
    assert sms.count() == 1  # the internal note went to nobody
    shot(desk, "note-internal")
    desk.close()


# ---------------------------------------------------------------------------------------------
# 11. the filter panel after a search


def _many(org, make_complaint, n: int = 8) -> list[Complaint]:
    out = []
    for i in range(n):
        c = make_complaint(content=f"第{i + 1}件：3栋电梯经常停运，困人十多分钟。")
        if i % 2:
            c = services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")
        out.append(c)
    return out


def _first_row_in_view(page) -> bool:
    return page.evaluate(
        """() => {
          const row = document.querySelector('#results tbody tr');
          if (!row) return false;
          const r = row.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        }"""
    )


@pytest.mark.django_db(transaction=True)
def test_after_a_filtered_search_the_first_result_is_on_the_first_screen(
    browser, live_server, org, make_complaint
):
    from playwright.sync_api import expect

    _many(org, make_complaint)
    desk = Desk(browser, live_server.url, "supervisor")  # 1366×768
    page = desk.page
    desk.go("/complaints/")
    panel = page.locator("#filters-more")

    # choose filters in the panel, then search
    panel.locator("summary").click()
    panel.get_by_label("已受理").check()
    panel.get_by_label("有效投诉").check()
    overdue = panel.get_by_label("超时")
    options = overdue.locator("option").all_inner_texts()
    assert options.count("不限") == 1 and not any(o.strip("-") == "" for o in options), options
    page.get_by_label("搜索", exact=True).fill("电梯")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#results-title")).to_contain_text("共 4 件")
    expect(panel).not_to_have_attribute("open", "")
    summary = panel.locator("summary")
    expect(summary).to_contain_text("已受理")
    expect(summary).to_contain_text("有效投诉")
    assert _first_row_in_view(page)
    shot(desk, "list-after-search")

    # the same filters on a page of their own (a link, a reload, a saved filter): folded too
    page.reload()
    expect(page.locator("#results-title")).to_contain_text("共 4 件")
    expect(panel).not_to_have_attribute("open", "")
    expect(panel.locator("summary")).to_contain_text("有效投诉")
    assert _first_row_in_view(page)
    shot(desk, "list-reloaded-with-filters")

    # the one-line summary opens the panel again, with the filters in it
    panel.locator("summary").click()
    expect(panel.get_by_label("有效投诉")).to_be_checked()
    shot(desk, "list-panel-opened", full_page=True)

    # the quick chips lead to a folded panel as well
    desk.go("/complaints/?overdue=any&nature=valid")
    expect(panel).not_to_have_attribute("open", "")
    expect(panel.locator("summary")).to_contain_text("任一超时")
    desk.close()
