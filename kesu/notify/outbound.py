"""HTTP to an address someone typed into Kesu: webhook subscriptions and group/personal robots.

Such an address must not turn Kesu into a probe of its own network (docs/decisions/0010): a request
goes only to public addresses, unless KESU_WEBHOOK_ALLOWED_HOSTS names the host or a network that
holds the address (an ERP on the intranet). Refused: loopback, private (10/8, 172.16/12,
192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata service, fe80::/10), shared
(100.64/10), multicast, reserved and unspecified addresses, and IPv6 forms wrapping any of them
(::ffff:a.b.c.d, 6to4, NAT64).

- The check is on the addresses the name resolves to, never its spelling: 2130706433, 0x7f000001,
  0177.0.0.1, 127.1 and a name pointing at 127.0.0.1 are all loopback to it.
- One URL parse and one resolution per request: the addresses checked are the addresses connected
  to, so a name that resolves public for the check and private a moment later (DNS rebinding)
  never reaches the private one; the connected socket's peer is checked again all the same.
- Redirects are never followed (http.client does not follow them; a 3xx is a failure).
- Failures are told in words that say nothing about the network ("连接失败": no errno, host, port,
  or whether a port was closed, filtered or spoke something else); the details go to the log.

`validator` (for forms and serializers) and `post(url, body, headers, timeout)` are the whole interface.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import logging
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("kesu.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Address = tuple[int, tuple[Any, ...]]  # (family, sockaddr) as getaddrinfo gives them

# What a failed request says, in the outbox and the deliveries list (stored text, not translated).
UNREACHABLE = "连接失败"
REFUSED = "连接失败：接收地址不是允许的公网地址"
# For the one who types the address (forms, serializers, problem+json).
NOT_PUBLIC = _(
    "接收地址必须是公网地址，不能是本机、内网或链路本地地址（如 127.0.0.1、10.x、192.168.x、"
    "169.254.169.254）。确需发往内网的，请系统管理员在 KESU_WEBHOOK_ALLOWED_HOSTS 中允许该主机。"
)
BAD_URL = _("只支持 http 或 https 地址。")

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_MAX_ANSWER_BYTES = 64 * 1024


class Refused(Exception):
    """The destination is not allowed; `message` is for the person who typed it."""

    def __init__(self, message: Any) -> None:  # a lazily translated text
        super().__init__(message)
        self.message = message


class Unreachable(Exception):
    """The request did not get an HTTP answer (any network, TLS or protocol failure)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True)
class _Target:
    tls: bool
    host: str
    port: int
    path: str


def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused(BAD_URL) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Refused(BAD_URL)
    tls = parts.scheme.lower() == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(tls, parts.hostname, port or (443 if tls else 80), path)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
        if ip.is_site_local:
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _allowed() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    hosts: set[str] = set()
    networks = []
    for entry in getattr(settings, "KESU_WEBHOOK_ALLOWED_HOSTS", ()):
        entry = entry.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.rstrip("."))
    return hosts, networks


def permitted(host: str, ip: IPAddress) -> bool:
    """May Kesu connect to `ip` for a URL naming `host`?"""
    if is_public(ip):
        return True
    hosts, networks = _allowed()
    if host.lower().rstrip(".") in hosts:
        return True
    plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    return any(plain in net or ip in net for net in networks)


def _ip(sockaddr_host: str) -> IPAddress:
    return ipaddress.ip_address(sockaddr_host.split("%", 1)[0])  # drop an IPv6 scope (fe80::1%eth0)


def _resolve(target: _Target) -> list[_Address]:
    """The target's addresses, each one checked; Refused if any is not permitted (a name that also
    resolves to an internal address is refused as a whole), Unreachable if it does not resolve."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        log.info("outbound: %s does not resolve: %s", target.host, e)
        raise Unreachable(UNREACHABLE) from None
    addresses: list[_Address] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        if not permitted(target.host, _ip(str(sockaddr[0]))):
            log.warning("outbound: refused %s (resolves to %s)", target.host, sockaddr[0])
            raise Refused(NOT_PUBLIC)
        addresses.append((family, sockaddr))
    if not addresses:
        raise Unreachable(UNREACHABLE)
    return addresses


def check(url: str) -> None:
    """For forms and serializers: Refused (with a message for the user) when `url` may not be used.
    A name that does not resolve now is let through; every delivery checks it again."""
    target = _target(url)
    with contextlib.suppress(Unreachable):
        _resolve(target)


def validator(url: str) -> None:
    """check() as a Django validator, for every form and serializer that takes such an address."""
    try:
        check(url)
    except Refused as e:
        raise ValidationError(e.message, code="destination") from None


class _Connection(http.client.HTTPConnection):
    """Connects to the addresses resolved and checked before, never to the name again."""

    def __init__(self, target: _Target, addresses: list[_Address], timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses = addresses

    def _open(self) -> socket.socket:
        error: OSError = OSError("no address")
        for family, sockaddr in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
                peer = sock.getpeername()[0]
                if not permitted(self.host, _ip(peer)):  # what we actually reached, checked again
                    log.warning("outbound: refused %s (connected to %s)", self.host, peer)
                    raise Refused(NOT_PUBLIC)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as e:
                sock.close()
                error = e
            except BaseException:
                sock.close()
                raise
        raise error

    def connect(self) -> None:
        self.sock = self._open()


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # the system's CAs, loaded once


class _TLSConnection(_Connection):
    default_port = 443

    def connect(self) -> None:
        sock = self._open()
        try:
            # The certificate is checked against the name in the URL, as any client would.
            self.sock = _tls().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` and return the answer (its first 64 KB); never follows a redirect.
    Raises Refused (destination not allowed) or Unreachable (no HTTP answer)."""
    target = _target(url)
    addresses = _resolve(target)
    kind = _TLSConnection if target.tls else _Connection
    connection = kind(target, addresses, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(_MAX_ANSWER_BYTES))
    except Refused:
        raise
    except (OSError, http.client.HTTPException, ValueError) as e:
        log.info("outbound: POST to %s:%s failed: %r", target.host, target.port, e)
        raise Unreachable(UNREACHABLE) from None
    finally:
        connection.close()
