"""Sign-in, sign-out and password change: Django's auth views with the workspace's templates.

Repeated failures lock the account for a while (django-axes); `locked_out` is the page axes shows.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..access import staff_view


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": gettext_lazy("用户名或密码不正确。注意：多次输错将暂时锁定账号。"),
        "inactive": gettext_lazy("该账号已停用，请联系管理员。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = gettext_lazy("用户名")
        self.fields["password"].label = gettext_lazy("密码")
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("web:login")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("您已安全退出。"))
        return response


@method_decorator(staff_view, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/auth/password_change.html"
    success_url = reverse_lazy("web:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes: too many failed sign-ins for this user name from this address, or from this
    address over all user names (kesu.web.lockout)."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    form = LoginForm(request, data=request.POST or None)
    form.is_valid()  # keep the typed user name; the password field is never re-filled
    form.errors.clear()
    if getattr(request, "kesu_address_locked", False):
        words = _("此地址登录失败次数过多，已暂时禁止从这里登录。请 %(minutes)d 分钟后再试，或联系管理员。")
    else:
        words = _("登录失败次数过多，账号已暂时锁定。请 %(minutes)d 分钟后再试，或联系管理员解锁。")
    context = {"form": form, "locked": words % {"minutes": minutes}}
    return render(request, "web/auth/login.html", context, status=429)
