"""A person's in-app notifications (站内通知): the one query every page of them starts from."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Outbox


def inbox(user) -> QuerySet[Outbox]:
    """The user's own in-app rows: another person's row is never in it."""
    return Outbox.objects.filter(user=user, channel=Outbox.Channel.INAPP)


def unread_count(user) -> int:
    return inbox(user).filter(read_at__isnull=True).count()
