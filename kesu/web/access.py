"""Who may use the staff workspace, and the htmx-aware ways of saying no.

Scoping of complaints is not decided here: every view goes through kesu.complaints.scope.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from kesu.org.choices import Role


def is_staff_user(user) -> bool:
    return bool(
        user.is_authenticated and user.is_active and (user.is_superuser or user.role != Role.RESIDENT)
    )


def staff_view(view):
    """Signed-in staff only. An htmx request whose session expired gets HX-Redirect to the sign-in
    page (with the page the user was on as `next`), not a login form swapped into a fragment."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            if getattr(request, "htmx", False):
                page = request.headers.get("HX-Current-URL", "") or request.get_full_path()
                # Keep only the path of the page: `next` must stay on this site.
                parts = urlsplit(page)
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                response = HttpResponse(status=200)
                response["HX-Redirect"] = f"{settings.LOGIN_URL}?{urlencode({'next': path})}"
                return response
            return redirect_to_login(request.get_full_path())
        if not is_staff_user(user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
