"""Rate limits by client address, counted in the store every web process shares (kesu.org.ratelimit).

Limits by phone and by resident are counted in the database (codes issued, complaints filed)."""

from __future__ import annotations

from django.http import HttpRequest

from kesu.org import client as org_client
from kesu.org import ratelimit


def client_ip(request: HttpRequest) -> str:
    """The client's address (kesu.org.client.client_ip: REMOTE_ADDR, or what KESU_NUM_PROXIES trusted
    proxies saw), "" when the request has none that is valid."""
    return org_client.client_ip(request) or ""


def hit(scope: str, who: str, *, limit: int, window: int) -> bool:
    """Count one hit; False once `who` made more than `limit` hits of `scope` in the last `window` s."""
    return ratelimit.hit(f"portal:{scope}", who, limit=limit, window=window)


def retry_after(window: int) -> int:
    """Seconds until the current window ends."""
    return ratelimit.retry_after(window)
