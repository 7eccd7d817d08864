from django.urls import path

from . import staff_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("login/code/", views.enter_code, name="code"),
    path("logout/", views.sign_out, name="logout"),
    path("new/", views.complain, name="new"),
    path("c/<str:number>/", views.detail, name="detail"),
    path("c/<str:number>/sent/", views.sent, name="sent"),
    path("c/<str:number>/photos/<int:pk>/", views.photo, name="photo"),
    path("c/<str:number>/rate/", views.rate, name="rate"),
    path("c/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("l/<str:token>/", views.open_link, name="link"),
    path("qr/", staff_views.qr_index, name="qr"),
    path("qr/<str:code>.pdf", staff_views.qr_sheet, name="qr_sheet"),
]
