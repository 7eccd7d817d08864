"""Who may call the API at all: a signed-in staff user, or a key; a read key only reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from kesu.org.choices import Role

from .auth import key_of
from .models import ApiKey


class ApiAccess(BasePermission):
    message = _("此接口密钥只有只读权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        key = key_of(request)
        return request.method in SAFE_METHODS or key is None or key.scope == ApiKey.Scope.WRITE


# Webhook subscriptions send complaint data out of the company: managers and company roles only.
WEBHOOK_ROLES = frozenset(
    {Role.SUPERVISOR, Role.CS_MANAGER, Role.DIRECTOR, Role.QUALITY, Role.EXECUTIVE, Role.ADMIN}
)


class ManagesWebhooks(BasePermission):
    message = _("只有管理人员可以管理 Webhook 订阅。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and (user.is_superuser or user.role in WEBHOOK_ROLES))
