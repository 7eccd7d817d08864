"""Test settings: the real settings with fast hashing and an isolated data folder."""

import tempfile
from pathlib import Path

from kesu.settings import *  # noqa: F403
from kesu.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kesu-test-media-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="kesu-test-static-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not the shared in-memory database: concurrent threads then queue on the write lock
    # as they do in production instead of failing with "database table is locked".
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.mkdtemp(prefix="kesu-test-db-")) / "test.sqlite3")
    }

# The tests' webhook and robot receivers listen on 127.0.0.1, which real deliveries may not reach
# (kesu/notify/outbound.py); tests of that rule set their own list.
KESU_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
