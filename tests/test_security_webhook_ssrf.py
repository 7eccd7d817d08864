"""Webhooks and robots reach public addresses only (issue 13, finding 7; docs/decisions/0010).

Before, any URL was accepted for a webhook subscription — loopback, the cloud metadata service at
169.254.169.254, the office LAN — and the deliveries list reported each connection error verbatim
("[Errno 111] Connection refused", "timed out", "BadStatusLine"), so a manager could map the
internal network through Kesu. Now a destination is resolved once, every address checked, and the
request goes to exactly the addresses checked (so a name that turns private between the check and the
connection never reaches the private address); KESU_WEBHOOK_ALLOWED_HOSTS lets chosen hosts or
networks through; every failure reads "连接失败".

The test settings allow 127.0.0.1 for the other tests' local receivers; here nothing is allowed
unless a test says so.
"""

from __future__ import annotations

import http.server
import socket
import threading
from types import SimpleNamespace

import pytest
from api_support import Receiver, api_for, assert_problem, free_port
from django.test import Client

from kesu.api.models import WebhookSubscription
from kesu.api.webhooks import deliver_webhooks
from kesu.notify import outbound
from kesu.notify.channels import Permanent
from kesu.notify.channels.robots import WeCom
from kesu.notify.models import OfficeChannel, Outbox

pytest_plugins = ["notify_support"]  # fixtures: notify_env, http_sink

PUBLIC = "93.184.215.14"  # a public address (nothing in these tests connects to it)
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CONNECT = socket.socket.connect


@pytest.fixture(autouse=True)
def nothing_allowed(settings):
    settings.KESU_WEBHOOK_ALLOWED_HOSTS = []
    settings.KESU_WEBHOOK_TIMEOUT_SECONDS = 1


@pytest.fixture
def dns(monkeypatch):
    """Made-up names resolve to the addresses a test gives them, in turn (the last one repeats)."""
    names: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.lower() in names:
            lookups.append(host)
            answers = names[host.lower()]
            host = answers.pop(0) if len(answers) > 1 else answers[0]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return SimpleNamespace(names=names, lookups=lookups)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _subscribe(org, url: str) -> WebhookSubscription:
    """Stored as an older version (or a direct database write) would have: no check on the way in."""
    return WebhookSubscription.objects.create(
        owner=org.director, url=url, events=["registered"], secret="s3cret-s3cret-s3cret"
    )


def _row(sub: WebhookSubscription) -> Outbox:
    return Outbox.objects.get(channel=Outbox.Channel.WEBHOOK, payload__subscription=sub.pk)


INTERNAL = [
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://10.1.2.3/hooks",
    "http://172.16.0.1/hooks",
    "http://172.31.255.254/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://[::1]/hooks",
    "http://[fc00::1]/hooks",
    "http://[fd12:3456:789a::1]/hooks",
    "http://[fe80::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[::ffff:169.254.169.254]/hooks",
    "https://[::ffff:10.0.0.1]/hooks",
]


# --- subscribing ---


@pytest.mark.django_db
@pytest.mark.parametrize("url", INTERNAL)
def test_the_api_refuses_an_internal_destination_with_a_clear_message(org, url):
    problem = assert_problem(
        api_for(org.director).post("/webhooks/", {"url": url, "events": ["closed"]}), 400
    )
    assert "公网地址" in problem["errors"]["url"], problem
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/"]
)
def test_the_api_refuses_other_spellings_of_loopback(org, url):
    problem = assert_problem(
        api_for(org.director).post("/webhooks/", {"url": url, "events": ["closed"]}), 400
    )
    assert "url" in problem["errors"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_a_name_that_resolves_to_loopback_is_refused(org, dns):
    dns.names["hooks.partner.example"] = ["127.0.0.1"]
    response = api_for(org.director).post(
        "/webhooks/", {"url": "https://hooks.partner.example/kesu", "events": ["closed"]}
    )
    assert "公网地址" in assert_problem(response, 400)["errors"]["url"]


@pytest.mark.django_db
def test_a_name_that_resolves_to_a_public_and_a_private_address_is_refused(org, monkeypatch):
    def two_addresses(host, port, *args, **kwargs):
        if host == "split.partner.example":
            return REAL_GETADDRINFO(PUBLIC, port, *args, **kwargs) + REAL_GETADDRINFO("10.0.0.7", port)
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    response = api_for(org.director).post(
        "/webhooks/", {"url": "https://split.partner.example/kesu", "events": ["closed"]}
    )
    assert_problem(response, 400)


@pytest.mark.django_db
def test_changing_a_subscription_to_an_internal_destination_is_refused(org):
    api = api_for(org.director)
    sid = api.post("/webhooks/", {"url": f"https://{PUBLIC}/hooks", "events": ["closed"]}).json()["id"]
    problem = assert_problem(api.patch(f"/webhooks/{sid}/", {"url": "http://169.254.169.254/"}), 400)
    assert "公网地址" in problem["errors"]["url"]
    assert WebhookSubscription.objects.get().url == f"https://{PUBLIC}/hooks"


@pytest.mark.django_db
def test_the_admin_refuses_an_internal_destination_with_a_clear_message(org):
    from kesu.org.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-12345678"))
    form = {"name": "x", "events": ["closed"], "owner": org.director.pk, "is_active": "on"}
    response = client.post(
        "/admin/api/webhooksubscription/add/", {**form, "url": "http://169.254.169.254/latest/"}
    )
    assert response.status_code == 200 and "公网地址" in response.content.decode()
    assert not WebhookSubscription.objects.exists()
    # A robot's address is the same kind of destination, with the same rule.
    response = client.post(
        "/admin/notify/officechannel/add/",
        {"office": org.a.office.pk, "wecom_webhook": "http://10.0.0.8/robot", "kinds": "", "is_active": "on"},
    )
    assert response.status_code == 200 and "公网地址" in response.content.decode()
    assert not OfficeChannel.objects.exists()


@pytest.mark.django_db
def test_the_api_accepts_a_public_destination_and_a_name_that_does_not_resolve_yet(org):
    api = api_for(org.director)
    assert api.post("/webhooks/", {"url": f"https://{PUBLIC}/h", "events": ["closed"]}).status_code == 201
    # Unknown today: accepted, and checked at every delivery.
    assert api.post("/webhooks/", {"url": "https://nx.invalid/h", "events": ["closed"]}).status_code == 201


# --- delivering ---


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]"],
)
def test_a_stored_internal_destination_is_refused_at_delivery(org, receiver, host, make_complaint):
    sub = _subscribe(org, f"http://{host}:{receiver.port}/hooks")
    make_complaint()
    deliver_webhooks()
    assert receiver.attempts == []
    row = _row(sub)
    assert row.state == Outbox.State.PENDING and row.last_error == outbound.REFUSED


@pytest.mark.django_db
def test_a_name_public_when_subscribed_and_private_later_is_refused(org, dns, receiver, make_complaint):
    dns.names["hooks.partner.example"] = [PUBLIC, "127.0.0.1"]
    url = f"http://hooks.partner.example:{receiver.port}/kesu"
    assert api_for(org.director).post("/webhooks/", {"url": url, "events": ["registered"]}).status_code == 201
    make_complaint()
    deliver_webhooks()
    assert receiver.attempts == []
    assert _row(WebhookSubscription.objects.get()).last_error == outbound.REFUSED


@pytest.mark.django_db
def test_dns_rebinding_the_address_checked_is_the_address_connected_to(
    org, dns, receiver, monkeypatch, make_complaint
):
    # The name answers public to the first lookup and loopback to every later one: a deliverer that
    # checked one lookup and connected with another would reach the receiver on 127.0.0.1.
    dns.names["rebind.partner.example"] = [PUBLIC, "127.0.0.1"]
    connected = []

    def connect(sock, address):
        if address[0] == PUBLIC:
            connected.append(address[:2])
            raise ConnectionRefusedError(111, "Connection refused")
        return REAL_CONNECT(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    sub = _subscribe(org, f"http://rebind.partner.example:{receiver.port}/kesu")
    make_complaint()
    deliver_webhooks()
    assert receiver.attempts == []
    assert connected == [(PUBLIC, receiver.port)] and dns.lookups == ["rebind.partner.example"]
    assert _row(sub).last_error == outbound.UNREACHABLE


@pytest.mark.django_db
def test_the_peer_actually_reached_is_checked(org, dns, receiver, monkeypatch, make_complaint):
    # Whatever sits between (a NAT, a transparent proxy, a changed connect): the socket's peer decides.
    dns.names["nat.partner.example"] = [PUBLIC]

    def connect(sock, address):
        if address[0] == PUBLIC:
            address = ("127.0.0.1", receiver.port)
        return REAL_CONNECT(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    sub = _subscribe(org, f"http://nat.partner.example:{receiver.port}/kesu")
    make_complaint()
    deliver_webhooks()
    assert receiver.attempts == []  # connected, and closed before a byte of the complaint was sent
    assert _row(sub).last_error == outbound.REFUSED


class _Redirector:
    """Answers every POST with `status` and a Location pointing at `to`."""

    def __init__(self, status: int, to: str) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Location", to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(org, settings, receiver, status, make_complaint):
    settings.KESU_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    redirector = _Redirector(status, receiver.url)
    try:
        sub = _subscribe(org, redirector.url)
        make_complaint()
        deliver_webhooks()
    finally:
        redirector.stop()
    assert receiver.attempts == []
    row = _row(sub)
    assert row.state == Outbox.State.PENDING and row.last_error == f"HTTP {status}"


# --- the allow-list ---


@pytest.mark.django_db
def test_the_allow_list_lets_a_named_host_through(org, settings, dns, receiver, make_complaint):
    settings.KESU_WEBHOOK_ALLOWED_HOSTS = ["erp.intranet.example"]
    dns.names["erp.intranet.example"] = ["127.0.0.1"]
    dns.names["other.intranet.example"] = ["127.0.0.1"]
    api = api_for(org.director)
    url = f"http://erp.intranet.example:{receiver.port}/kesu"
    assert api.post("/webhooks/", {"url": url, "events": ["registered"]}).status_code == 201
    other = f"http://other.intranet.example:{receiver.port}/kesu"
    assert_problem(api.post("/webhooks/", {"url": other, "events": ["registered"]}), 400)
    make_complaint()
    deliver_webhooks()
    assert len(receiver.received) == 1
    assert receiver.received[0][0]["host"] == f"erp.intranet.example:{receiver.port}"


@pytest.mark.django_db
def test_the_allow_list_lets_a_network_through(org, settings, receiver, make_complaint):
    settings.KESU_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8", "10.8.0.0/16"]
    api = api_for(org.director)
    assert api.post("/webhooks/", {"url": receiver.url, "events": ["registered"]}).status_code == 201
    assert api.post("/webhooks/", {"url": "http://10.8.3.4/h", "events": ["closed"]}).status_code == 201
    assert_problem(api.post("/webhooks/", {"url": "http://10.9.3.4/h", "events": ["closed"]}), 400)
    assert_problem(api.post("/webhooks/", {"url": "http://192.168.1.1/h", "events": ["closed"]}), 400)
    make_complaint()
    deliver_webhooks()
    assert len(receiver.received) == 1


# --- what failures say ---


def _silent_listener() -> socket.socket:
    """Accepts connections (the kernel does) and never answers: a filtered or hung service."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    return s


class _Banner:
    """Speaks something else than HTTP on connect (an SSH or Redis port)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")


@pytest.mark.django_db
def test_failures_say_connection_failed_and_nothing_about_the_network(org, settings, make_complaint):
    settings.KESU_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # even where a manager may send, no probing
    silent, banner = _silent_listener(), _Banner()
    try:
        ports = {"closed": free_port(), "silent": silent.getsockname()[1], "banner": banner.port}
        subs = {kind: _subscribe(org, f"http://127.0.0.1:{port}/hooks") for kind, port in ports.items()}
        subs["unresolvable"] = _subscribe(org, "http://nx.invalid/hooks")
        make_complaint()
        deliver_webhooks()
    finally:
        silent.close()
        banner.sock.close()
    api = api_for(org.director)
    shown = {
        kind: api.get(f"/webhooks/{sub.pk}/deliveries/").json()[0]["last_error"] for kind, sub in subs.items()
    }
    assert shown == dict.fromkeys(subs, "连接失败"), shown
    # What is stored (and the admin lists) is the same generic text.
    assert {row.last_error for row in Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK)} == {"连接失败"}


@pytest.mark.django_db
def test_an_old_detailed_error_is_shown_as_connection_failed(org, make_complaint):
    sub = _subscribe(org, f"https://{PUBLIC}/hooks")
    make_complaint()
    Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK).update(
        last_error="URLError: <urlopen error [Errno 111] Connection refused> 10.0.0.5:6379"
    )
    (delivery,) = api_for(org.director).get(f"/webhooks/{sub.pk}/deliveries/").json()
    assert delivery["last_error"] == "连接失败"


# --- robots: the same kind of destination ---


@pytest.mark.django_db
def test_a_robot_at_an_internal_address_is_refused_and_never_reached(org, notify_env, http_sink):
    channel = OfficeChannel.objects.create(
        office=org.a.office, wecom_webhook=http_sink.url("/cgi-bin/webhook")
    )
    row = Outbox(
        kind="major",
        channel=Outbox.Channel.WECOM,
        subject="重大投诉",
        body="…",
        payload={"office_channel": channel.pk},
        delivery_key="e1:major:oc",
    )
    with pytest.raises(Permanent, match="^连接失败"):
        WeCom().send(row)
    assert http_sink.requests == []


# --- the rule itself ---


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
    ],
)
def test_which_addresses_are_public(address, public):
    import ipaddress

    assert outbound.is_public(ipaddress.ip_address(address)) is public


@pytest.mark.django_db
def test_the_refusal_is_in_english_for_an_english_client(org):
    api = api_for(org.director, lang="en")
    problem = assert_problem(api.post("/webhooks/", {"url": "http://10.0.0.1/", "events": ["closed"]}), 400)
    assert problem["errors"]["url"].startswith("The receiver must be a public address")
