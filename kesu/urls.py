from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    from kesu.complaints.models import Complaint

    context = {}
    if request.user.is_authenticated:
        visible = Complaint.objects.visible_to(request.user)
        context = {"visible": visible.count(), "overdue": visible.overdue().count()}
    return render(request, "kesu/home.html", context)


admin.site.site_header = "客诉 Kesu"
admin.site.site_title = "客诉 Kesu"
admin.site.index_title = "投诉处理与系统配置"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
]
