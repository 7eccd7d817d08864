"""A person's in-app notifications (站内通知): the one query every page of them starts from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from .models import Outbox

if TYPE_CHECKING:
    from kesu.org.models import User


def inbox(user: User) -> QuerySet[Outbox]:
    """The user's own in-app rows: another person's row is never in it."""
    return Outbox.objects.filter(user=user, channel=Outbox.Channel.INAPP)


def unread_count(user: User) -> int:
    return inbox(user).filter(read_at__isnull=True).count()
