"""The browsable API docs (Swagger UI) from the vendored drf-spectacular-sidecar assets, with its
start-up script served as a file, so the page runs under a strict Content-Security-Policy and needs
nothing from the internet (an intranet deployment has none)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # drf-spectacular's page template has an inline <style> block; why that is allowed here and
        # nowhere else: kesu/web/middleware.py, beside the default policy.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class DocsView(SpectacularSwaggerSplitView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response
