from django.urls import path
from django.views.i18n import set_language

from .views import auth, complaint, home, intake, lists, printing

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    # sign-in
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("language/", set_language, name="set_language"),
    # intake (客户投诉记录表)
    path("new/", intake.intake, name="intake"),
    path("new/find/", intake.find, name="find"),
    path("new/history/", intake.history, name="history"),
    path("new/promise/", intake.promise, name="promise"),
    # list, export, saved filters
    path("complaints/", lists.complaint_list, name="list"),
    path("complaints/export.xlsx", lists.export, name="export"),
    path("complaints/saved/", lists.save_filter, name="save_filter"),
    path("complaints/saved/<int:pk>/delete/", lists.delete_filter, name="delete_filter"),
    # one complaint
    path("complaints/<str:key>/", complaint.detail, name="complaint"),
    path("complaints/<str:key>/do/<str:action>/", complaint.act, name="act"),
    path("complaints/<str:key>/reload/<str:action>/", complaint.reload_with, name="reload_with"),
    path("complaints/<str:key>/reveal/", complaint.reveal, name="reveal"),
    path("complaints/<str:key>/files/<int:pk>/", complaint.attachment, name="attachment"),
    path("complaints/<str:key>/print/<str:form>/", printing.print_form, name="print"),
]
