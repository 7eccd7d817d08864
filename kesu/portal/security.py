"""Headers every portal page carries, and who may see the resident pages."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from kesu.org.choices import Role

# Only our own files: no inline script, no third-party anything. Photos previewed from the camera
# are blob: URLs; inline SVG icons are markup, not resources.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
    ]
)


def protect(response: HttpResponse) -> HttpResponse:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "same-origin"  # a signed link in the URL stays here
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not response.has_header("Cache-Control"):
        add_never_cache_headers(response)  # personal data: not kept by the phone or a proxy
    return response


def portal_page(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return protect(view(request, *args, **kwargs))

    return wrapped


def is_resident(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role == Role.RESIDENT and user.phone)


def resident_required(view):
    """Signed-in residents only; everyone else goes to the sign-in page and comes back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_resident(request.user):
            login = reverse("portal:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapped
