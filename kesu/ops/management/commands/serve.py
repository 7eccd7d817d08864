from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections


class Command(BaseCommand):
    help = (
        "启动客诉系统（网页服务，内置时限检查与通知发送）。Serve Kesu: the web app (gunicorn) and, unless "
        "--no-sweeper, an in-process sweeper that delivers notifications every few seconds and checks deadlines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("KESU_WEB_WORKERS", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("KESU_WEB_THREADS", "4")))
        parser.add_argument(
            "--no-sweeper",
            action="store_true",
            help="run no periodic job here (scaled mode: `kesu beat` starts them and `kesu worker` runs them)",
        )
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=float(os.environ.get("KESU_SWEEP_SECONDS", "30")),
            help="deadline sweep interval in seconds (KESU_SWEEP_SECONDS, default 30); notifications go "
            "out every KESU_DELIVERY_SECONDS (default 3)",
        )

    def handle(self, *args, **options):
        from gunicorn.app.base import BaseApplication

        from kesu.ops.baseurl import follow_served_address
        from kesu.ops.sweeper import Sweeper

        # Before anything forks or sends: links in messages lead to where this serves.
        links = follow_served_address(options["host"], options["port"])
        call_command("collectstatic", interactive=False, verbosity=0)
        # Imported after collectstatic: WhiteNoise indexes the static folder when the app loads.
        from kesu.wsgi import application

        connections.close_all()  # never hand an open connection to forked workers
        bind = f"{options['host']}:{options['port']}"
        sweeper = None if options["no_sweeper"] else Sweeper(options["sweep_seconds"])

        class Server(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", bind)
                self.cfg.set("workers", options["workers"])
                self.cfg.set("threads", options["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", "-" if settings.DEBUG else None)
                self.cfg.set("graceful_timeout", 5)
                for name, value in own_paths(settings.KESU_HOME).items():
                    if name in self.cfg.settings:  # the control socket is gunicorn 25.1's
                        self.cfg.set(name, value)
                if sweeper is not None:
                    self.cfg.set("when_ready", lambda server: sweeper.start())

            def load(self):
                return application

        self.stdout.write(f"Kesu serving on http://{bind}/")
        self.stdout.write(links)
        self.stdout.write(where_jobs_run(sweeper is not None, options["sweep_seconds"]))
        Server().run()


def where_jobs_run(here: bool, sweep_seconds: float) -> str:
    """One truthful line on who runs the periodic jobs (kesu.ops.jobs.JOBS)."""
    from kesu.ops import jobs

    names = ", ".join(job.name for job in jobs.JOBS)
    if here:
        return (
            f"periodic jobs in this process ({names}): deliveries every {settings.KESU_DELIVERY_SECONDS:g} s, "
            f"the rest every {sweep_seconds:g} s"
        )
    if settings.KESU_REDIS_URL:
        return f"periodic jobs ({names}): not here; `kesu beat` (one) starts them and `kesu worker` runs them"
    return (
        f"WARNING: no periodic job runs here ({names}) and KESU_REDIS_URL is not set, so no `kesu worker` "
        "can run them: deadlines are not checked and notifications are not sent until one does"
    )


# A Unix socket's path must fit in sun_path (108 bytes on Linux, 104 on macOS).
_UNIX_PATH_MAX = 100


def own_paths(home: Path) -> dict[str, object]:
    """gunicorn's files that default to one place per user or host, moved under this server's
    KESU_HOME: two Kesu servers on one host (a test copy beside the real one) never share them.

    - The control socket (gunicorn ≥ 25.1, for `gunicornc`) defaults to $XDG_RUNTIME_DIR/gunicorn.ctl
      or ~/.gunicorn/gunicorn.ctl: a second server unlinked the first's socket and took the path,
      and stopping either removed the other's, so `gunicornc` reached the wrong Kesu or none. Here it
      is KESU_HOME/run/gunicorn.ctl (0600 in a 0700 folder); on a path too long for a Unix socket it
      is switched off (Kesu itself never uses it).
    - Each worker's heartbeat file goes in KESU_HOME/run rather than the shared /tmp.
    No pid file is written (none is configured), and no dirty worker runs (its pid file would sit in
    /tmp, named after the process name)."""
    run = home / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    socket = run / "gunicorn.ctl"
    paths: dict[str, object] = {"worker_tmp_dir": str(run), "dirty_workers": 0}
    if len(str(socket).encode()) <= _UNIX_PATH_MAX:
        paths["control_socket"] = str(socket)
    else:
        paths["control_socket_disable"] = True
    return paths
