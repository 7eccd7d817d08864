"""The resident portal in English: an English phone gets English pages (and an English SMS code), the
footer's switch changes the language, and Chinese stays the default. Data (offices, buildings, what a
resident wrote, what staff told them) stays as typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from conftest import local
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation
from portal_support import ask_code, complain_form, portal_home_fixture, sms_lines  # noqa: F401

from kesu.complaints import links, services
from kesu.complaints.models import Complaint
from kesu.portal import progress

pytestmark = pytest.mark.usefixtures("portal_home")

# Han characters and the full-width punctuation Chinese text uses (，。：（）、 …).
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CONTENT = "楼道灯坏了一周没人修。"
TOLD = "师傅明早上门。"
RESOLUTION = "已更换灯管。"
STILL_BROKEN = "还是坏的"
# What residents and staff typed, and the names of places: shown as they are in every language.
DATA = ("翠湖花园", "锦绣华庭", "3栋", CONTENT, TOLD, RESOLUTION, STILL_BROKEN)
# Attributes a resident hears or reads (screen readers, placeholders, the script's words).
WORDED = {"alt", "title", "placeholder", "aria-label"}


@pytest.fixture(autouse=True)
def _back_to_chinese():
    """A request in English leaves English active in this thread; later tests expect the default."""
    yield
    translation.activate("zh-hans")


class Words(HTMLParser):
    """Every text and worded attribute of a page, except inside elements marked with their own
    language (the switch's 中文) and form fields' contents (what the resident typed)."""

    SKIP = {"textarea", "script", "style"}
    VOID = {"input", "img", "br", "meta", "link", "hr", "source"}

    def __init__(self):
        super().__init__()
        self.stack: list[bool] = []  # per open element: is its content skipped
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if value and (name in WORDED or name.startswith("data-")) and not self._skipping():
                self.texts.append(value)
        if tag not in self.VOID:
            skip = tag in self.SKIP or (tag != "html" and "lang" in attrs)
            self.stack.append(skip or self._skipping())

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self._skipping():
            self.texts.append(data)

    def _skipping(self) -> bool:
        return bool(self.stack and self.stack[-1])


def chinese_left(html: str) -> list[str]:
    """The page's own words that are still Chinese, data removed."""
    p = Words()
    p.feed(html)
    left = []
    for text in p.texts:
        for data in DATA:
            text = text.replace(data, "")
        if CJK.search(text):
            left.append(text.strip())
    return left


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def signed_in(user, client: Client | None = None) -> Client:
    client = client or english()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def file(org, **kwargs):
    params = dict(office="Y01", channel="online", content=CONTENT, unit=org.a.unit)
    params.update(kwargs)
    return services.register(org.resident, **params)


def dispatched(org):
    c = services.dispatch(file(org), org.supervisor, department=org.a.dept["engineering"])
    return services.note(c, org.supervisor, text=TOLD, tell_complainant=True)


def resolved(org):
    return services.resolve(dispatched(org), org.handler, resolution=RESOLUTION)


def rectifying(org):
    c = resolved(org)
    return services.call_back(
        c, org.resident, method="other", satisfaction="dissatisfied", words=STILL_BROKEN, version=c.version
    )


def test_the_checker_sees_chinese_and_chinese_is_the_default(client, org):
    """Without an English browser or a choice, the portal speaks Chinese (and the check above sees it)."""
    page = client.get(reverse("portal:login")).content.decode()
    assert 'lang="zh-hans"' in page and "获取验证码" in chinese_left(page)
    client.force_login(org.resident, backend="django.contrib.auth.backends.ModelBackend")
    file(org)
    home = client.get(reverse("portal:home")).content.decode()
    assert "我要反映问题" in home and "我的投诉" in chinese_left(home)
    assert "Make a complaint" not in home


def test_an_english_phone_signs_in_in_english(org, portal_home, django_capture_on_commit_callbacks):
    client = english()
    page = client.get(reverse("portal:login")).content.decode()
    assert 'lang="en"' in page and "Send me a code" in page and "Mobile number" in page
    assert chinese_left(page) == []

    refused = client.post(reverse("portal:login"), {"phone": "12"})
    assert "Enter your 11-digit mobile number." in refused.content.decode()
    assert chinese_left(refused.content.decode()) == []

    phone = org.a.resident.phone
    assert ask_code(client, django_capture_on_commit_callbacks, phone).status_code == 302
    # Texted in the page's language (after the sender's signature, 【客诉】, which is configured).
    sms = sms_lines(portal_home)[-1].split("】", 1)[1]
    assert sms.startswith("Your sign-in code is") and not CJK.search(sms)
    code = re.search(r"code is (\d{6})", sms).group(1)

    page = client.get(reverse("portal:code")).content.decode()
    assert "Enter your code" in page and "valid for 5 min." in page and "Send again" in page
    assert 'data-wait-words=" ({seconds} s)"' in page
    assert chinese_left(page) == []
    wrong = client.post(reverse("portal:code"), {"code": "000000" if code != "000000" else "111111"})
    assert "The code is wrong or has expired" in wrong.content.decode()
    assert chinese_left(wrong.content.decode()) == []

    home = client.post(reverse("portal:code"), {"code": code}, follow=True).content.decode()
    assert "My complaints" in home and "Make a complaint" in home
    assert chinese_left(home) == []


def test_the_resident_pages_in_english(org, settings):
    """Home and list, the form, each kind of complaint page with its progress, a signed link, sent,
    not found, forbidden, too many: headings, labels, buttons, legends, hints and statuses are English."""
    new = file(org)
    working = dispatched(org)
    done = resolved(org)
    again = rectifying(org)
    client = signed_in(org.resident)
    building = org.a.unit.building
    pages = {
        "home": client.get(reverse("portal:home"), {"o": "Y01", "b": building.pk}),
        "home, no QR": client.get(reverse("portal:home")),
        "form": client.get(reverse("portal:new"), {"o": "Y01", "b": building.pk}),
        "sent": client.get(reverse("portal:sent", args=[new.number])),
        "received": client.get(reverse("portal:detail", args=[new.number])),
        "in progress": client.get(reverse("portal:detail", args=[working.number])),
        "to rate": client.get(reverse("portal:detail", args=[done.number])),
        "rectifying": client.get(reverse("portal:detail", args=[again.number])),
        "signed link": english().get(urlsplit(links.complaint_url(done)).path),
        "not found": client.get(reverse("portal:detail", args=["Y01-209901-0001"])),
        "forbidden": client.get(reverse("portal:qr")),
    }
    settings.KESU_PORTAL_SUBMISSIONS_PER_HOUR = 0
    pages["too many"] = client.post(reverse("portal:new"), {"key": complain_form(client)})
    assert [r.status_code for r in pages.values()] == [200] * 9 + [404, 403, 429]
    for name, response in pages.items():
        html = response.content.decode()
        assert 'lang="en"' in html, name
        assert chinese_left(html) == [], name
    home = pages["home"].content.decode()
    assert "You scanned the QR code of <b>翠湖花园 3栋</b>" in home and "My homes" in home
    assert "Please rate" in home and "Resolved, awaiting follow-up" in home and "Received" in home
    assert "Expected to be put right by" in home
    form = pages["form"].content.decode()
    for words in ("Which home", "What happened", "Type of problem", "Lifts &amp; utilities", "Not sure"):
        assert words in form
    assert "(optional, at most 6)" in form and "Best time to call" in form and ">Send</button>" in form
    assert 'data-photos-dropped="Only 6 photos allowed; the rest were left out."' in form
    rate = pages["to rate"].content.decode()
    assert "Are you happy with the result?" in rate and "Send rating" in rate and "Progress" in rate
    assert "We received your complaint" in rate and "Progress update" in rate and RESOLUTION in rate
    assert "Withdraw this complaint" in pages["received"].content.decode()
    assert "Sign in and rate" in pages["signed link"].content.decode()
    assert "Complaint not found" in pages["not found"].content.decode()
    assert "Too many attempts at sending complaints" in pages["too many"].content.decode()
    assert "for property office staff only" in pages["forbidden"].content.decode()


def test_staff_print_page_in_english(org):
    page = signed_in(org.supervisor).get(reverse("portal:qr")).content.decode()
    assert "Resident service QR codes" in page and "1 building" in page
    assert chinese_left(page) == []


def test_a_form_error_is_in_english(org):
    client = signed_in(org.resident)
    key = complain_form(client)
    response = client.post(reverse("portal:new"), {"key": key, "unit": org.a.unit.pk, "content": "灯坏"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Not sent yet. Please fix what is marked in red below." in html
    assert "Please tell us a little more about what happened (at least 5 characters)." in html
    assert chinese_left(html) == []
    assert not Complaint.objects.exists()


def test_a_rating_without_words_when_dissatisfied_is_refused_in_english(org):
    c = resolved(org)
    client = signed_in(org.resident)
    response = client.post(
        reverse("portal:rate", args=[c.number]), {"satisfaction": "dissatisfied", "version": c.version}
    )
    assert response.status_code == 400
    assert "Please tell us what is still wrong, so we can put it right." in response.content.decode()
    assert chinese_left(response.content.decode()) == []


def test_the_footer_switch_changes_the_language_and_comes_back(org):
    client = signed_in(org.resident, Client())
    page = client.get(reverse("portal:home")).content.decode()
    assert "我的投诉" in page
    form = re.search(r'<form method="post" action="([^"]+)" class="lang-switch"', page)
    back = re.search(r'name="next" value="([^"]+)"', page[form.end() :])
    assert form and back and back.group(1) == reverse("portal:home")
    assert '<button type="submit" name="language" value="en" lang="en">English</button>' in page

    response = client.post(form.group(1), {"language": "en", "next": back.group(1)})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    page = client.get(response["Location"]).content.decode()
    assert 'lang="en"' in page and "My complaints" in page and chinese_left(page) == []
    assert '<button type="submit" name="language" value="zh-hans" lang="zh-hans">中文</button>' in page

    client.post(form.group(1), {"language": "zh-hans", "next": back.group(1)})
    assert "我的投诉" in client.get(reverse("portal:home")).content.decode()


def test_the_switch_works_before_signing_in(db):
    client = Client()
    client.post(reverse("web:set_language"), {"language": "en", "next": reverse("portal:login")})
    page = client.get(reverse("portal:login")).content.decode()
    assert "Send me a code" in page and chinese_left(page) == []


def test_progress_words_in_english(org):
    c = rectifying(org)
    now = local(2026, 3, 10, 10, 0)
    with translation.override("en"):
        assert progress.status_words(c) == progress.StatusWords("In progress", "work", "Being put right")
        assert progress.when(local(2026, 3, 12, 9, 5), now) == "Mar 12, 09:05"
        assert progress.when(local(2027, 1, 5, 10, 0), now) == "2027-01-05 10:00"
        assert progress.deadline_words(c).startswith("Expected to be put right by ")
        titles = [e.title for e in progress.timeline(c)]
        assert "Your rating: Dissatisfied" in titles and "We arranged to put it right" in titles
    with translation.override("zh-hans"):
        assert progress.when(local(2026, 3, 12, 9, 5), now) == "3月12日 09:05"


def test_the_error_page_in_english_and_in_chinese():
    with translation.override("en"):
        page = render_to_string("500.html")
    assert "<h1>Something went wrong</h1>" in page and not CJK.search(page)
    with translation.override("zh-hans"):
        page = render_to_string("500.html")
    assert "<h1>系统出错</h1>" in page and "Sorry, something went wrong. Please try again later." in page
