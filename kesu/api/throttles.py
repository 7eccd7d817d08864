"""Rate limits per key (or signed-in user) and per client address, counted in the store every web
process shares (kesu.org.ratelimit: Redis in the scaled mode, a file of its own in the embedded one).

The rates are read from settings on every request (KESU_API_RATE_PER_KEY / _PER_IP, "600/min"), so
tests and deployments can change them without touching class attributes.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from kesu.org import ratelimit
from kesu.org.client import client_ip

from .auth import key_of

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "600/min" → (600, 60), as DRF reads rates (the period's first letter: s, m, h or d)."""
    number, _, period = rate.partition("/")
    try:
        return int(number), PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"a rate looks like 600/min, not {rate!r}") from None


class _CountedThrottle(BaseThrottle):
    scope = ""
    setting = ""
    window = 60

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = getattr(settings, self.setting, None)
        if not rate:
            return True
        ident = self.ident(request)
        if ident is None:
            return True
        limit, self.window = parse_rate(rate)
        return ratelimit.hit(f"api:{self.scope}", ident, limit=limit, window=self.window)

    def wait(self) -> float:
        return ratelimit.retry_after(self.window)


class KeyRateThrottle(_CountedThrottle):
    scope = "key"
    setting = "KESU_API_RATE_PER_KEY"

    def ident(self, request) -> str | None:
        key = key_of(request)
        if key is not None:
            return f"key:{key.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None


class IpRateThrottle(_CountedThrottle):
    scope = "ip"
    setting = "KESU_API_RATE_PER_IP"

    def ident(self, request) -> str:
        """The client address every per-address rule uses (KESU_NUM_PROXIES)."""
        return client_ip(request) or "unknown"

    def get_ident(self, request) -> str:
        return self.ident(request)
