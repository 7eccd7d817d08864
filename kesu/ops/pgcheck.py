"""Exit 0 when the PostgreSQL server at the given URL answers (used by `make test`)."""

import sys

import psycopg


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else "postgres://postgres@127.0.0.1:5432/test"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
