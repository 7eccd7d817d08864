"""Sign-in without passwords: a six-digit code by SMS to a phone registered with the estate.

Codes are random, stored only as a keyed hash, expire (KESU_PORTAL_CODE_SECONDS), work once, allow
a few tries (KESU_PORTAL_CODE_TRIES), and a new code replaces the previous one. A phone may ask once
a minute and a few times an hour (counted here, in the database); the address limits are in the
views (throttle.py). Unregistered phones get the same answers and limits (see LoginCode).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from kesu.org.choices import Role
from kesu.org.models import Resident, User

from . import sms
from .models import LoginCode

RESIDENT_DISPLAY_NAME = "住户（网上自助）"  # staff see this as the receiver, never the person's name
# Portal account names are random: a name is shown wherever the account acted (timelines, webhook
# bodies, the admin), so it must say nothing about the person (it used to be "r-<phone>").
_NAME_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_NAME_LENGTH = 12


@dataclass(frozen=True)
class Refusal:
    """Asked too soon (`just_sent`: a code went out less than the interval ago) or too often: come
    back in `wait` seconds."""

    wait: int
    just_sent: bool = False


def _hash(phone: str, nonce: str, code: str) -> str:
    return salted_hmac("kesu.portal.code", f"{phone}:{nonce}:{code}", algorithm="sha256").hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def is_registered(phone: str) -> bool:
    return Resident.objects.filter(phone=phone).exists()


def issue(phone: str, *, ip: str | None = None, now: dt.datetime | None = None) -> Refusal | None:
    """Issue a code for `phone` (already normalised) and send it if the phone is registered.
    Returns a Refusal when the phone asked too soon or too often."""
    now = now or timezone.now()
    with transaction.atomic():
        recent = list(
            LoginCode.objects.select_for_update()
            .filter(phone=phone, created_at__gt=now - dt.timedelta(hours=1))
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        interval = dt.timedelta(seconds=settings.KESU_PORTAL_CODE_INTERVAL_SECONDS)
        if recent and recent[0] > now - interval:
            return Refusal(wait=int((recent[0] + interval - now).total_seconds()) + 1, just_sent=True)
        if len(recent) >= settings.KESU_PORTAL_CODES_PER_PHONE_HOUR:
            return Refusal(wait=int((recent[-1] + dt.timedelta(hours=1) - now).total_seconds()) + 1)
        # The previous code stops working when a new one is sent; very old rows are not kept.
        LoginCode.objects.filter(phone=phone, used_at=None, expires_at__gt=now).update(expires_at=now)
        LoginCode.objects.filter(created_at__lt=now - dt.timedelta(days=2)).delete()

        known = is_registered(phone)
        code, nonce = _new_code(), secrets.token_hex(16)
        row = LoginCode.objects.create(
            phone=phone,
            nonce=nonce,
            code_hash=_hash(phone, nonce, code),
            known=known,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=settings.KESU_PORTAL_CODE_SECONDS),
            ip=ip or None,
        )
        minutes = max(1, settings.KESU_PORTAL_CODE_SECONDS // 60)
        # In the language of the page that asked for it.
        words = _("您的登录验证码为 %(code)s，%(minutes)s分钟内有效，请勿告诉他人。如非本人操作请忽略。")
        text = words % {"code": code, "minutes": minutes}
        # The same work for a known and an unknown phone up to here and in this request: the SMS (its
        # outbox row and the sending) is the background job's, which does it for a known phone only.
        sms.send_after_commit(
            known=known, phone=phone, text=text, code=code, key=f"otp:{row.pk}:{nonce[:8]}", at=now
        )
    return None


def verify(phone: str, code: str, *, now: dt.datetime | None = None) -> User | None:
    """The resident's account when `code` is the phone's current code; None otherwise (whatever the
    reason: wrong, expired, used, too many tries, or a phone that is not registered)."""
    now = now or timezone.now()
    code = (code or "").strip()
    with transaction.atomic():
        row = LoginCode.objects.select_for_update().filter(phone=phone).order_by("-created_at", "-pk").first()
        if row is None:
            # Same work as a wrong code: a hash and a compare.
            constant_time_compare(_hash(phone, "-", code), "0" * 64)
            return None
        usable = (
            row.used_at is None
            and row.expires_at > now
            and row.attempts < settings.KESU_PORTAL_CODE_TRIES
            and len(code) == 6
            and code.isdigit()
        )
        matches = constant_time_compare(row.code_hash, _hash(phone, row.nonce, code))
        if row.used_at is None:
            row.attempts += 1
            fields = ["attempts"]
            if usable and matches:
                row.used_at = now
                fields.append("used_at")
            row.save(update_fields=fields)
        if not (usable and matches and row.known):
            return None
        # Registered when the code was sent, and still registered now.
        if not is_registered(phone):
            return None
        return resident_user(phone)


def new_username() -> str:
    """An opaque portal account name: "r-" and 12 random letters and digits."""
    return "r-" + "".join(secrets.choice(_NAME_ALPHABET) for _ in range(_NAME_LENGTH))


def resident_user(phone: str) -> User | None:
    """Find or create the portal account of the person with this phone (role resident, no password)."""
    existing = User.objects.filter(role=Role.RESIDENT, phone=phone).order_by("pk")
    user = existing.filter(is_active=True).first()
    if user is not None:
        return user
    if existing.exists():  # an account the company switched off stays off
        return None
    with transaction.atomic():
        # Two first sign-ins at once: the names are random, so the unique username no longer tells
        # the second one an account exists. It waits here on the phone's resident rows (SQLite's
        # IMMEDIATE transactions already queue) and then finds the first one's account.
        list(Resident.objects.select_for_update().filter(phone=phone).values_list("pk", flat=True))
        user = User.objects.filter(role=Role.RESIDENT, phone=phone).order_by("pk").first()
        if user is not None:
            return user if user.is_active else None
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    return User.objects.create(
                        username=new_username(),
                        role=Role.RESIDENT,
                        phone=phone,
                        display_name=RESIDENT_DISPLAY_NAME,
                        password=make_password(None),
                    )
            except IntegrityError:  # the random name is taken (about never): draw another
                continue
    return None
