"""`Idempotency-Key` on POST: the same key with the same body gets the first response back and
changes nothing; the same key with another body is refused (422).

The record is inserted *before* the request's change, in the same transaction. Two identical
requests racing therefore meet on the unique index: the second blocks until the first commits
(PostgreSQL: on the index entry; SQLite: on the write lock taken at BEGIN IMMEDIATE), then finds the
stored response and replays it. If the first fails with a 5xx or crashes, its transaction and its
record roll back together and the retry runs afresh — no "pending forever" state to clean up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from .auth import key_of
from .models import IdempotencyRecord
from .problems import IdempotencyKeyInvalid, IdempotencyKeyReused

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_VALID = re.compile(r"^[\x21-\x7e]{1,255}$")


def header_value(request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    if not _VALID.match(value):
        raise IdempotencyKeyInvalid()
    return value


def principal(request) -> str:
    key = key_of(request)
    return f"key:{key.pk}" if key is not None else f"user:{request.user.pk}"


def fingerprint(request) -> str:
    """Method, path and the *parsed* body: key order and whitespace do not make a different request."""
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=getattr(settings, "KESU_API_IDEMPOTENCY_HOURS", 24))


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(record.body, status=record.status_code, content_type=record.content_type or None)
    if record.location:
        response["Location"] = record.location
    response[REPLAYED_HEADER] = "true"
    return response


def run(request, key: str, execute: Callable[[], HttpResponse]) -> HttpResponse:
    """Run `execute` (which returns a finalized, rendered response) at most once per key and body."""
    who, fp = principal(request), fingerprint(request)
    for _attempt in range(3):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        principal=who, key=key, fingerprint=fp, created_at=timezone.now()
                    )
            except IntegrityError:
                record = None
            if record is not None:
                response = execute()
                if response.status_code >= 500:
                    transaction.set_rollback(True)  # nothing kept: the client may retry with the key
                    return response
                record.status_code = response.status_code
                record.body = response.content.decode("utf-8")
                record.content_type = response.get("Content-Type", "")
                record.location = response.get("Location", "")[:300]
                record.save(update_fields=["status_code", "body", "content_type", "location"])
                return response
        # Someone holds (or held) this key: by now it is committed, since we waited for it.
        existing = IdempotencyRecord.objects.filter(principal=who, key=key).first()
        if existing is None:
            continue  # it rolled back (a 5xx): try again, now as the first
        if existing.created_at < timezone.now() - _ttl():
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != fp:
            raise IdempotencyKeyReused()
        return replay(existing)
    raise IdempotencyKeyReused()  # pragma: no cover - three conflicting rollbacks in a row
