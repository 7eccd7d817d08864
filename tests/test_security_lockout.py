"""Password guessing and its lock-out (issue 13, findings 8 and 15c).

Behind a proxy (KESU_NUM_PROXIES=1) every request arrives from the proxy's address: the lock-out must
count by the client's address, the same one the API and portal limits use, or five wrong passwords
from anywhere lock an account for everyone. And one address trying one password across many user
names (password spraying) is stopped by a per-address limit, which a success of its own does not reset.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from web_support import url

from kesu.org.client import client_ip

PROXY = "10.0.0.2"
RIGHT = "pw-12345678"


def via_proxy(client_address: str) -> Client:
    """A browser at `client_address` whose requests reach Kesu through one reverse proxy."""
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)


def sign_in(client: Client, username: str, password: str):
    return client.post(url("login"), {"username": username, "password": password})


@pytest.fixture
def one_proxy(settings):
    settings.KESU_NUM_PROXIES = 1


def test_the_client_address_behind_a_proxy_is_the_one_the_proxy_saw(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    settings.KESU_NUM_PROXIES = 0
    assert client_ip(request) == PROXY
    settings.KESU_NUM_PROXIES = 1
    assert client_ip(request) == "203.0.113.9"  # what a client puts first is not trusted
    settings.KESU_NUM_PROXIES = 2
    assert client_ip(request) == "198.51.100.7"
    settings.KESU_NUM_PROXIES = 1
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY)) == PROXY  # no header: the connection's
    # A header that is not an address (a misconfigured proxy) never reaches an IP address column.
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>")) == PROXY


def test_axes_the_api_and_the_portal_use_one_client_address(one_proxy):
    from axes.helpers import get_client_ip_address
    from rest_framework.request import Request

    from kesu.api.throttles import IpRateThrottle
    from kesu.portal import throttle

    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert get_client_ip_address(request) == "203.0.113.9"
    assert IpRateThrottle().get_ident(Request(request)) == "203.0.113.9"
    assert throttle.client_ip(request) == "203.0.113.9"


def test_behind_a_proxy_a_guesser_locks_only_themselves(org, one_proxy):
    guesser = via_proxy("203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        r = sign_in(guesser, "admin_like", "wrong")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        r = sign_in(guesser, "reception", "wrong")
    assert r.status_code == 429
    assert sign_in(guesser, "reception", RIGHT).status_code == 429  # locked, even with the password
    # The receptionist at the front desk, behind the same proxy, still signs in.
    desk = via_proxy("198.51.100.20")
    r = sign_in(desk, "reception", RIGHT)
    assert r.status_code == 302 and r["Location"] == "/"


def test_spraying_one_password_across_user_names_from_one_address_is_stopped(org, one_proxy, settings):
    settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP = 8
    sprayer = via_proxy("203.0.113.9")
    names = [f"user{i}" for i in range(settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP)]
    statuses = [sign_in(sprayer, name, "Passw0rd!").status_code for name in names]
    assert statuses[:-1] == [200] * (len(names) - 1)  # each user name fails once only
    assert statuses[-1] == 429
    r = sign_in(sprayer, "supervisor", RIGHT)  # a right password does not get through either
    assert r.status_code == 429
    assert "此地址登录失败次数过多" in r.content.decode()
    # Others are not locked out by it.
    assert sign_in(via_proxy("198.51.100.20"), "supervisor", RIGHT).status_code == 302


def test_a_sprayer_cannot_reset_the_address_count_by_signing_in_with_an_own_account(org, settings):
    settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP = 6
    sprayer = Client()
    for i in range(3):
        assert sign_in(sprayer, f"user{i}", "Passw0rd!").status_code == 200
    assert sign_in(sprayer, "handler", RIGHT).status_code == 302  # their own account
    sprayer.post(url("logout"))
    for i in range(3, 5):
        assert sign_in(sprayer, f"user{i}", "Passw0rd!").status_code == 200
    assert sign_in(sprayer, "user5", "Passw0rd!").status_code == 429


def test_a_users_own_success_still_resets_their_own_count(org):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "reception", "wrong").status_code == 200
    assert sign_in(client, "reception", RIGHT).status_code == 302
    client.post(url("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "reception", "wrong").status_code == 200


def test_the_per_address_limit_can_be_switched_off(org, settings):
    settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP = 0
    client = Client()
    for i in range(40):
        assert sign_in(client, f"user{i}", "Passw0rd!").status_code == 200


def test_the_admin_sign_in_is_guarded_the_same_way(org, one_proxy, settings):
    settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP = 4
    sprayer = via_proxy("203.0.113.9")
    for i in range(4):
        r = sprayer.post("/admin/login/", {"username": f"user{i}", "password": "x", "next": "/admin/"})
    assert r.status_code == 429
    desk = via_proxy("198.51.100.20")
    r = desk.post("/admin/login/", {"username": "user0", "password": "x", "next": "/admin/"})
    assert r.status_code == 200
