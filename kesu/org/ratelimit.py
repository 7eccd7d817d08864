"""Rate limits that hold across every process of one Kesu (docs/decisions/0009-rate-limits-shared-store.md).

`hit(scope, who, limit=, window=)` counts one request of `who` (a client address, a key, a user) for
`scope` and says whether it is within `limit` per `window` seconds. The count is a sliding-window
estimate over two fixed windows (this window's count plus the previous window's, weighted by how much
of it still overlaps the last `window` seconds), so a burst across a window's edge is not let through
twice. Refused requests count too: a client that keeps hammering stays refused.

The counts live in one store shared by every web process:

- "redis" (the default with KESU_REDIS_URL, scaled mode; KESU_RATELIMIT_REDIS_URL to use another):
  one MULTI/EXEC round trip per hit, keys under "kesu:rl:" that expire on their own.
- "sqlite" (the default without it, embedded mode: `kesu serve` runs several gunicorn workers on one
  machine): KESU_HOME/ratelimit.sqlite3, a file of its own, never the main database (a count must
  not queue behind intake's write lock, nor intake behind a count).
- "local": this process only (KESU_RATELIMIT_STORE=local, for a single-process set-up).

Intake never depends on Redis: when the store fails (Redis down, a full disk), the process counts in
its own memory for KESU_RATELIMIT_RETRY_SECONDS and then tries the store again, so a limit still holds
(per process) and no request fails because of it.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

log = logging.getLogger("kesu.ratelimit")

PREFIX = "kesu:rl:"
STORES = ("redis", "sqlite", "local")


class Store(Protocol):
    def count(self, current: str, previous: str, ttl: int) -> tuple[int, int]:
        """Add one to `current` (kept `ttl` seconds) and return it with the count of `previous`."""

    def reset(self) -> None:
        """Forget every count (tests)."""


class LocalStore:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def count(self, current: str, previous: str, ttl: int) -> tuple[int, int]:
        now = time.time()
        with self._lock:
            n, expires = self._counts.get(current, (0, now + ttl))
            if expires <= now:
                n, expires = 0, now + ttl
            self._counts[current] = (n + 1, expires)
            p, p_expires = self._counts.get(previous, (0, now))
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        return n + 1, (p if p_expires > now else 0)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisStore:
    def __init__(self, url: str) -> None:
        import redis

        # Short timeouts: while Redis is down a request pays at most this once per retry interval.
        self.client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)

    def count(self, current: str, previous: str, ttl: int) -> tuple[int, int]:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(PREFIX + current, 0, ex=ttl, nx=True)
        pipe.incr(PREFIX + current)
        pipe.get(PREFIX + previous)
        _, n, p = pipe.execute()
        return int(n), int(p or 0)

    def reset(self) -> None:
        keys = list(self.client.scan_iter(match=PREFIX + "*", count=1000))
        if keys:
            self.client.delete(*keys)


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # a count lost in a power cut does not matter
        conn.execute(
            "CREATE TABLE IF NOT EXISTS hits (key TEXT PRIMARY KEY, n INTEGER NOT NULL, expires REAL NOT NULL)"
        )
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def count(self, current: str, previous: str, ttl: int) -> tuple[int, int]:
        conn = self._connection()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM hits WHERE key = ? AND expires <= ?", (current, now))
            (n,) = conn.execute(
                "INSERT INTO hits (key, n, expires) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET n = n + 1 RETURNING n",
                (current, now + ttl),
            ).fetchone()
            row = conn.execute("SELECT n FROM hits WHERE key = ? AND expires > ?", (previous, now)).fetchone()
            if random.random() < 0.01:
                conn.execute("DELETE FROM hits WHERE expires <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(n), int(row[0]) if row else 0

    def reset(self) -> None:
        self._connection().execute("DELETE FROM hits")


LOCAL = LocalStore()
_stores: dict[tuple[str, str], Store] = {}
_stores_lock = threading.Lock()
_down_until = 0.0


def store_kind() -> str:
    kind = getattr(settings, "KESU_RATELIMIT_STORE", "") or ""
    if not kind:
        return "redis" if _redis_url() else "sqlite"
    if kind not in STORES:
        raise ValueError(f"KESU_RATELIMIT_STORE must be one of {', '.join(STORES)}, not {kind!r}")
    return kind


def _redis_url() -> str:
    return getattr(settings, "KESU_RATELIMIT_REDIS_URL", "") or getattr(settings, "KESU_REDIS_URL", "")


def store() -> Store:
    """The configured store (one per kind and place, per process)."""
    kind = store_kind()
    if kind == "local":
        return LOCAL
    where = _redis_url() if kind == "redis" else str(Path(settings.KESU_HOME) / "ratelimit.sqlite3")
    with _stores_lock:
        found = _stores.get((kind, where))
        if found is None:
            found = RedisStore(where) if kind == "redis" else SqliteStore(Path(where))
            _stores[(kind, where)] = found
        return found


def _count(current: str, previous: str, ttl: int) -> tuple[int, int]:
    global _down_until
    shared = store()
    if shared is LOCAL or time.monotonic() < _down_until:
        return LOCAL.count(current, previous, ttl)
    try:
        return shared.count(current, previous, ttl)
    except Exception as e:  # never let a rate limit fail a request
        _down_until = time.monotonic() + getattr(settings, "KESU_RATELIMIT_RETRY_SECONDS", 5.0)
        log.warning(
            "rate-limit store (%s) unavailable, counting in this process for now: %s", store_kind(), e
        )
        return LOCAL.count(current, previous, ttl)


def hit(scope: str, who: Any, *, limit: int, window: int) -> bool:
    """Count one hit; False once `who` made more than `limit` hits of `scope` in the last `window` s."""
    if limit <= 0 or window <= 0:
        return True
    now = time.time()
    slot = int(now // window)
    base = f"{scope}:{who}:{window}:"
    n, previous = _count(f"{base}{slot}", f"{base}{slot - 1}", ttl=2 * window + 5)
    overlap = 1.0 - (now % window) / window  # share of the previous window still within `window`
    return n + previous * overlap <= limit


def retry_after(window: int) -> int:
    """Seconds until the current fixed window ends (by then at most the weighted rest still counts)."""
    return int(window - time.time() % window) + 1


def reset() -> None:
    """Forget every count in the configured store and this process (tests)."""
    global _down_until
    LOCAL.reset()
    _down_until = 0.0
    try:
        store().reset()
    except Exception:
        log.debug("rate-limit store not reset", exc_info=True)
