"""Mounted at /api/v1/reports/monthly/ by kesu/urls.py (before the DRF API's own routes).

A plain Django view with session auth for now; the API app may later accept bearer API keys here."""

from django.urls import path

from . import views

app_name = "reports_api"
urlpatterns = [path("", views.monthly_api, name="monthly")]
