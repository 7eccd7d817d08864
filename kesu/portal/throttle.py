"""Rate limits by client address, in the Django cache (fixed windows).

Limits by phone and by resident are counted in the database (codes issued, complaints filed), which
every web process shares; the address limits use the cache, which is shared only when the cache is
(Redis in the scaled mode)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

from kesu.org import client as org_client


def client_ip(request: HttpRequest) -> str:
    """The client's address (kesu.org.client.client_ip: REMOTE_ADDR, or what KESU_NUM_PROXIES trusted
    proxies saw), "" when the request has none that is valid."""
    return org_client.client_ip(request) or ""


def hit(scope: str, who: str, *, limit: int, window: int) -> bool:
    """Count one hit; False once `who` made more than `limit` hits of `scope` in the current window."""
    if limit <= 0:
        return True
    slot = int(time.time() // window)
    key = f"portal:rate:{scope}:{who}:{slot}"
    if cache.add(key, 1, timeout=window + 5):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window + 5)
        count = 1
    return count <= limit


def retry_after(window: int) -> int:
    """Seconds until the current fixed window ends."""
    return int(window - time.time() % window) + 1
