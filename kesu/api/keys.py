"""Making, finding and revoking integration keys. The key itself is never stored, only its SHA-256:
it has 256 random bits, so a plain hash is enough (no salt or slow hash needed, unlike passwords)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.complaints.scope import offices_for
from kesu.org.choices import Role
from kesu.org.models import Office, User

from .models import ApiKey

KEY_PREFIX = "kesu_"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def create_key(
    user: User, *, offices: Iterable[str] = (), scope: str = ApiKey.Scope.WRITE, name: str = ""
) -> tuple[ApiKey, str]:
    """Make a key for `user`, limited to the given office codes (each one the user works in).
    Returns the row and the key, which cannot be shown again."""
    errors: dict[str, str] = {}
    if not user.is_active:
        errors["user"] = _("用户“%(name)s”已停用。") % {"name": user.username}
    if user.role == Role.RESIDENT:
        errors["user"] = _("住户账号不能使用接口密钥。")
    if scope not in ApiKey.Scope.values:
        errors["scope"] = _("权限只能是 read 或 write。")
    codes = sorted({c.strip() for c in offices if c.strip()})
    allowed = {o.code: o for o in offices_for(user)}
    chosen = []
    for code in codes:
        if code not in allowed:
            known = Office.objects.filter(code=code).exists()
            errors["office"] = (
                _("用户“%(user)s”不属于管理处“%(code)s”。") if known else _("未知的管理处“%(code)s”。")
            ) % {"user": user.username, "code": code}
        else:
            chosen.append(allowed[code])
    if not allowed:
        errors.setdefault("user", _("用户“%(name)s”不属于任何管理处。") % {"name": user.username})
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    while True:
        raw = KEY_PREFIX + secrets.token_urlsafe(32)
        prefix = raw[: len(KEY_PREFIX) + 8]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    key = ApiKey.objects.create(
        user=user, prefix=prefix, key_hash=hash_key(raw), scope=scope, name=name[:100]
    )
    key.offices.set(chosen)
    return key, raw


def find_key(prefix_or_id: str) -> ApiKey | None:
    value = prefix_or_id.strip().rstrip("…")
    qs = ApiKey.objects.select_related("user")
    if value.isdigit():
        return qs.filter(pk=int(value)).first()
    return qs.filter(prefix=value[: len(KEY_PREFIX) + 8]).first()


def revoke_key(key: ApiKey) -> bool:
    """Returns False if it was already revoked."""
    return bool(ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()))
