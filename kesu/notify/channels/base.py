"""What every channel shares: the two ways a send can fail, an HTTP JSON poster, and an append-only
log file that remembers which delivery keys it already holds."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from kesu.notify import outbound


class Retry(Exception):
    """Temporary: try again later (network down, server busy)."""


class Permanent(Exception):
    """Will never work as it is (no address, rejected request): mark the row failed at once."""


def link_for(payload: dict) -> str:
    """The message's link: a complaint's, or a page of the product (e.g. the monthly report)."""
    link = payload.get("link") or ""
    url = str(payload.get("url") or "")
    if not link and url.startswith("/"):
        link = settings.KESU_BASE_URL.rstrip("/") + url
    return link


def message_id(delivery_key: str, domain: str = "kesu.local") -> str:
    """A stable Message-ID / idempotency key derived from the outbox row's delivery key."""
    digest = hashlib.sha256(delivery_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def post_json(
    url: str, payload: dict, *, key: str, headers: dict[str, str] | None = None, operators: bool = False
) -> dict:
    """POST JSON; 2xx → the decoded answer. The delivery key goes along as an idempotency header so
    a receiver that honours it drops a repeat (a worker may die between sending and marking).

    A URL someone typed into Kesu (a robot's) goes through kesu.notify.outbound: public addresses
    only, generic failures. `operators=True` is for the operator's own URL from the environment
    (KESU_SMS_HTTP_URL), which may well be an intranet gateway."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    sent = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": key,
        "X-Kesu-Delivery-Key": key,
        **(headers or {}),
    }
    if operators:
        status, body = _post_trusted(url, data, sent)
    else:
        try:
            reply = outbound.post(url, data, sent, settings.KESU_NOTIFY_HTTP_TIMEOUT)
        except outbound.Refused:
            raise Permanent(outbound.REFUSED) from None
        except outbound.Unreachable:
            raise Retry(outbound.UNREACHABLE) from None
        status, body = reply.status, reply.body
    if not 200 <= status < 300:
        detail = body[:300].decode("utf-8", "replace")
        if status in (408, 425, 429) or status >= 500:
            raise Retry(f"HTTP {status}: {detail}")
        raise Permanent(f"HTTP {status}: {detail}")
    if not body.strip():
        return {}
    try:
        answer = json.loads(body)
    except ValueError:
        return {"raw": body[:300].decode("utf-8", "replace")}
    return answer if isinstance(answer, dict) else {"raw": answer}


def _post_trusted(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.KESU_NOTIFY_HTTP_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        raise Retry(f"连接失败：{getattr(e, 'reason', e)}") from None


class KeyedLog:
    """An append-only text log where each entry carries its delivery key.

    Appends under an exclusive file lock, and skips an entry whose key is already in the file, so a
    message re-sent after a crash is written once. Each process keeps the keys it has read and only
    reads what other processes appended since.
    """

    _state: dict[str, tuple[int, int, set[str]]] = {}  # path -> (inode, offset read, keys)
    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def append(self, key: str, entry: str) -> bool:
        """Append `entry` (which must contain the key as its second tab-separated field on its first
        line); False if the key was already there."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock, self._open() as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                keys = self._read_new(f)
                if key in keys:
                    return False
                f.write(entry.encode())
                f.flush()
                keys.add(key)
                inode = os.fstat(f.fileno()).st_ino
                self._state[str(self.path)] = (inode, f.tell(), keys)
                return True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _open(self):
        """The log for appending, readable by Kesu's user only (it holds live sign-in codes and
        messages about complaints): created 0600, and closed to others if an older Kesu opened it."""
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_mode & 0o077:
                os.fchmod(fd, 0o600)
        except OSError:  # not ours to change: leave it as its owner set it
            pass
        return os.fdopen(fd, "ab+")

    def _read_new(self, f) -> set[str]:
        inode = os.fstat(f.fileno()).st_ino
        size = os.fstat(f.fileno()).st_size
        known_inode, offset, keys = self._state.get(str(self.path), (inode, 0, set()))
        if known_inode != inode or offset > size:  # rotated or truncated: read it all again
            offset, keys = 0, set()
        f.seek(offset)
        for line in f.read().split(b"\n"):
            parts = line.split(b"\t", 2)
            if len(parts) >= 2 and parts[0] == b"KEY":
                keys.add(parts[1].decode())
        f.seek(0, os.SEEK_END)
        self._state[str(self.path)] = (inode, f.tell(), keys)
        return keys
