"""Who may call the API at all: a signed-in staff user, or a key; a read key only reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import BaseThrottle

from kesu.complaints.scope import count_lookup, may_look_up
from kesu.org.choices import Role

from .auth import key_of
from .models import ApiKey


class ApiAccess(BasePermission):
    """Staff and their integration keys only. A resident follows their own complaints on the portal,
    which shows what they were told; the staff API (residents, units, the internal timeline, staff
    fields) is never theirs, however they signed in."""

    message = _("此接口密钥只有只读权限。")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.role == Role.RESIDENT and not user.is_superuser:
            raise PermissionDenied(_("住户账号不能使用工作人员接口，请在住户服务页面查看您的投诉。"))
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


class LooksUp(BasePermission):
    """The residents look-up names who lives where: the customer-service desk's (scope.may_look_up),
    as on the intake page; department staff may be the ones a resident complained about."""

    message = _("查找住户仅供客服人员使用。")

    def has_permission(self, request, view) -> bool:
        return may_look_up(request.user)


class LookupThrottle(BaseThrottle):
    """Look-ups per user and minute, counted with the intake page's (scope.count_lookup)."""

    def allow_request(self, request, view) -> bool:
        self._wait = count_lookup(request.user) if request.user.is_authenticated else 0
        return not self._wait

    def wait(self) -> float | None:
        return float(self._wait) or None
