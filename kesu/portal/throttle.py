"""Rate limits by client address, in the Django cache (fixed windows).

Limits by phone and by resident are counted in the database (codes issued, complaints filed), which
every web process shares; the address limits use the cache, which is shared only when the cache is
(Redis in the scaled mode)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address KESU_NUM_PROXIES trusted proxies in front of Kesu saw."""
    proxies = settings.KESU_PORTAL_NUM_PROXIES
    if proxies > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


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
