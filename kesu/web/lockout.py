"""The sign-in lock-out (django-axes, AXES_HANDLER): axes' database handler with a second limit.

Axes counts failures per user name and client address (AXES_LOCKOUT_PARAMETERS) and locks that pair
after AXES_FAILURE_LIMIT (KESU_LOGIN_FAILURE_LIMIT). That alone leaves password spraying open: one
address trying one likely password against every user name fails once per name and is never locked.
So failures are also counted per client address, over all user names, and the address is locked
after KESU_LOGIN_FAILURE_LIMIT_PER_IP of them within the cool-off (0 switches it off). It is a
separate count rather than a second axes lockout parameter because it needs its own, higher limit (an
office's staff share one address through NAT) and because a success must reset only the user's own
failures: with ["ip_address"] as a parameter, a sprayer's sign-in with their own account would wipe
the address's count.

The client address is kesu.org.client.client_ip (AXES_CLIENT_IP_CALLABLE), as for every rate limit.
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def address_failures(request) -> int:
    """Failed sign-ins from the request's client address, over all user names, within the cool-off."""
    ip = getattr(request, "axes_ip_address", None)
    if not ip:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=ip)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def address_locked(request) -> bool:
    limit = settings.KESU_LOGIN_FAILURE_LIMIT_PER_IP
    return limit > 0 and address_failures(request) >= limit


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """The user name's failures from this address, or at least the limit when the address as a
        whole is locked (axes compares this number with AXES_FAILURE_LIMIT)."""
        failures = super().get_failures(request, credentials)
        if address_locked(request):
            request.kesu_address_locked = True
            return max(failures, get_failure_limit(request, credentials))
        return failures
