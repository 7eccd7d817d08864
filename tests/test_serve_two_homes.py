"""Two Kesu servers on one host keep out of each other's way (issue 13, finding 15).

gunicorn (since 25.1) opens a control socket for `gunicornc` at one path per user
(~/.gunicorn/gunicorn.ctl or $XDG_RUNTIME_DIR/gunicorn.ctl): a second `kesu serve` took the first's
path over, and stopping either one removed the other's socket. Now each server's gunicorn files live
under its own KESU_HOME (kesu/ops/management/commands/serve.py: own_paths).

The two servers listen on free ports, or on KESU_TEST_SERVE_PORTS ("8213,8214") where a machine
gives a test run its own port range.
"""

from __future__ import annotations

import os
import signal
import urllib.request
from pathlib import Path

import pytest
from notify_support import free_port, kesu_env, processes, wait_until

from kesu.ops.management.commands.serve import own_paths


def _ports() -> list[int]:
    given = os.environ.get("KESU_TEST_SERVE_PORTS", "")
    return [int(p) for p in given.split(",")[:2]] if given else [free_port(), free_port()]


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _arbiter_pid(control_socket: Path) -> int:
    from gunicorn.ctl.client import ControlClient

    with ControlClient(str(control_socket), timeout=10) as client:
        return int(client.send_command("show stats")["pid"])


def test_every_gunicorn_path_is_under_kesu_home(tmp_path):
    home = tmp_path / "home"
    paths = own_paths(home)
    assert Path(paths["control_socket"]).parent == home / "run"
    assert Path(paths["worker_tmp_dir"]) == home / "run"
    assert (home / "run").stat().st_mode & 0o777 == 0o700
    assert paths["dirty_workers"] == 0  # its pid file would be /tmp/gunicorn-dirty-<name>.pid
    # A folder too deep for a Unix socket's path: no control socket rather than a shared one.
    deep = own_paths(tmp_path / ("d" * 120))
    assert deep["control_socket_disable"] is True and "control_socket" not in deep


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_servers_with_their_own_homes_serve_and_stop_independently(tmp_path):
    user_home = tmp_path / "user"  # the HOME both run with: nothing of theirs may land there
    user_home.mkdir()
    homes = [tmp_path / "a", tmp_path / "b"]
    ports = _ports()
    with processes(tmp_path) as procs:
        servers = []
        for name, home, port in zip("ab", homes, ports, strict=True):
            env = kesu_env(home, HOME=str(user_home))
            env.pop("XDG_RUNTIME_DIR", None)
            args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-sweeper"]
            servers.append(procs.start(f"serve-{name}", args, env))
        for port in ports:
            wait_until(lambda port=port: _answers(port), timeout=90, what=f"kesu serve on {port}")

        sockets = [home / "run" / "gunicorn.ctl" for home in homes]
        wait_until(lambda: all(s.is_socket() for s in sockets), timeout=30, what="control sockets")
        # Each server's control socket is its own, and answers for that server.
        assert [_arbiter_pid(s) for s in sockets] == [p.pid for p in servers]
        assert not (user_home / ".gunicorn").exists()

        procs.kill(servers[0], signal.SIGTERM)
        assert servers[0].returncode is not None and not _answers(ports[0])
        assert _answers(ports[1])
        assert sockets[1].is_socket() and _arbiter_pid(sockets[1]) == servers[1].pid
