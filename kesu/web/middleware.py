"""Security headers for the workspace's own pages, and sessions that a background poll does not renew."""

from __future__ import annotations

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware

# Everything the workspace runs is served from here (htmx and kesu.js as files, no inline script,
# no inline style attributes, htmx's eval and script-tag features switched off in base.html), so a
# strict policy costs nothing and turns an injected <script> into a no-op.
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


APPS = frozenset({"web", "reports", "notify"})


class ContentSecurityPolicy:
    """Adds the policy to the pages of the staff workspace, its reports and its notifications (app
    namespaces in APPS); the admin, the API docs and the resident portal set their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name in APPS and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CSP
            response.setdefault("Referrer-Policy", "same-origin")
        return response


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a response to a background poll (a view sets `request.background_poll`)
    neither saves the session nor re-sends its cookie: with SESSION_SAVE_EVERY_REQUEST every request
    renews the idle time, and a page left open at the front desk must still sign out after it."""

    def process_response(self, request, response):
        if getattr(request, "background_poll", False) and not request.session.modified:
            return response
        return super().process_response(request, response)
