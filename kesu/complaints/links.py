"""Signed, expiring links that open one complaint for its complainant in the resident portal (for
SMS and other notifications). The core signs them (its messages carry them); the portal opens them.

The token signs the complaint number and a keyed digest of the complainant's phone, with a time
stamp (TimestampSigner). It never carries the phone itself, so a link seen in a log or over a shoulder
does not reveal the number. Opening it re-checks that the complaint still belongs to that phone,
through the same scope a signed-in resident has.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from kesu.org.choices import Role
from kesu.org.models import User

from .models import Complaint

_SALT = "kesu.portal.link"


def _phone_digest(phone: str) -> str:
    return salted_hmac("kesu.portal.link.phone", phone, algorithm="sha256").hexdigest()[:20]


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def token_for(number: str, phone: str) -> str:
    return _signer().sign(f"{number}.{_phone_digest(phone)}")


def complaint_url(complaint: Complaint, *, base: str | None = None) -> str:
    """The absolute link for a complaint's complainant (for notifications)."""
    path = reverse("portal:link", args=[token_for(complaint.number, complaint.complainant_phone)])
    return (base or settings.KESU_PORTAL_BASE_URL).rstrip("/") + path


def max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.KESU_PORTAL_LINK_DAYS)


def as_resident(phone: str) -> User:
    """An unsaved resident with this phone: lets a link use the one scope (visible_to) residents have."""
    return User(role=Role.RESIDENT, phone=phone, is_active=True)


def open_link(token: str) -> tuple[Complaint, str] | None:
    """(complaint, phone) for a valid, unexpired token whose complaint still belongs to that phone."""
    try:
        value = _signer().unsign(token, max_age=max_age())
    except signing.BadSignature:  # includes SignatureExpired
        return None
    number, sep, digest = value.rpartition(".")
    if not sep:
        return None
    c = Complaint.objects.select_related("resident").filter(number=number).first()
    if c is None:
        return None
    for phone in {c.complainant_phone, c.resident.phone if c.resident is not None else ""} - {""}:
        if constant_time_compare(_phone_digest(phone), digest):
            scoped = Complaint.objects.visible_to(as_resident(phone)).select_related(
                "office", "unit__building__office"
            )
            found = scoped.filter(pk=c.pk).first()
            return (found, phone) if found is not None else None
    return None
