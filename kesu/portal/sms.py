"""Sending a sign-in code now, so a resident is not kept waiting for the deliverer's next round.

The code is first an outbox row (channel "sms", kind "otp"), written with the code in one transaction;
the deliverer (kesu.notify) would send it on its next pass anyway. After commit we send that row at
once through the notification channels, claimed with the deliverer's own claim (delivery.take), so the
two never both send it; the SMS channel also drops a repeated key.

Sending happens in a background thread by default: a real SMS gateway may take a second, and a page
that answers slower for registered numbers would tell an attacker which numbers are registered.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils.translation import gettext as _

from kesu.notify import delivery
from kesu.notify.models import Outbox

log = logging.getLogger("kesu.portal")

KIND = "otp"
MASK = "******"


def queue_code(*, phone: str, text: str, key: str, at: dt.datetime) -> Outbox:
    """The outbox row for one code; call inside the transaction that stores the code."""
    return Outbox.objects.create(
        created_at=at,
        kind=KIND,
        channel=Outbox.Channel.SMS,
        address=phone,
        subject=_("登录验证码"),
        body=text,
        payload={"purpose": "portal_sign_in"},
        delivery_key=key,
        next_attempt_at=at,
    )


def send_after_commit(row_id: int, code: str) -> None:
    def go() -> None:
        if settings.KESU_PORTAL_SEND_IN_BACKGROUND:
            threading.Thread(target=_send_in_thread, args=(row_id, code), daemon=True).start()
        else:
            send_now(row_id, code)

    transaction.on_commit(go)


def _send_in_thread(row_id: int, code: str) -> None:
    close_old_connections()
    try:
        send_now(row_id, code)
    except Exception:  # the deliverer sends the row on its next pass
        log.exception("sending sign-in code %s now failed", row_id)
    finally:
        connections.close_all()


def send_now(row_id: int, code: str) -> str:
    """Send one code row now: "sent", "failed", "retry", or "taken" (a deliverer has it)."""
    row = Outbox.objects.filter(pk=row_id, state=Outbox.State.PENDING).first()
    if row is None or not delivery.take(row, delivery.lease_until()):
        return "taken"
    outcome = delivery.process_one(row)
    if outcome == "sent":
        # The code is hashed in the code table; once sent, the outbox keeps no readable copy either.
        Outbox.objects.filter(pk=row.pk, state=Outbox.State.SENT).update(body=row.body.replace(code, MASK))
    return outcome
