"""The resident's journey in a real browser at a phone's size (390×844, Debian's chromium): sign in
with the code from the demo SMS log, complain with a photo (shrunk on the phone), see it listed, rate
不满意 after staff resolve it → reopened, resolved again and rated 满意 → awaiting close, closed by the
office. Screenshots go to test-artifacts/screenshots/portal/."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image
from portal_support import SCREENSHOTS, codes_sent

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the ORM is used beside Playwright's event loop
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    # Live server: real transactions; keep the migrations' default categories and time limits.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def sms_home(settings, tmp_path):
    settings.KESU_HOME = tmp_path
    settings.KESU_SMS_LOG = tmp_path / "sms.log"
    return tmp_path


@pytest.fixture
def phone_page(live_server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for_code(home: Path, phone: str, seen: int = 0, timeout: float = 10.0) -> str:
    """Read the code as a person would: from the demo SMS log (written by a background thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = codes_sent(home, phone)
        if len(codes) > seen:
            return codes[-1]
        time.sleep(0.1)
    raise AssertionError(f"no code for {phone} in {home / 'sms.log'}")


def photo_file(tmp_path: Path) -> Path:
    """A real photo-sized JPEG (2400×1800) with some detail in it."""
    img = Image.new("RGB", (2400, 1800), (90, 140, 200))
    for y in range(0, 1800, 60):
        for x in range(0, 2400, 60):
            if (x // 60 + y // 60) % 3 == 0:
                img.paste((230, 180, 60), (x, y, x + 40, y + 40))
    path = tmp_path / "IMG_20260310_0815.jpg"
    img.save(path, "JPEG", quality=90)
    return path


def sign_in(page, live_server, home: Path, phone: str, start: str) -> None:
    page.goto(live_server.url + start)
    assert "/portal/login/" in page.url
    page.fill("#phone", phone)
    page.click("text=获取验证码")
    page.wait_for_url("**/portal/login/code/")
    page.fill("#code", wait_for_code(home, phone))
    page.click("button:has-text('登录')")
    page.wait_for_load_state()


def test_the_residents_journey_on_a_phone(phone_page, live_server, org, sms_home, tmp_path):
    from kesu.complaints import services
    from kesu.complaints.choices import Status
    from kesu.complaints.models import Complaint
    from kesu.notify.models import Outbox

    page = phone_page
    phone = org.a.resident.phone
    building = org.a.unit.building

    # A QR code in the lift opens the portal for this office and building; sign in first.
    page.goto(live_server.url + f"/portal/?o=Y01&b={building.pk}")
    assert "/portal/login/" in page.url and "翠湖花园 · 3栋" in page.content()
    shot(page, "01-sign-in")
    page.fill("#phone", phone)
    page.click("text=获取验证码")
    page.wait_for_url("**/portal/login/code/")
    shot(page, "02-code")
    page.fill("#code", wait_for_code(sms_home, phone))
    page.click("button:has-text('登录')")
    page.wait_for_url(re.compile(r".*/portal/\?o=Y01&b=\d+$"))
    assert "您扫描的是" in page.content()
    shot(page, "03-home-from-qr")

    # Complain: the home is preselected, words, a category, a photo, when to call, anonymity.
    page.click("text=在这里反映问题")
    page.wait_for_url("**/portal/new/**")
    assert page.is_checked(f"input[name=unit][value='{org.a.unit.pk}']")
    page.fill("#content", "3栋2号电梯从昨晚开始经常停运，今早困了一位老人十多分钟。")
    page.click("label.tile:has-text('电梯水电')")
    page.set_input_files("input[data-photos]:not([capture])", str(photo_file(tmp_path)))
    page.wait_for_selector("[data-previews] img")
    page.wait_for_function("!document.querySelector('.btn-submit').disabled")
    page.click("label.tile:has-text('晚上')")
    page.check("input[name=anonymous]")
    shot(page, "04-complain-form")
    page.click(".btn-submit")
    page.wait_for_url("**/sent/")
    c = Complaint.objects.get()
    body = page.content()
    assert c.number in body and "前答复您" in body
    shot(page, "05-submitted")
    assert (c.channel, c.unit_id, c.category.code, c.address) == (
        "online",
        org.a.unit.pk,
        "facilities",
        "翠湖花园 3栋（扫码）",
    )
    assert c.portal_submission.anonymous and c.portal_submission.preferred_contact == "evening"
    stored = c.attachments.get()
    with stored.file.open("rb") as f:
        width, height = Image.open(io.BytesIO(f.read())).size
    assert max(width, height) <= 1600 and stored.content_type == "image/jpeg"  # shrunk on the phone
    assert Outbox.objects.filter(complaint=c, kind="ack", address=phone).exists()

    # It is in the list, in plain words.
    page.click("text=返回首页")
    assert c.number in page.content() and "已受理" in page.content()
    shot(page, "06-my-complaints")

    # Staff handle it through the lifecycle; the resident is not satisfied.
    c = services.dispatch(c, org.supervisor, department=org.a.dept["engineering"], handler=org.handler)
    c = services.note(c, org.handler, text="内部：维保合同快到期", tell_complainant=False)
    c = services.note(c, org.handler, text="已联系电梯维保单位，今天下午更换门机板。", tell_complainant=True)
    c = services.resolve(c, org.handler, resolution="已更换2号电梯门机板，试运行正常。")
    page.click(f"text={c.number}")
    assert "已处理待回访" in page.content() and "内部：维保合同" not in page.content()
    page.click("label.tile:has-text('不满意')")
    page.fill("#words", "今天又停了一次，还是不放心。")
    shot(page, "07-rate-dissatisfied")
    page.click("button:has-text('提交评价')")
    page.wait_for_load_state()
    c.refresh_from_db()
    assert (c.status, c.reopen_count) == (Status.RECTIFYING, 1) and c.rectify_due_at
    assert Outbox.objects.filter(complaint=c, kind="reopened", user=org.director).exists()
    assert "已安排整改" in page.content() and "整改完毕" in page.content()
    shot(page, "08-reopened")

    # Resolved again; this time satisfied: a confirmed on-line callback, awaiting the office's close.
    c = services.resolve(c, org.handler, resolution="已更换整套门机系统，连续观察两天无故障。")
    page.reload()
    page.click("label.tile:has-text('满意'):not(:has-text('不满意')):not(:has-text('基本'))")
    page.fill("#words", "这次修好了，谢谢师傅。")
    page.click("button:has-text('提交评价')")
    page.wait_for_load_state()
    c.refresh_from_db()
    assert (c.status, c.satisfaction) == (Status.RESOLVED, "satisfied")
    calls = list(c.callbacks.order_by("at", "id").values_list("method", "satisfaction", "confirmed", "by"))
    assert calls == [
        ("other", "dissatisfied", True, org.resident.pk),
        ("other", "satisfied", True, org.resident.pk),
    ]
    assert "等待管理处结案" in page.content()
    shot(page, "09-rated-satisfied")

    c = services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")
    c = services.close(
        c,
        org.supervisor,
        lesson_cause="门机板老化",
        lesson_learned="维保巡检不到位",
        lesson_prevention="每月检查门机",
    )
    page.reload()
    assert "已完结" in page.content() and "已结案" in page.content()
    shot(page, "10-closed")
    assert page.errors == []


def test_nothing_of_another_residents_complaint_and_a_fake_photo_is_refused(
    phone_page, live_server, org, sms_home, tmp_path
):
    from kesu.complaints import links, services
    from kesu.complaints.models import Complaint
    from kesu.org.models import Resident, User

    Resident.objects.create(unit=org.a.other_unit, name="李梅", phone="13911112222")
    neighbour = User.objects.create(username="r-13911112222", role="resident", phone="13911112222")
    theirs = services.register(
        neighbour, office="Y01", channel="online", content="隔壁深夜装修太吵。", unit=org.a.other_unit
    )
    page = phone_page
    sign_in(page, live_server, sms_home, org.a.resident.phone, "/portal/")
    page.goto(live_server.url + reverse("portal:detail", args=[theirs.number]))
    assert "找不到这条投诉" in page.content() and "隔壁" not in page.content()
    shot(page, "11-not-yours")
    token = links.token_for(theirs.number, theirs.complainant_phone)
    page.goto(live_server.url + reverse("portal:link", args=[token[:-3] + "xyz"]))
    assert "找不到这条投诉" in page.content() and "隔壁" not in page.content()

    # The real link works, read-only, for whoever holds it (it was texted to its owner).
    page.goto(live_server.url + reverse("portal:link", args=[token]))
    assert "隔壁深夜装修太吵" in page.content() and "通过短信链接" in page.content()
    shot(page, "12-signed-link")

    fake = tmp_path / "photo.jpg"
    fake.write_text("这不是照片" * 50, encoding="utf-8")
    page.goto(live_server.url + "/portal/new/")
    page.fill("#content", "楼道灯坏了一周没人修。")
    page.set_input_files("input[data-photos]:not([capture])", str(fake))
    page.wait_for_function("!document.querySelector('.btn-submit').disabled")
    page.click(".btn-submit")
    page.wait_for_load_state()
    assert "请重新选择照片" in page.content()
    assert Complaint.objects.filter(received_by=org.resident).count() == 0
    shot(page, "13-fake-photo-refused")
