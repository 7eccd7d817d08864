"""The client's address of a request: the one function every per-address rule uses (the API's and the
portal's rate limits, the sign-in lock-out of django-axes through AXES_CLIENT_IP_CALLABLE).

REMOTE_ADDR, unless Kesu runs behind KESU_NUM_PROXIES trusted reverse proxies: then the address the
outermost of them saw, read from the right of X-Forwarded-For (each proxy appends the address it was
reached from; whatever the client itself wrote there, further left, is not trusted). Only a real IP
address is returned: it is stored in IP address columns (PostgreSQL's inet)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the request carries none that is valid."""
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    proxies = getattr(settings, "KESU_NUM_PROXIES", 0)
    if proxies > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            return _address(forwarded[-min(proxies, len(forwarded))]) or remote
    return remote
