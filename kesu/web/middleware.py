"""Security headers for the workspace's own pages."""

from __future__ import annotations

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


class ContentSecurityPolicy:
    """Adds the policy to responses of the web workspace (app namespace "web") only; the admin,
    the API and the reports set their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name == "web" and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CSP
            response.setdefault("Referrer-Policy", "same-origin")
        return response
