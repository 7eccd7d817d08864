"""Rate limits per key (or signed-in user) and per client address, on the Django cache.

The rates are read from settings on every request (KESU_API_RATE_PER_KEY / _PER_IP), so tests and
deployments can change them without touching DRF's class attributes. With several processes the
cache must be shared (Redis) for the limits to be global; the local-memory cache counts per process.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from kesu.org.client import client_ip

from .auth import key_of


class _SettingsRate(SimpleRateThrottle):
    setting = ""

    def get_rate(self) -> str | None:
        return getattr(settings, self.setting, None) or None


class KeyRateThrottle(_SettingsRate):
    scope = "api_key"
    setting = "KESU_API_RATE_PER_KEY"

    def get_cache_key(self, request, view) -> str | None:
        key = key_of(request)
        if key is not None:
            ident = f"key:{key.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IpRateThrottle(_SettingsRate):
    scope = "api_ip"
    setting = "KESU_API_RATE_PER_IP"

    def get_ident(self, request) -> str:
        """The client address every per-address rule uses (KESU_NUM_PROXIES), not DRF's own."""
        return client_ip(request) or "unknown"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
