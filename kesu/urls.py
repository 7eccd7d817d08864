from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


admin.site.site_header = "客诉 Kesu"
admin.site.site_title = "客诉 Kesu"
admin.site.index_title = gettext_lazy("投诉处理与系统配置")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("api/", include("kesu.api.urls")),
    path("reports/", include("kesu.reports.urls")),
    path("portal/", include("kesu.portal.urls")),
    path("notifications/", include("kesu.web.urls_notifications")),
    path("", include("kesu.web.urls")),
]
