"""The address links in messages use (SMS, e-mail, QR sheets) when KESU_BASE_URL is not set: the one
`kesu serve` / `kesu demo` serve on, instead of settings' fixed http://127.0.0.1:8000, so a demo served
on another port does not send links that lead nowhere.

Applied to the running settings before serving (the sweeper that sends messages runs in the serving
process, and gunicorn's workers are forked from it), and said in the start-up output.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping

from django.conf import settings

WILDCARDS = {"", "0.0.0.0", "::"}


def reachable_host(host: str) -> str:
    """The host a phone or another PC can reach: the machine's own LAN address when serving on every
    interface (0.0.0.0), else the host as given."""
    if host not in WILDCARDS:
        return host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # a documentation address: UDP connect sends nothing
            address = s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    return address if address not in WILDCARDS else "127.0.0.1"


def served_url(host: str, port: int) -> str:
    host = reachable_host(host)
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a name
    return f"http://{host}:{port}"


def follow_served_address(host: str, port: int, environ: Mapping[str, str] | None = None) -> str:
    """Point KESU_BASE_URL (and KESU_PORTAL_BASE_URL, which defaults to it) at the served address unless
    the environment sets them; return the start-up line saying which base URL messages use."""
    env = os.environ if environ is None else environ
    if env.get("KESU_BASE_URL", "").strip():
        line = f"消息中的链接 links in messages: {settings.KESU_BASE_URL}（KESU_BASE_URL）"
    else:
        url = served_url(host, port)
        settings.KESU_BASE_URL = url
        if not env.get("KESU_PORTAL_BASE_URL", "").strip():
            settings.KESU_PORTAL_BASE_URL = url
        line = (
            f"消息中的链接 links in messages: {url}（按服务地址；正式使用请设置 KESU_BASE_URL "
            "follows the served address: set KESU_BASE_URL for the address users reach）"
        )
    if settings.KESU_PORTAL_BASE_URL.rstrip("/") != settings.KESU_BASE_URL.rstrip("/"):
        line += f"\n住户端链接与二维码 portal links and QR codes: {settings.KESU_PORTAL_BASE_URL}"
    return line
