from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views
from .docs import DocsView
from .problems import not_found_view

app_name = "api"

router = SimpleRouter()
router.register("complaints", views.ComplaintViewSet, basename="complaint")
router.register("offices", views.OfficeViewSet, basename="office")
router.register("departments", views.DepartmentViewSet, basename="department")
router.register("units", views.UnitViewSet, basename="unit")
router.register("residents", views.ResidentViewSet, basename="resident")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("webhooks", views.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/choices/", views.ChoicesView.as_view(), name="choices"),
    path("v1/reports/monthly/", views.MonthlyReportView.as_view(), name="report-monthly"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    # Anything else under /api/ is a problem+json 404, never the HTML page.
    re_path(r"^[\s\S]*$", not_found_view),  # any character, newlines included
]
