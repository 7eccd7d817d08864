"""Webhooks: queued in the outbox inside the change's transaction, delivered signed, in order per
complaint and subscription, retried with back-off until the receiver answers 2xx.

Queueing (`queue_webhooks`) subscribes to the core's timeline events (kesu.complaints.events, see
ApiConfig.ready) and runs inside the transaction that wrote each event, so a delivery exists exactly
when the change committed. Delivery (`deliver_webhooks`) is a thin loop: each
row is claimed with a conditional UPDATE (a lease), so several deliverers never send a row twice;
a row whose earlier sibling (same subscription, same complaint) is still pending waits for it.

A delivery keeps its id (X-Kesu-Delivery) and its exact body across retries; a receiver that stores
the ids it has processed sees each delivery exactly once even if we crash between its 2xx and our
bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kesu.complaints import backfill
from kesu.notify import delivery, outbound
from kesu.notify.models import Outbox

from .models import WEBHOOK_EVENTS, WebhookSubscription

if TYPE_CHECKING:
    from kesu.complaints.models import ComplaintEvent

log = logging.getLogger("kesu.webhooks")

SIGNATURE_HEADER = "X-Kesu-Signature"
DELIVERY_HEADER = "X-Kesu-Delivery"
EVENT_HEADER = "X-Kesu-Event"
_EVENTS = frozenset(WEBHOOK_EVENTS)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def sign(secret: str, body: bytes) -> str:
    """The X-Kesu-Signature value: the lowercase hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """For receivers written in Python (and the tests): constant-time comparison. A "sha256="
    prefix, as some receivers' libraries add, is accepted."""
    value = (signature or "").strip().lower().removeprefix("sha256=")
    return hmac.compare_digest(sign(secret, body), value)


# ------------------------------------------------------------------------------------------------
# queueing (inside the lifecycle's transaction)


def queue_webhooks(event: ComplaintEvent) -> int:
    """Write one outbox row per active subscription that wants this event for this office and whose
    owner may see the complaint. The body is fixed now: it says what was true when it happened."""
    if event.type not in _EVENTS:
        return 0
    c = event.complaint
    office_subs = backfill.remembered(
        ("webhook_subscriptions", c.office_id),
        lambda: list(
            WebhookSubscription.objects.filter(is_active=True, owner__is_active=True)
            .filter(Q(offices=c.office_id) | Q(offices__isnull=True))
            .select_related("owner")
            .distinct()
            .order_by("pk")
        ),
    )
    subs = [sub for sub in office_subs if event.type in sub.events]
    if not subs:
        return 0
    from kesu.complaints.models import Complaint

    from .serializers import ComplaintSerializer, EventSerializer

    rows = []
    for sub in subs:
        if not Complaint.objects.visible_to(sub.owner).filter(pk=c.pk).exists():
            continue
        delivery = str(uuid.uuid4())
        # The subscription's owner is the reader: the complaint and its event as they may see them
        # (kesu.complaints.scope.complainant_view), as the API would show them to that owner.
        context = {"user": sub.owner, "complaint": c}
        timeline_event = EventSerializer(event, context=context).data
        body = {
            "id": delivery,
            "event": event.type,
            "occurred_at": timeline_event["at"],
            "office": c.office.code,
            "complaint": ComplaintSerializer(c, context=context).data,
            "timeline_event": timeline_event,
        }
        rows.append(
            Outbox(
                created_at=event.at,
                kind=f"webhook_{event.type}",
                channel=Outbox.Channel.WEBHOOK,
                complaint=c,
                event=event,
                subject=f"{event.type} {c.number}",
                # The exact bytes to sign and send, on every attempt.
                body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                payload={"subscription": sub.pk, "delivery": delivery, "event": event.type},
                delivery_key=f"e{event.pk}:webhook:s{sub.pk}",
                next_attempt_at=event.at,
            )
        )
    Outbox.objects.bulk_create(rows)
    return len(rows)


# ------------------------------------------------------------------------------------------------
# delivery (outside any request)


@dataclass
class DeliveryResult:
    sent: int = 0
    failed_attempts: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """15 s, 30 s, 1 min, 2 min, … capped (default 10 min): a receiver back after an hour's outage
    gets its backlog within the cap."""
    base = _setting("KESU_WEBHOOK_RETRY_BASE_SECONDS", 15)
    cap = _setting("KESU_WEBHOOK_RETRY_MAX_SECONDS", 600)
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 30))))


def _post(sub: WebhookSubscription, row: Outbox) -> tuple[bool, str]:
    """Send one row. The second value is what the deliveries list and the admin show: an HTTP status
    or one of kesu.notify.outbound's generic failures, never a network detail (docs/decisions/0010)."""
    body = row.body.encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kesu-Webhook/1",
        SIGNATURE_HEADER: sign(sub.secret, body),
        DELIVERY_HEADER: row.payload.get("delivery", row.delivery_key),
        EVENT_HEADER: row.payload.get("event", ""),
    }
    try:
        # Checked again on every attempt: a name that resolved public when it was subscribed may not
        # now. A redirect is not followed: it would turn the POST into a GET without the body.
        answer = outbound.post(sub.url, body, headers, _setting("KESU_WEBHOOK_TIMEOUT_SECONDS", 10))
    except outbound.Refused:
        return False, outbound.REFUSED
    except outbound.Unreachable:
        return False, outbound.UNREACHABLE
    return (200 <= answer.status < 300), f"HTTP {answer.status}"


_SHOWN = re.compile(r"HTTP [0-9]{3}|subscription deleted")


def shown_error(text: str) -> str:
    """A delivery's last error as the deliveries list shows it: what _post and the deliverer write,
    and for anything else (a row failed by an older version, with errno, host and port) the generic
    failure."""
    if not text or text in (outbound.UNREACHABLE, outbound.REFUSED) or _SHOWN.fullmatch(text):
        return text
    return outbound.UNREACHABLE


def deliver_webhooks(now: dt.datetime | None = None, *, limit: int = 2000) -> DeliveryResult:
    """One delivery pass. Safe to run from several processes at once."""
    now = now or timezone.now()
    started = time.monotonic()
    budget = _setting("KESU_WEBHOOK_PASS_SECONDS", 20)
    result = DeliveryResult()
    pending = Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK, state=Outbox.State.PENDING)
    # Subscriptions are read after the rows' subscription ids: a subscription always exists before
    # its rows, so an id missing here was deleted, and its rows can never be delivered.
    ids = pending.order_by().values_list("payload__subscription", flat=True).distinct()
    wanted = {int(i) for i in ids if i}
    subs = WebhookSubscription.objects.in_bulk()
    gone = sorted(wanted - set(subs))
    if gone:
        result.gave_up += pending.filter(payload__subscription__in=gone).update(
            state=Outbox.State.FAILED, last_error="subscription deleted"
        )

    # Each subscription reads its own oldest rows: a dead receiver's backlog never holds up another's.
    for sub in subs.values():
        if not sub.is_active or sub.pk not in wanted:
            continue  # its rows wait; re-enabling it delivers them
        rows = list(pending.filter(payload__subscription=sub.pk).order_by("id")[:limit])
        # A prefix in id order keeps each complaint's first pending row at the head of its queue.
        queues: dict[int | None, list[Outbox]] = {}
        for row in rows:
            queues.setdefault(row.complaint_id, []).append(row)
        for queue in queues.values():
            if time.monotonic() - started > budget:
                return result
            if not _deliver_queue(sub, queue, now, result):
                break  # the receiver failed: do not hammer it with the rest in this pass
    if result.failed_attempts:
        log.info("webhooks: %d sent, %d failed attempts", result.sent, result.failed_attempts)
    return result


def _deliver_queue(
    sub: WebhookSubscription, queue: list[Outbox], now: dt.datetime, result: DeliveryResult
) -> bool:
    """Deliver one complaint's rows in order until one is not due or fails. False if one failed."""
    lease = dt.timedelta(seconds=_setting("KESU_WEBHOOK_TIMEOUT_SECONDS", 10) * 3)
    give_up = dt.timedelta(hours=_setting("KESU_WEBHOOK_GIVE_UP_HOURS", 72))
    for row in queue:
        if row.next_attempt_at and row.next_attempt_at > now:
            return True  # the head waits for its retry time (or another deliverer holds it)
        # Claim: only one deliverer wins a given (row, attempts) pair; the lease covers a crash.
        if not delivery.take(row, now + lease):
            return True
        ok, info = _post(sub, row)
        if ok:
            Outbox.objects.filter(pk=row.pk).update(
                state=Outbox.State.SENT, sent_at=timezone.now(), last_error=""
            )
            result.sent += 1
            continue
        result.failed_attempts += 1
        result.errors.append(f"{row.delivery_key}: {info}")
        if now - row.created_at > give_up:
            Outbox.objects.filter(pk=row.pk).update(state=Outbox.State.FAILED, last_error=info)
            result.gave_up += 1
        else:
            Outbox.objects.filter(pk=row.pk).update(
                next_attempt_at=now + backoff(row.attempts), last_error=info
            )
        return False
    return True
