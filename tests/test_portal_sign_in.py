"""Signing in to the resident portal with a one-time SMS code: expiry, single use, limited tries,
limits per phone and per address, and the same answers for numbers that are not registered."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from portal_support import ask_code, codes_sent, enter_code, last_code, portal_home_fixture, sign_in  # noqa: F401

from kesu.notify.models import Outbox
from kesu.org.models import User
from kesu.portal.models import LoginCode

pytestmark = pytest.mark.usefixtures("db", "portal_home")
UNKNOWN = "13900000001"


@pytest.fixture
def phone(org):
    return org.a.resident.phone


def test_a_registered_resident_signs_in_with_the_code_from_the_sms_log(
    client, org, phone, portal_home, django_capture_on_commit_callbacks
):
    response = ask_code(client, django_capture_on_commit_callbacks, phone)
    assert response.status_code == 302 and response["Location"] == reverse("portal:code")
    code = last_code(portal_home, phone)
    page = client.get(reverse("portal:code")).content.decode()
    assert "138****" in page and phone not in page.replace(f'value="{phone}"', "")

    response = enter_code(client, code)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    user = User.objects.get(pk=client.session[SESSION_KEY])
    # The account the lifecycle tests use for this phone (the `org.resident` persona) is reused.
    assert user == org.resident and user.role == "resident"
    home = client.get(reverse("portal:home")).content.decode()
    assert "翠湖花园 3栋-1201" in home


def test_a_first_sign_in_creates_a_passwordless_resident_account(
    client, org, portal_home, django_capture_on_commit_callbacks
):
    from kesu.org.models import Resident

    phone = "13700137000"
    Resident.objects.create(unit=org.b.unit, name="李梅", phone=phone)
    sign_in(client, django_capture_on_commit_callbacks, portal_home, phone)
    user = User.objects.get(role="resident", phone=phone)
    assert (user.role, user.phone, user.has_usable_password()) == ("resident", phone, False)
    assert "李梅" not in str(user)  # staff see "住户（网上自助）" as the receiver, not the person
    assert phone[-4:] not in user.username  # and its name says nothing about the person
    assert client.session[SESSION_KEY] == str(user.pk)


def test_the_code_is_kept_only_as_a_hash_and_the_sent_sms_keeps_no_readable_copy(
    client, phone, portal_home, django_capture_on_commit_callbacks
):
    ask_code(client, django_capture_on_commit_callbacks, phone)
    code = last_code(portal_home, phone)
    row = LoginCode.objects.get(phone=phone)
    assert code not in row.code_hash and len(row.code_hash) == 64
    sms = Outbox.objects.get(kind="otp", address=phone)
    assert (sms.channel, sms.state) == ("sms", "sent")
    assert code not in sms.body and "******" in sms.body


def test_an_unknown_phone_gets_the_same_answers_and_no_sms(
    client, phone, portal_home, django_capture_on_commit_callbacks
):
    known = ask_code(client, django_capture_on_commit_callbacks, phone)
    other = Client()
    unknown = ask_code(other, django_capture_on_commit_callbacks, UNKNOWN)
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert codes_sent(portal_home, UNKNOWN) == []
    assert not Outbox.objects.filter(address=UNKNOWN).exists()

    wrong_for_known = enter_code(client, "000000")
    guess_for_unknown = enter_code(other, "123456")
    assert wrong_for_known.status_code == guess_for_unknown.status_code == 200
    for response in (wrong_for_known, guess_for_unknown):
        assert "验证码不正确或已失效" in response.content.decode()
    assert not User.objects.filter(phone=UNKNOWN).exists()


def test_an_unknown_phone_cannot_sign_in_even_with_its_never_sent_code(
    client, django_capture_on_commit_callbacks
):
    ask_code(client, django_capture_on_commit_callbacks, UNKNOWN)
    with mock.patch("kesu.portal.codes.constant_time_compare", return_value=True):  # a lucky guess
        response = enter_code(client, "123456")
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert not User.objects.filter(phone=UNKNOWN).exists()


def test_an_expired_code_does_not_sign_in(client, phone, portal_home, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks, phone)
    code = last_code(portal_home, phone)
    six_minutes_later = timezone.now() + dt.timedelta(minutes=6)
    with mock.patch("kesu.portal.codes.timezone.now", return_value=six_minutes_later):
        response = enter_code(client, code)
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert "验证码不正确或已失效" in response.content.decode()


def test_a_used_code_cannot_be_used_again(client, phone, portal_home, django_capture_on_commit_callbacks):
    sign_in(client, django_capture_on_commit_callbacks, portal_home, phone)
    code = last_code(portal_home, phone)
    # Someone who saw the SMS tries it on another phone, on the code page for the same number.
    other = Client()
    session = other.session
    session["portal_phone"] = phone
    session.save()
    response = enter_code(other, code)
    assert response.status_code == 200 and SESSION_KEY not in other.session
    assert "验证码不正确或已失效" in response.content.decode()


def test_a_new_code_replaces_the_previous_one(client, phone, portal_home, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks, phone)
    first = last_code(portal_home, phone)
    with mock.patch("kesu.portal.codes.timezone.now", return_value=timezone.now() + dt.timedelta(seconds=61)):
        ask_code(client, django_capture_on_commit_callbacks, phone)
    second = last_code(portal_home, phone)
    if first != second:
        assert enter_code(client, first).status_code == 200 and SESSION_KEY not in client.session
    assert enter_code(client, second).status_code == 302


def test_five_wrong_tries_use_up_the_code(client, phone, portal_home, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks, phone)
    code = last_code(portal_home, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert enter_code(client, wrong).status_code == 200
    assert enter_code(client, code).status_code == 200 and SESSION_KEY not in client.session


def test_a_phone_may_ask_once_a_minute_and_five_times_an_hour(
    client, phone, portal_home, django_capture_on_commit_callbacks
):
    assert ask_code(client, django_capture_on_commit_callbacks, phone).status_code == 302
    again = ask_code(Client(), django_capture_on_commit_callbacks, phone)
    assert again.status_code == 429 and "秒后再试" in again.content.decode()
    # The same visitor coming back to the form is sent on to enter the code already on its way.
    back = ask_code(client, django_capture_on_commit_callbacks, phone)
    assert back["Location"] == reverse("portal:code") and len(codes_sent(portal_home, phone)) == 1
    start = timezone.now()
    for minute in range(1, 5):
        with mock.patch("kesu.portal.codes.timezone.now", return_value=start + dt.timedelta(minutes=minute)):
            assert ask_code(client, django_capture_on_commit_callbacks, phone).status_code == 302
    with mock.patch("kesu.portal.codes.timezone.now", return_value=start + dt.timedelta(minutes=10)):
        sixth = ask_code(client, django_capture_on_commit_callbacks, phone)
    assert sixth.status_code == 429 and "分钟后再试" in sixth.content.decode()
    assert len(codes_sent(portal_home, phone)) == 5


def test_an_unknown_phone_meets_the_same_limits(client, django_capture_on_commit_callbacks):
    assert ask_code(client, django_capture_on_commit_callbacks, UNKNOWN).status_code == 302
    assert ask_code(Client(), django_capture_on_commit_callbacks, UNKNOWN).status_code == 429
    assert ask_code(client, django_capture_on_commit_callbacks, UNKNOWN)["Location"] == reverse("portal:code")


def test_a_flood_of_code_requests_from_one_address_is_refused(
    client, settings, portal_home, django_capture_on_commit_callbacks
):
    settings.KESU_PORTAL_CODES_PER_IP_HOUR = 10
    answers = [
        ask_code(client, django_capture_on_commit_callbacks, f"1390000{n:04d}").status_code for n in range(12)
    ]
    assert answers[:10] == [302] * 10 and answers[10:] == [429, 429]
    refused = ask_code(client, django_capture_on_commit_callbacks, "13900009999")
    assert "操作太频繁" in refused.content.decode() and int(refused["Retry-After"]) > 0
    assert LoginCode.objects.count() == 10  # refused requests write nothing
    # Another address is not held up by this one.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert ask_code(other, django_capture_on_commit_callbacks, "13900009999").status_code == 302


def test_a_flood_of_code_guesses_from_one_address_is_refused(
    client, phone, settings, django_capture_on_commit_callbacks
):
    settings.KESU_PORTAL_VERIFY_PER_IP_HOUR = 8
    ask_code(client, django_capture_on_commit_callbacks, phone)
    answers = [enter_code(client, f"{n:06d}").status_code for n in range(10)]
    assert answers[-1] == 429 and answers.count(429) == 2


def test_the_code_page_needs_a_phone_first(client):
    assert client.get(reverse("portal:code"))["Location"] == reverse("portal:login")


def test_portal_pages_need_a_resident_and_come_back_after_sign_in(
    client, org, phone, portal_home, django_capture_on_commit_callbacks
):
    target = reverse("portal:new") + "?o=Y01"
    response = client.get(target)
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    ask_code(client, django_capture_on_commit_callbacks, phone, next_url=target)
    assert enter_code(client, last_code(portal_home, phone))["Location"] == target


def test_a_staff_session_is_not_a_resident_session(client, org):
    client.force_login(org.supervisor)
    assert client.get(reverse("portal:home")).status_code == 302


def test_next_stays_inside_the_portal(client, phone, portal_home, django_capture_on_commit_callbacks):
    ask_code(client, django_capture_on_commit_callbacks, phone, next_url="https://evil.example/portal/")
    assert enter_code(client, last_code(portal_home, phone))["Location"] == reverse("portal:home")


def test_forms_are_refused_without_the_csrf_token(org, phone):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("portal:login"), {"phone": phone}).status_code == 403
    assert not LoginCode.objects.exists()


def test_portal_pages_carry_a_strict_content_security_policy(client):
    response = client.get(reverse("portal:login"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<script>" not in page and "http://" not in page.split("<body>")[0] + page.split("</main>")[-1]
