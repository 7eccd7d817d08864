from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("monthly/", views.monthly_page, name="monthly"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
