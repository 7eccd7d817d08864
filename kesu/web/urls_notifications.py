from django.urls import path

from .views import notifications as views

# The notifications pages keep their own URL namespace ("notify:list", …).
app_name = "notify"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("unread.json", views.unread_json, name="unread"),
    path("bell/", views.bell, name="bell"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
]
