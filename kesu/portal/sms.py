"""Sending a sign-in code now, so a resident is not kept waiting for the deliverer's next round.

The code is first an outbox row (channel "sms", kind "otp"), written with the code in one transaction;
the deliverer (kesu.notify) would send it on its next pass anyway. After commit we send that row at
once through the notification channels: claimed like the deliverer claims rows (a conditional UPDATE
on the attempts count), so the two never both send it; the SMS channel also drops a repeated key. If
kesu.notify has no deliverer, the line goes to the demo SMS log directly.

Sending happens in a background thread by default: a real SMS gateway may take a second, and a page
that answers slower for registered numbers would tell an attacker which numbers are registered.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kesu.notify.models import Outbox

log = logging.getLogger("kesu.portal")

KIND = "otp"
MASK = "******"


def sms_log_path():
    return getattr(settings, "KESU_SMS_LOG", None) or settings.KESU_HOME / "sms.log"


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
    try:
        from kesu.notify import delivery
    except ImportError:  # pragma: no cover - the notify app always ships a deliverer
        delivery = None
    row = Outbox.objects.filter(pk=row_id, state=Outbox.State.PENDING).first()
    if row is None:
        return "taken"
    if delivery is not None and hasattr(delivery, "process_one"):
        lease = dt.timedelta(seconds=max(getattr(settings, "KESU_DELIVERY_LEASE_SECONDS", 60.0), 1.0))
        taken = Outbox.objects.filter(pk=row.pk, state=Outbox.State.PENDING, attempts=row.attempts).update(
            attempts=row.attempts + 1, next_attempt_at=timezone.now() + lease
        )
        if not taken:
            return "taken"
        row.attempts += 1
        outcome = delivery.process_one(row)
    else:
        append_to_log(row.address, row.delivery_key, row.body)
        Outbox.objects.filter(pk=row.pk, state=Outbox.State.PENDING).update(
            state=Outbox.State.SENT, sent_at=timezone.now(), attempts=row.attempts + 1
        )
        outcome = "sent"
    if outcome == "sent":
        # The code is hashed in the code table; once sent, the outbox keeps no readable copy either.
        Outbox.objects.filter(pk=row.pk, state=Outbox.State.SENT).update(body=row.body.replace(code, MASK))
    return outcome


def append_to_log(phone: str, key: str, text: str) -> None:
    """The demo provider's line, when no deliverer is installed: time, phone, key, text."""
    path = sms_log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().isoformat(timespec="seconds")
    line = "\t".join([stamp, phone, key, " ".join(text.split())])
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
