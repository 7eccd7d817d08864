"""What every workspace page needs (added to TEMPLATES in the web section of settings)."""

from __future__ import annotations

from kesu.complaints.scope import offices_for
from kesu.notify import inbox

from . import clock
from .access import is_staff_user


def workspace(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not is_staff_user(user):
        return {"countdown_words": clock.js_strings()}

    def unread_count() -> int:  # called only by templates that show the bell
        return inbox.unread_count(user)

    def can_register() -> bool:
        return offices_for(user).exists()

    def can_view_reports() -> bool:  # the reports' own rule (kesu.reports owns who may see them)
        try:
            from kesu.reports.monthly import can_view_reports as allowed
        except ImportError:
            return False
        return allowed(user)

    return {
        "countdown_words": clock.js_strings(),
        "unread_count": unread_count,
        "can_register": can_register,
        "can_view_reports": can_view_reports,
    }
