"""`Authorization: Bearer <key>`: the key acts as its user, limited by its offices and scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .keys import hash_key
from .models import ApiKey

# last_used_at is written at most this often per key: a write per read request would cost SQLite dearly.
_TOUCH_EVERY = dt.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Bearer <密钥>。"))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("接口密钥无效。")) from None
        key = (
            ApiKey.objects.select_related("user")
            .prefetch_related("offices")
            .filter(key_hash=hash_key(raw))
            .first()
        )
        if key is None or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("接口密钥无效或已吊销。"))
        if not key.user.is_active:
            raise exceptions.AuthenticationFailed(_("该密钥的用户已停用。"))
        key.office_ids = frozenset(o.pk for o in key.offices.all())
        now = timezone.now()
        if key.last_used_at is None or key.last_used_at < now - _TOUCH_EVERY:
            ApiKey.objects.filter(pk=key.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - _TOUCH_EVERY)
            ).update(last_used_at=now)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="kesu"'


def key_of(request) -> ApiKey | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "kesu.api.auth.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Integration key made with `kesu apikey create` (接口密钥).",
        }
