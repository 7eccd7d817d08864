"""The `kesu` command: a thin front over Django's management commands, with plain help."""

from __future__ import annotations

import os
import sys

HELP = """kesu — 客诉 complaint handling for property-management companies

usage: kesu <command> [options]      (kesu <command> --help for details)

  demo         migrate, load the demo company (25 offices, staff, residents, two months of
               complaints; about a minute on two cores, progress shown) and serve it on
               http://127.0.0.1:8000  [--no-serve] [--host] [--port] [--seed] [--reset]
  serve        serve the product (web + every periodic job in process: deadlines, reminders,
               notifications, webhooks, the monthly report)  [--host] [--port] [--no-sweeper]
  sweep        check deadlines once: record breaches, warnings, escalations, the morning digest
  worker       scaled mode (KESU_REDIS_URL): a Celery worker that runs the periodic jobs  [--concurrency N]
  beat         scaled mode (KESU_REDIS_URL): starts every periodic job on its interval (run one)
  createadmin  create a company administrator account
  apikey       integration keys for the REST API: create --user U [--office CODE] [--scope read|write], list, revoke
  migrate      create or upgrade the database
  report       the monthly complaint report: monthly --month YYYY-MM [--to] [--office] --format F --out FILE
  manage ...   any Django management command (e.g. kesu manage shell)

The data folder is ./var in the checkout, or KESU_HOME. Other settings: see .env.example.
"""

COMMANDS = {"demo", "serve", "sweep", "createadmin", "migrate", "apikey", "report", "worker", "beat"}


# Files and folders Kesu creates (the SQLite database and its journal, logs, exports, collected static
# files) are its own user's only: 0600 and 0700. The data folder holds personal data and live codes.
UMASK = 0o077


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.umask(UMASK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    args = argv[1:]
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(HELP)
        return
    command, rest = args[0], args[1:]
    if command == "manage":
        if not rest:
            rest = ["help"]
        command, rest = rest[0], rest[1:]
    elif command not in COMMANDS:
        sys.stderr.write(f"kesu: unknown command {command!r}\n\n{HELP}")
        raise SystemExit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kesu", command, *rest])


if __name__ == "__main__":
    main()
