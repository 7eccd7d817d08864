"""Real parts for the notification tests: an SMTP server (aiosmtpd), an HTTP receiver that honours
idempotency keys (as an SMS gateway would), a private redis-server, and `kesu` subprocesses.

Tests that need Redis or PostgreSQL skip when they are not reachable, except on CI (CI=true),
where they fail instead. Loaded as a pytest plugin by the test_notify_* modules (PYTEST_DONT_REWRITE:
they also import its helpers directly).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("KESU_TEST_REDIS_URL", "redis://127.0.0.1:6379/10")


def need(ok: bool, reason: str) -> None:
    """Skip unless `ok`; on CI the missing service is a failure, not a skip."""
    if ok:
        return
    if CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(
    predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05, what: str = ""
):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# SMTP


class SmtpSink:
    """An aiosmtpd server on a fixed port that can be stopped (port closed) and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[email.message.EmailMessage] = []
        self._controller = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                with sink._lock:
                    sink.messages.append(msg)
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> Counter:
        with self._lock:
            return Counter(m["Message-ID"] for m in self.messages)


# ---------------------------------------------------------------------------------------------
# HTTP


class HttpSink:
    """Records JSON POSTs. Like a gateway that honours idempotency keys, it accepts each key once
    and answers a repeat with success without taking it again. `fail_next` answers 500s first;
    `hold()` keeps the next requests waiting for an answer (a worker stuck mid-send)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # every POST, repeats included
        self.accepted: dict[str, dict] = {}  # key -> first request
        self.fail_next = 0
        self.status_next: int | None = None
        self._release = threading.Event()
        self._release.set()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stalls

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode("utf-8", "replace")}
                key = self.headers.get("Idempotency-Key", "")
                record = {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": body,
                    "key": key,
                    "at": time.time(),
                }
                status, answer = 200, {"errcode": 0, "code": 0, "errmsg": "ok"}
                with sink._lock:
                    sink.requests.append(record)
                    if sink.status_next is not None:
                        status, answer = sink.status_next, {"errcode": 1, "errmsg": "rejected"}
                        sink.status_next = None
                    elif sink.fail_next > 0:
                        sink.fail_next -= 1
                        status, answer = 500, {"errcode": -1, "errmsg": "busy"}
                    elif key and key in sink.accepted:
                        answer = {**answer, "duplicate": True}
                    else:
                        sink.accepted[key or f"#{len(sink.requests)}"] = record
                if status == 200:
                    sink._release.wait(timeout=60)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the sender was killed while we held the answer
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> HttpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def hold(self) -> None:
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def keys(self) -> Counter:
        with self._lock:
            return Counter(r["key"] for r in self.requests)

    def accepted_for(self, path_prefix: str) -> list[dict]:
        with self._lock:
            return [r for r in self.accepted.values() if r["path"].startswith(path_prefix)]


# ---------------------------------------------------------------------------------------------
# Redis


def redis_reachable(url: str) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def flush_redis(url: str) -> None:
    """Flush the one database the URL names (never 0: that belongs to whoever runs this machine)."""
    import redis

    client = redis.Redis.from_url(url)
    assert client.connection_pool.connection_kwargs.get("db", 0) != 0, "tests use Redis databases 9–12"
    client.flushdb()


class RedisServer:
    """A private redis-server (no persistence) on a free port, to stop and start at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/9"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: redis_reachable(self.url) or self.proc.poll() is not None, timeout=10, what="redis-server"
        )
        # On a shared machine another process may take the port while our server is stopped: then
        # say so, instead of letting the test talk to somebody else's server.
        import redis

        assert self.proc.poll() is None, f"redis-server exited: port {self.port} was taken by another process"
        pid = redis.Redis.from_url(self.url, socket_connect_timeout=1).info("server").get("process_id")
        assert pid == self.proc.pid, f"port {self.port} was taken by another redis-server"
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


# ---------------------------------------------------------------------------------------------
# the test database and `kesu` subprocesses


def database_url() -> str:
    """The URL of the database this test runs on (the test database), for subprocesses."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(s["NAME"]).resolve())
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += ":" + s["PASSWORD"]
    return f"postgres://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def kesu_env(home: Path, **extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="kesu.settings",
        KESU_HOME=str(home),
        KESU_DATABASE_URL=database_url(),
        KESU_SECRET_KEY=settings.SECRET_KEY,
        KESU_DB_CONN_MAX_AGE="0",
        KESU_LOG_LEVEL="INFO",
        KESU_WEBHOOK_ALLOWED_HOSTS=",".join(settings.KESU_WEBHOOK_ALLOWED_HOSTS),  # local receivers
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Processes:
    """`kesu` subprocesses, each in its own process group (so killing one kills its pool), with logs."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        with open(self.logdir / f"{name}.log", "ab") as log:  # the child keeps its own handle
            proc = subprocess.Popen(
                [sys.executable, "-m", "kesu.cli", *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.name = name  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc, signal.SIGTERM)
        for proc in self.procs:  # pool children left behind by a SIGTERMed parent
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def logs(self) -> str:
        out = []
        for path in sorted(self.logdir.glob("*.log")):
            out.append(f"===== {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


@contextlib.contextmanager
def processes(logdir: Path) -> Iterator[Processes]:
    procs = Processes(logdir)
    try:
        yield procs
    except BaseException:
        sys.stderr.write(procs.logs())
        raise
    finally:
        procs.stop_all()


def session_cookie(user) -> str:
    """A signed-in session for `user`, stored in the shared database (any web process accepts it)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def http_get_json(url: str, cookie: str | None = None, timeout: float = 5.0) -> dict:
    import urllib.request

    request = urllib.request.Request(url)
    if cookie:
        request.add_header("Cookie", f"sessionid={cookie}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------------------------------------
# fixtures (test modules import them by name)


@pytest.fixture
def notify_env(settings, tmp_path):
    """Delivery into files under tmp_path, no SMTP, no queue: what each test changes, it overrides."""
    from types import SimpleNamespace

    settings.KESU_SMS_PROVIDER = "file"
    settings.KESU_SMS_LOG = tmp_path / "sms.log"
    settings.KESU_EMAIL_LOG = tmp_path / "email.log"
    settings.KESU_SMTP_URL = ""
    settings.KESU_REDIS_URL = ""
    settings.KESU_NOTIFY_HTTP_TIMEOUT = 5.0
    settings.KESU_BASE_URL = "https://kesu.example.com"
    return SimpleNamespace(sms_log=tmp_path / "sms.log", email_log=tmp_path / "email.log", settings=settings)


def sms_lines(path: Path) -> list[list[str]]:
    """The SMS log as [key, time, phone, text] rows."""
    if not path.exists():
        return []
    return [
        line.split("\t")[1:]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("KEY\t")
    ]


@pytest.fixture
def http_sink():
    sink = HttpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()
