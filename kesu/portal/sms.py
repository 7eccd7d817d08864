"""Sending a sign-in code now, so a resident is not kept waiting for the deliverer's next round.

The request that asks for a code stores it (hashed) and, whether the phone is registered or not, hands
one job to run after commit; only that job, for a registered phone, writes the outbox row (channel
"sms", kind "otp") and sends it at once through the notification channels, claimed with the
deliverer's own claim (delivery.take), so the two never both send it; the SMS channel also drops a
repeated key. A request for an unknown phone thus runs the same statements as one for a registered
phone, and answers as fast (issue 13, finding 11).

The job runs in a background thread by default: a real SMS gateway may take a second, and a page that
answers slower for registered numbers would tell an attacker which numbers are registered. If the
process dies between the commit and the job, no SMS goes out; the resident asks again after the
interval (a sign-in code is worth nothing minutes later, so it needs no stronger guarantee). Once the
row exists, a failed send is retried by the deliverer like any other row.
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
    """The outbox row for one code (the background job's: see the module's note)."""
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


def send_after_commit(*, known: bool, phone: str, text: str, code: str, key: str, at: dt.datetime) -> None:
    """After commit, in the background (KESU_PORTAL_SEND_IN_BACKGROUND) or here: for a registered
    phone, write the code's outbox row and send it; for an unknown one, nothing."""

    def job() -> None:
        if settings.KESU_PORTAL_SEND_IN_BACKGROUND:
            threading.Thread(
                target=_job_in_thread, args=(known, phone, text, code, key, at), daemon=True
            ).start()
        else:
            deliver_code(known, phone, text, code, key, at)

    transaction.on_commit(job)


def deliver_code(known: bool, phone: str, text: str, code: str, key: str, at: dt.datetime) -> str:
    """Write the outbox row of a registered phone's code and send it now: "sent", "failed", "retry",
    "taken" (a deliverer has it), or "unknown" (not registered: nothing is sent)."""
    if not known:
        return "unknown"
    row = queue_code(phone=phone, text=text, key=key, at=at)
    return send_now(row.pk, code)


def _job_in_thread(known: bool, phone: str, text: str, code: str, key: str, at: dt.datetime) -> None:
    close_old_connections()
    try:
        deliver_code(known, phone, text, code, key, at)
    except Exception:  # once its row exists, the deliverer sends it on its next pass
        log.exception("sending sign-in code %s now failed", key)
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
