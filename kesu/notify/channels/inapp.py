"""In-app notifications: the row itself is the message (the person's list at /notifications/).

Delivering an in-app row fans it out to the person's other channels and to their office's group
robots, as new outbox rows with keys derived from this row's key. Inserting them ignores rows that
already exist, so a fan-out repeated after a crash creates nothing twice; and the group message is
keyed by event and kind, not person, so an office hears each event once however many staff it reaches.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from kesu.notify.models import Outbox

_PERSON_SUFFIX = re.compile(r":u\d+$")


def fan_out(row: Outbox) -> list[Outbox]:
    """The rows this in-app row spreads to (not saved)."""
    from kesu.notify.models import NotificationPreference, OfficeChannel, Outbox, kinds_match

    now = timezone.now()
    due = min(row.created_at, now)  # due as soon as the message itself was
    children: list[Outbox] = []

    def child(channel: str, key: str, *, user=None, address: str = "", **payload: object) -> None:
        children.append(
            Outbox(
                created_at=now,
                kind=row.kind,
                channel=channel,
                user=user,
                address=address[:200],
                complaint_id=row.complaint_id,
                event_id=row.event_id,
                subject=row.subject,
                body=row.body,
                payload={**row.payload, "parent": row.pk, **payload},
                delivery_key=key[:120],
                next_attempt_at=due,
            )
        )

    user = row.user
    if user is not None and user.is_active:
        pref = NotificationPreference.objects.filter(user=user).first()
        base = row.delivery_key
        if pref is None:
            if settings.KESU_NOTIFY_EMAIL_BY_DEFAULT and user.email:
                child(Outbox.Channel.EMAIL, f"{base}>email", user=user, address=user.email)
        elif kinds_match(pref.kinds, row.kind):
            if pref.email and user.email:
                child(Outbox.Channel.EMAIL, f"{base}>email", user=user, address=user.email)
            if pref.sms and user.phone:
                child(Outbox.Channel.SMS, f"{base}>sms", user=user, address=user.phone)
            for channel in (Outbox.Channel.WECOM, Outbox.Channel.DINGTALK):
                if getattr(pref, f"{channel}_webhook"):
                    child(channel, f"{base}>{channel}", user=user, address=f"{channel}:{user.username}")

    office_id = row.payload.get("office_id")
    if office_id and row.complaint_id:
        oc = OfficeChannel.objects.filter(office_id=office_id, is_active=True).first()
        if oc is not None and kinds_match(oc.kinds, row.kind):
            group = _PERSON_SUFFIX.sub("", row.delivery_key)
            for channel in (Outbox.Channel.WECOM, Outbox.Channel.DINGTALK):
                if getattr(oc, f"{channel}_webhook"):
                    child(
                        channel,
                        f"{group}:o{office_id}>{channel}",
                        address=f"{channel}:{row.payload.get('office', office_id)}",
                        office_channel=oc.pk,
                    )
    return children


class InApp:
    def send(self, row: Outbox) -> None:
        from kesu.notify.delivery import bookkeeping
        from kesu.notify.models import Outbox

        children = fan_out(row)
        if children:
            with bookkeeping():
                Outbox.objects.bulk_create(children, ignore_conflicts=True)
