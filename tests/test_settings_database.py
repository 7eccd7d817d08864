"""Database settings from the environment: the PostgreSQL planner setting Kesu applies per connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def database_settings(tmp_path, **env: str) -> dict:
    """DATABASES['default'] as kesu.settings builds it from this environment (in a fresh process)."""
    code = "import json, kesu.settings as s; print(json.dumps(s.DATABASES['default'], default=str))"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    run_env.update({"KESU_HOME": str(tmp_path), "PYTHONPATH": ROOT, **env})
    out = subprocess.run([sys.executable, "-c", code], env=run_env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_postgresql_connections_plan_for_a_cached_working_set(tmp_path):
    db = database_settings(tmp_path, KESU_DATABASE_URL="postgres://kesu@db:5432/kesu")
    assert db["OPTIONS"]["options"] == "-c random_page_cost=1.1"


def test_the_planner_setting_can_be_changed_or_left_to_the_server(tmp_path):
    url = "postgres://kesu@db:5432/kesu"
    db = database_settings(tmp_path, KESU_DATABASE_URL=url, KESU_PG_RANDOM_PAGE_COST="2")
    assert db["OPTIONS"]["options"] == "-c random_page_cost=2.0"
    db = database_settings(tmp_path, KESU_DATABASE_URL=url, KESU_PG_RANDOM_PAGE_COST="0")
    assert "options" not in db.get("OPTIONS", {})


def test_options_given_in_the_url_are_kept(tmp_path):
    url = "postgres://kesu@db:5432/kesu?options=-c%20statement_timeout%3D5000"
    db = database_settings(tmp_path, KESU_DATABASE_URL=url)
    assert db["OPTIONS"]["options"] == "-c statement_timeout=5000 -c random_page_cost=1.1"


def test_sqlite_gets_no_postgresql_options(tmp_path):
    db = database_settings(tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert "options" not in db["OPTIONS"]


@pytest.mark.django_db
def test_the_live_postgresql_connection_uses_it():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SHOW random_page_cost")
        assert cur.fetchone()[0] == "1.1"
