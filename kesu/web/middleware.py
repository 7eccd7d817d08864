"""Security headers for every page, and sessions that a background poll does not renew."""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware

# The one place that decides which Content-Security-Policy a response carries.
#
# Every response gets CSP below unless its view set a policy of its own; a page nobody thought of
# (the admin, an error page, a new app) is never served without one. CSP costs the workspace nothing:
# everything it runs is served from here (htmx and kesu.js as files, no inline script, no inline
# style attributes, htmx's eval and script-tag features switched off in base.html), and an injected
# <script> is a no-op. Django's admin (5.2) runs under it unchanged: its scripts are files that read
# their data from data- attributes, and its widgets set styles through the DOM, which a policy
# allows (tests/test_security_admin_csp.py drives it in Chromium). Its only inline <style>, in the
# change list, appears only for a ModelAdmin with both actions_on_top and actions_on_bottom off;
# no Kesu admin does that (it would only lose a column width).
#
# Views with a policy of their own:
# - the resident portal (kesu/portal/security.py: CSP): default-src 'none', plus what the
#   phone pages use (camera previews as blob:, the web manifest);
# - the API docs at /api/docs/ (kesu/api/docs.py: DOCS_CSP): the only policy with
#   style-src 'unsafe-inline', for the one inline <style> block of drf-spectacular's Swagger UI page
#   template (box-sizing and the body's margin; Swagger UI itself, driven through its operations,
#   "Try it out", models and authorize dialog, needs nothing inline). Scripts stay 'self' only, so an
#   injected style could restyle the docs page but never run code in it; the page shows the API's
#   schema, no personal data, and talks only to this server (connect-src 'self').
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicy:
    """Adds CSP to every response whose view did not set a policy of its own (see above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and not _debug_page(response):
            response["Content-Security-Policy"] = CSP
        response.setdefault("Referrer-Policy", "same-origin")
        return response


def _debug_page(response) -> bool:
    # With DEBUG on (a developer's machine only), Django's yellow error pages run inline script and style.
    return settings.DEBUG and response.status_code >= 400


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a response to a background poll (a view sets `request.background_poll`)
    neither saves the session nor re-sends its cookie: with SESSION_SAVE_EVERY_REQUEST every request
    renews the idle time, and a page left open at the front desk must still sign out after it."""

    def process_response(self, request, response):
        if getattr(request, "background_poll", False) and not request.session.modified:
            return response
        return super().process_response(request, response)
