"""Rate limits hold across processes (issue 13, finding 10; docs/decisions/0009).

Before, the counts lived in each process's local-memory cache, so every limit multiplied by the
number of web workers. Now they live in one shared store: Redis in the scaled mode (a private
redis-server here), a file of its own in KESU_HOME in the embedded one. Intake never depends on
Redis: with Redis down, complaints are still registered and each process still counts on its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from api_support import api_for, register_body
from notify_support import ROOT, RedisServer, free_port, kesu_env, need, processes, wait_until
from portal_support import complain_form, portal_home_fixture  # noqa: F401

from kesu.complaints.models import Complaint
from kesu.org import ratelimit

COUNT_IN_A_PROCESS = """
import django, sys
django.setup()
from kesu.org import ratelimit
sys.stdin.readline()  # start together
print(sum(ratelimit.hit("test", "203.0.113.9", limit=20, window=3600) for _ in range(15)))
"""


@pytest.fixture
def redis_server(tmp_path):
    need(bool(shutil.which("redis-server")), "redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def counts_in_two_processes(tmp_path, **env: str) -> list[int]:
    """How many of 15 hits each of two processes got through a limit of 20."""
    environment = kesu_env(tmp_path, **env)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", COUNT_IN_A_PROCESS],
            env=environment,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate("go\n", timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    return [int(out.strip().splitlines()[-1]) for out, _err in outs]


@pytest.mark.django_db
def test_two_processes_share_one_count_in_redis(tmp_path, redis_server):
    accepted = counts_in_two_processes(tmp_path, KESU_REDIS_URL=redis_server.url)
    assert sum(accepted) == 20, accepted  # per process, it would have been 15 + 15


@pytest.mark.django_db
def test_two_processes_share_one_count_in_the_embedded_mode(tmp_path):
    accepted = counts_in_two_processes(tmp_path)
    assert sum(accepted) == 20, accepted
    assert (tmp_path / "ratelimit.sqlite3").stat().st_mode & 0o077 == 0  # private, like the data folder


@pytest.mark.django_db
def test_local_counts_per_process_when_asked_to(tmp_path):
    accepted = counts_in_two_processes(tmp_path, KESU_RATELIMIT_STORE="local")
    assert accepted == [15, 15]


def test_the_window_slides_a_burst_at_the_edge_of_a_window_is_not_let_through_twice(settings, monkeypatch):
    settings.KESU_RATELIMIT_STORE = "local"
    clock = [1_000_000 * 60 + 59.0]  # one second before a minute ends
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    assert all(ratelimit.hit("edge", "x", limit=10, window=60) for _ in range(10))
    clock[0] += 2  # the next minute has begun
    assert not ratelimit.hit("edge", "x", limit=10, window=60)
    clock[0] += 60  # a whole window later
    assert ratelimit.hit("edge", "x", limit=10, window=60)


# ---------------------------------------------------------------------------------------------
# two gunicorn workers, one limit


def anonymous_statuses(base: str, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        try:
            with urllib.request.urlopen(f"{base}/api/v1/choices/", timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)
    return statuses


def served_by_two_workers(tmp_path, **env: str) -> list[int]:
    port = free_port()
    environment = kesu_env(tmp_path, KESU_API_RATE_PER_IP="10/min", KESU_API_RATE_PER_KEY="", **env)
    base = f"http://127.0.0.1:{port}"
    with processes(tmp_path) as procs:
        procs.start(
            "web",
            ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-sweeper"],
            environment,
        )

        def up() -> bool:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=2).close()
                return True
            except Exception:
                return False

        wait_until(up, timeout=90, what="kesu serve")
        ratelimit_reset_in(environment)
        return anonymous_statuses(base, 30)


def ratelimit_reset_in(environment: dict[str, str]) -> None:
    """Forget the counts made while waiting for the server (its /login/ page counts nothing, but be sure)."""
    code = "import django; django.setup(); from kesu.org import ratelimit; ratelimit.reset()"
    subprocess.run([sys.executable, "-c", code], env=environment, cwd=ROOT, check=True, timeout=60)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("mode", ["embedded", "scaled"])
def test_two_web_workers_enforce_one_limit_per_address(tmp_path, mode, request):
    env = {}
    if mode == "scaled":
        env["KESU_REDIS_URL"] = request.getfixturevalue("redis_server").url
    statuses = served_by_two_workers(tmp_path, **env)
    assert statuses.count(429) == 20, statuses  # 10 a minute from this address, whichever worker answers
    assert set(statuses[:10]) <= {200, 401, 403}, statuses


# ---------------------------------------------------------------------------------------------
# Redis down: intake goes on, limits still hold (per process)


@pytest.fixture
def redis_down(settings):
    settings.KESU_REDIS_URL = f"redis://127.0.0.1:{free_port()}/13"  # nothing listens there
    settings.KESU_RATELIMIT_RETRY_SECONDS = 60.0
    ratelimit._down_until = 0.0
    yield
    ratelimit._down_until = 0.0


@pytest.mark.django_db
def test_with_redis_down_the_api_still_registers_complaints_and_still_limits(org, settings, redis_down):
    assert ratelimit.store_kind() == "redis"
    settings.KESU_API_RATE_PER_IP = "3/min"
    api = api_for(org.reception)
    created = [api.post("/complaints/", register_body(org)).status_code for _ in range(3)]
    assert created == [201, 201, 201]
    assert api.get("/complaints/").status_code == 429  # counted in this process meanwhile
    assert Complaint.objects.count() == 3


@pytest.mark.django_db
def test_with_redis_down_a_resident_still_files_a_complaint_from_the_portal(
    client, org, settings, redis_down, portal_home
):
    from django.urls import reverse

    client.force_login(org.resident, backend="django.contrib.auth.backends.ModelBackend")
    key = complain_form(client)
    response = client.post(
        reverse("portal:new"),
        {"key": key, "unit": org.a.unit.pk, "content": "电梯停运。", "preferred_contact": "any"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Complaint.objects.filter(received_by=org.resident).count() == 1


@pytest.mark.django_db
def test_after_an_outage_the_counts_are_shared_again(tmp_path, redis_server, settings):
    settings.KESU_REDIS_URL = redis_server.url
    settings.KESU_RATELIMIT_RETRY_SECONDS = 0.0
    ratelimit._down_until = 0.0
    assert ratelimit.hit("outage", "x", limit=5, window=3600)
    redis_server.stop()
    assert ratelimit.hit("outage", "x", limit=5, window=3600)  # local meanwhile, no error
    redis_server.start()

    def shared_again() -> bool:
        ratelimit.hit("outage", "y", limit=100, window=3600)
        return _shared_count(redis_server.url, "outage", "y") > 0

    wait_until(shared_again, timeout=20, what="the shared store to be used again")


def _shared_count(url: str, scope: str, who: str) -> int:
    import redis

    client = redis.Redis.from_url(url)
    return sum(int(client.get(k) or 0) for k in client.scan_iter(match=f"{ratelimit.PREFIX}{scope}:{who}:*"))


def test_a_misnamed_store_is_refused_at_start_up(tmp_path):
    env = kesu_env_without_db(tmp_path, KESU_RATELIMIT_STORE="memcached")
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "KESU_RATELIMIT_STORE must be" in done.stderr


def kesu_env_without_db(tmp_path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(DJANGO_SETTINGS_MODULE="kesu.settings", KESU_HOME=str(tmp_path), **extra)
    return env


@pytest.mark.django_db
def test_rate_limit_problem_bodies_stay_json(settings):
    """(The 429 itself is covered in test_api_errors; here: the new counter still gives Retry-After.)"""
    settings.KESU_API_RATE_PER_IP = "1/min"
    from django.test import Client

    client = Client()
    client.get("/api/v1/choices/")
    response = client.get("/api/v1/choices/")
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 61
    assert json.loads(response.content)["code"] == "throttled"
