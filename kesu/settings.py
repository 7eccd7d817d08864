"""Kesu settings: one module, driven by environment variables (see .env.example).

With nothing set, Kesu runs embedded: SQLite under KESU_HOME (default ./var in the checkout),
background work in-process. Set KESU_DATABASE_URL / KESU_REDIS_URL to run scaled.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, not {raw!r}")


def _env_parsed(name: str, default, parse, what: str):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be {what}, not {raw!r}") from None


def env_int(name: str, default: int) -> int:
    return _env_parsed(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _env_parsed(name, default, float, "a number")


def env_destinations(name: str) -> list[str]:
    """Host names and networks (CIDR), comma-separated; a network with a typo fails loudly instead of
    quietly allowing nothing."""
    entries = [h.strip() for h in env_str(name).split(",") if h.strip()]
    for entry in entries:
        if "/" in entry:
            try:
                ipaddress.ip_network(entry.strip("[]"), strict=False)
            except ValueError:
                raise ValueError(f"{name}: {entry!r} is not a network like 10.8.0.0/16") from None
    return entries


KESU_HOME = Path(env_str("KESU_HOME") or BASE_DIR / "var").resolve()
# The data folder holds the database, attachments, live sign-in codes (sms.log) and the secret key:
# only Kesu's own user may enter it. `kesu` sets the umask to 077 at start-up, so what it creates
# there is 0600 (files) and 0700 (folders); a folder created before that is closed here.
KESU_HOME.mkdir(mode=0o700, parents=True, exist_ok=True)
if KESU_HOME.stat().st_uid == os.getuid() and KESU_HOME.stat().st_mode & 0o077:
    KESU_HOME.chmod(0o700)


def _secret_key() -> str:
    key = env_str("KESU_SECRET_KEY")
    if key:
        return key
    # Embedded mode: generate once and keep it in the data folder so sessions survive restarts.
    path = KESU_HOME / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KESU_DEBUG", False)
ALLOWED_HOSTS = [h for h in env_str("KESU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("KESU_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "kesu.org",
    "kesu.complaints",
    "kesu.notify",
    "kesu.ops",
    "kesu.web",
    "kesu.api",
    "kesu.reports",
    "kesu.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kesu.web.middleware.SessionMiddleware",  # Django's; a background poll does not renew the session
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: locks out repeated failed sign-ins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Reverse proxies in front of Kesu: the client's address is then read from X-Forwarded-For
# (kesu/org/client.py), for every per-address limit and the sign-in lock-out alike.
KESU_NUM_PROXIES = env_int("KESU_NUM_PROXIES", 0)
# Lock-out: a user name from one address after KESU_LOGIN_FAILURE_LIMIT failures, and an address
# after KESU_LOGIN_FAILURE_LIMIT_PER_IP failures over all user names (password spraying; 0 = off),
# for KESU_LOGIN_COOLOFF_MINUTES. See kesu/web/lockout.py.
AXES_FAILURE_LIMIT = env_int("KESU_LOGIN_FAILURE_LIMIT", 5)
KESU_LOGIN_FAILURE_LIMIT_PER_IP = env_int("KESU_LOGIN_FAILURE_LIMIT_PER_IP", 30)
AXES_COOLOFF_TIME = env_int("KESU_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "kesu.org.client.client_ip"
AXES_HANDLER = "kesu.web.lockout.LockoutHandler"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "kesu.urls"
WSGI_APPLICATION = "kesu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("KESU_DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": KESU_HOME / "kesu.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent intake transactions queue
                # instead of failing with "database is locked" when they upgrade a read lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    config = dj_database_url.parse(url, conn_max_age=env_int("KESU_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
    elif "postgresql" in config["ENGINE"]:
        # The planner's default (4.0) assumes spinning disks and, with complaints stored in arrival
        # order, prefers reading a whole month by time over an office's rows by (office, time).
        # 1.1 is the usual value for SSDs and a cached working set; 0 or less leaves the server's.
        cost = env_float("KESU_PG_RANDOM_PAGE_COST", 1.1)
        if cost > 0:
            options = config.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c random_page_cost={cost}".strip()
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kesu" / "locale"]
TIME_ZONE = env_str("KESU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = KESU_HOME / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = KESU_HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_AGE = env_int("KESU_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Attachments: size limits per kind, in bytes (the type is always sniffed from the bytes).
KESU_ATTACHMENT_LIMITS = {
    "image": env_int("KESU_MAX_IMAGE_BYTES", 10 * 1024 * 1024),
    "audio": env_int("KESU_MAX_AUDIO_BYTES", 20 * 1024 * 1024),
    "video": env_int("KESU_MAX_VIDEO_BYTES", 100 * 1024 * 1024),
    "document": env_int("KESU_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Attachments are personal data, served only through views that check the viewer's scope.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

KESU_REDIS_URL = env_str("KESU_REDIS_URL")
# Per-process cache, also in scaled mode: intake must keep working while Redis is down (policies and
# calendars are cached here for a minute). Rate limits are not kept in it (below).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits (API, portal) count in one store every web process shares (kesu/org/ratelimit.py,
# docs/decisions/0009): Redis with KESU_REDIS_URL (or KESU_RATELIMIT_REDIS_URL), else a file of its
# own in KESU_HOME (sqlite); "local" counts per process. While the store fails, each process counts on
# its own and tries again after KESU_RATELIMIT_RETRY_SECONDS: a limit never fails a request.
KESU_RATELIMIT_STORE = env_str("KESU_RATELIMIT_STORE")
if KESU_RATELIMIT_STORE not in {"", "redis", "sqlite", "local"}:
    raise ValueError(f"KESU_RATELIMIT_STORE must be redis, sqlite or local, not {KESU_RATELIMIT_STORE!r}")
KESU_RATELIMIT_REDIS_URL = env_str("KESU_RATELIMIT_REDIS_URL")
KESU_RATELIMIT_RETRY_SECONDS = env_float("KESU_RATELIMIT_RETRY_SECONDS", 5.0)
KESU_BASE_URL = env_str("KESU_BASE_URL", "http://127.0.0.1:8000")

# --- HTTPS ---
# With an https KESU_BASE_URL, Kesu is served over HTTPS by a reverse proxy in front of `kesu serve`
# (which speaks plain HTTP): cookies are sent over HTTPS only, browsers are told to use HTTPS for a
# year (HSTS, subdomains included; preloading is a commitment to the browsers' lists, so off unless
# KESU_HSTS_PRELOAD), plain HTTP is redirected, and a request is taken as HTTPS when the proxy says so
# in X-Forwarded-Proto (the proxy must set that header itself, replacing any the client sent).
KESU_HTTPS = KESU_BASE_URL.lower().startswith("https://")


def _proxy_ssl_header() -> tuple[str, str] | None:
    raw = env_str("KESU_PROXY_SSL_HEADER", "X-Forwarded-Proto=https" if KESU_HTTPS else "")
    if not raw or raw.lower() in {"off", "none", "false", "0"}:
        return None
    name, sep, value = raw.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"KESU_PROXY_SSL_HEADER must look like Header-Name=value or off, not {raw!r}")
    return "HTTP_" + name.strip().upper().replace("-", "_"), value.strip()


SESSION_COOKIE_SECURE = env_bool("KESU_SESSION_COOKIE_SECURE", KESU_HTTPS)
CSRF_COOKIE_SECURE = env_bool("KESU_CSRF_COOKIE_SECURE", KESU_HTTPS)
SECURE_HSTS_SECONDS = env_int("KESU_HSTS_SECONDS", 365 * 86400 if KESU_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KESU_HSTS_INCLUDE_SUBDOMAINS", KESU_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("KESU_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("KESU_SSL_REDIRECT", KESU_HTTPS)
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()
# `check --deploy` asks for HSTS preloading (W021); that is the operator's choice (KESU_HSTS_PRELOAD).
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# --- end HTTPS ---

STATICFILES_DIRS: list = []
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# --- web workspace ---
# Every request renews the session, so SESSION_COOKIE_AGE is the idle time after which a front-desk
# PC left signed in asks for the password again.
SESSION_SAVE_EVERY_REQUEST = True
# The sign-in page, in Chinese, when django-axes locks a user name out after repeated failures.
AXES_LOCKOUT_CALLABLE = "kesu.web.views.auth.locked_out"
TEMPLATES[0]["OPTIONS"]["context_processors"].append("kesu.web.context.workspace")
# A Content-Security-Policy on every page (kesu/web/middleware.py; before axes, which must stay last).
MIDDLEWARE.insert(
    MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "kesu.web.middleware.ContentSecurityPolicy"
)
# --- end web workspace ---

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kesu.api.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kesu.api.permissions.ApiAccess"],
    # Per key here; per client address in kesu.api.views.ApiMixin, before authentication.
    "DEFAULT_THROTTLE_CLASSES": ["kesu.api.throttles.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kesu.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "kesu.api.negotiation.JsonAlways",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kesu.api.problems.exception_handler",
    "NON_FIELD_ERRORS_KEY": "__all__",
    # The per-IP limit reads the client address with kesu.org.client.client_ip (KESU_NUM_PROXIES).
    "NUM_PROXIES": KESU_NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
KESU_API_RATE_PER_KEY = env_str("KESU_API_RATE_PER_KEY", "600/min")  # per key (or signed-in user)
KESU_API_RATE_PER_IP = env_str("KESU_API_RATE_PER_IP", "1200/min")  # per client address
KESU_API_IDEMPOTENCY_HOURS = env_int("KESU_API_IDEMPOTENCY_HOURS", 24)
KESU_WEBHOOK_TIMEOUT_SECONDS = env_int("KESU_WEBHOOK_TIMEOUT_SECONDS", 10)
KESU_WEBHOOK_RETRY_BASE_SECONDS = env_int("KESU_WEBHOOK_RETRY_BASE_SECONDS", 15)
KESU_WEBHOOK_RETRY_MAX_SECONDS = env_int("KESU_WEBHOOK_RETRY_MAX_SECONDS", 600)
KESU_WEBHOOK_GIVE_UP_HOURS = env_int("KESU_WEBHOOK_GIVE_UP_HOURS", 72)
KESU_WEBHOOK_PASS_SECONDS = env_int("KESU_WEBHOOK_PASS_SECONDS", 20)
# Webhooks and robots go to public addresses only (kesu/notify/outbound.py, docs/decisions/0010),
# except to these hosts and networks, comma-separated: "erp.corp.example,10.8.0.0/16,192.168.1.20".
KESU_WEBHOOK_ALLOWED_HOSTS = env_destinations("KESU_WEBHOOK_ALLOWED_HOSTS")
SPECTACULAR_SETTINGS = {
    "TITLE": "Kesu 客诉 API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "REST API v1 over the complaint lifecycle. Authenticate with `Authorization: Bearer <key>` "
        "(keys: `kesu apikey create`). Codes (status, channel, nature, severity, …) are stable; labels "
        "come from `/api/v1/choices/` in the language of `Accept-Language` (zh-hans default, en). "
        "Timestamps are ISO 8601 with offset, in the company's time zone. Errors are "
        "`application/problem+json` (RFC 9457). POSTs accept `Idempotency-Key`."
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ComplaintStatus": "kesu.complaints.choices.Status",
        "Channel": "kesu.complaints.choices.Channel",
        "Nature": "kesu.complaints.choices.Nature",
        "NatureSubtype": "kesu.complaints.choices.NatureSubtype",
        "Severity": "kesu.complaints.choices.Severity",
        "Satisfaction": "kesu.complaints.choices.Satisfaction",
        "CallbackMethod": "kesu.complaints.choices.CallbackMethod",
        "CloseOutcome": "kesu.complaints.choices.CloseOutcome",
        "DeclineReason": "kesu.complaints.choices.DeclineReason",
        "EventType": "kesu.complaints.choices.EventType",
        "DepartmentType": "kesu.org.choices.DepartmentType",
        "WebhookEvent": "kesu.api.models.WEBHOOK_EVENTS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kesu.api.schema.add_problems",
    ],
    # Swagger UI from the vendored sidecar package: the docs work with no internet. (ReDoc is not
    # served: its page loads Google Fonts.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# --- end API ---

# --- notifications ---
# Delivery of the outbox (kesu/notify/delivery.py). Every notification is first an outbox row; these
# settings only decide how and when rows are sent. See docs/decisions/0005-notification-delivery.md.


def _env_pairs(name: str, default: dict[str, str]) -> dict[str, str]:
    """`a=1,b=2` → {"a": "1", "b": "2"} over the defaults."""
    result = dict(default)
    for part in env_str(name).split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{name} must look like kind=value,kind=value, not {part!r}")
        result[key.strip()] = value.strip()
    return result


# Email: smtp://user:password@host:port (smtps:// for TLS from the start; ?starttls=true to upgrade).
# Without it, e-mails are appended to KESU_HOME/email.log (the demo's "mailbox").
KESU_SMTP_URL = env_str("KESU_SMTP_URL")
KESU_EMAIL_FROM = env_str("KESU_EMAIL_FROM", "客诉 Kesu <kesu@localhost>")
KESU_EMAIL_LOG = Path(env_str("KESU_EMAIL_LOG") or KESU_HOME / "email.log")
# SMS: "file" (one line per message in KESU_HOME/sms.log), "http" (a provider's HTTP API), or the
# dotted path of a class with send(row).
KESU_SMS_PROVIDER = env_str("KESU_SMS_PROVIDER", "file")
KESU_SMS_LOG = Path(env_str("KESU_SMS_LOG") or KESU_HOME / "sms.log")
KESU_SMS_HTTP_URL = env_str("KESU_SMS_HTTP_URL")
KESU_SMS_HTTP_USER = env_str("KESU_SMS_HTTP_USER")  # account / access key id
KESU_SMS_HTTP_TOKEN = env_str("KESU_SMS_HTTP_TOKEN")  # secret, sent as a bearer token
KESU_SMS_SIGN_NAME = env_str("KESU_SMS_SIGN_NAME", "客诉")  # 短信签名
# Provider template ids by message kind, e.g. ack=SMS_1001,progress=SMS_1002,result=SMS_1003.
KESU_SMS_TEMPLATES = _env_pairs("KESU_SMS_TEMPLATES", {})
KESU_NOTIFY_HTTP_TIMEOUT = env_float("KESU_NOTIFY_HTTP_TIMEOUT", 10.0)
# Staff without their own notification settings: in-app, plus e-mail when their account has an address.
KESU_NOTIFY_EMAIL_BY_DEFAULT = env_bool("KESU_NOTIFY_EMAIL_BY_DEFAULT", True)

# The deliverer: how often the embedded sweeper (and beat) deliver and sweep, how many rows one claim
# takes, how long a claim is held before another deliverer may retry it, and the retry back-off.
KESU_DELIVERY_SECONDS = env_float("KESU_DELIVERY_SECONDS", 3.0)
KESU_SWEEP_SECONDS = env_float("KESU_SWEEP_SECONDS", 30.0)
KESU_DELIVERY_BATCH = env_int("KESU_DELIVERY_BATCH", 50)
KESU_DELIVERY_LEASE_SECONDS = env_float("KESU_DELIVERY_LEASE_SECONDS", 60.0)
KESU_DELIVERY_BACKOFF_SECONDS = env_float("KESU_DELIVERY_BACKOFF_SECONDS", 30.0)
KESU_DELIVERY_BACKOFF_MAX_SECONDS = env_float("KESU_DELIVERY_BACKOFF_MAX_SECONDS", 3600.0)
KESU_DELIVERY_MAX_ATTEMPTS = env_int("KESU_DELIVERY_MAX_ATTEMPTS", 10)


def _due_soon_minutes() -> dict[str, float]:
    defaults = {"forward": 5, "report": 15, "answer": 240, "resolve": 120, "rectify": 120, "callback": 120}
    raw = env_str("KESU_DUE_SOON_MINUTES")
    if raw and "=" not in raw:
        return dict.fromkeys(defaults, env_float("KESU_DUE_SOON_MINUTES", 0))
    pairs = _env_pairs("KESU_DUE_SOON_MINUTES", {k: str(v) for k, v in defaults.items()})
    try:
        return {k: float(v) for k, v in pairs.items()}
    except ValueError:
        raise ValueError(f"KESU_DUE_SOON_MINUTES must give minutes as numbers, not {raw!r}") from None


# Who hears what over time: warn the owner of the next step this many minutes before a deadline (per
# kind, e.g. resolve=120,forward=5; one number sets all), escalate one tier further every
# KESU_ESCALATE_EVERY_MINUTES while a deadline stays passed (breaches older than
# KESU_ESCALATE_MAX_AGE_HOURS are left to the digest), and send managers their overdue digest daily.
KESU_DUE_SOON_MINUTES = _due_soon_minutes()
KESU_ESCALATE_EVERY_MINUTES = env_float("KESU_ESCALATE_EVERY_MINUTES", 60.0)
KESU_ESCALATE_MAX_AGE_HOURS = env_float("KESU_ESCALATE_MAX_AGE_HOURS", 48.0)
KESU_DIGEST_TIME = env_str("KESU_DIGEST_TIME", "08:00")
KESU_DIGEST_ROLES = [
    r for r in env_str("KESU_DIGEST_ROLES", "cs_manager,director,dept_manager,quality").split(",") if r
]

# Scaled mode (KESU_REDIS_URL set): `kesu worker` concurrency (processes per worker).
KESU_WORKER_CONCURRENCY = env_int("KESU_WORKER_CONCURRENCY", 2)
# --- end notifications ---

# --- resident portal ---
# Sign-in by SMS code (kesu/portal/codes.py): lifetime and tries per code; a phone may ask once per
# interval and a few times an hour; one client address a limited number of times an hour.
KESU_PORTAL_CODE_SECONDS = env_int("KESU_PORTAL_CODE_SECONDS", 300)
KESU_PORTAL_CODE_TRIES = env_int("KESU_PORTAL_CODE_TRIES", 5)
KESU_PORTAL_CODE_INTERVAL_SECONDS = env_int("KESU_PORTAL_CODE_INTERVAL_SECONDS", 60)
KESU_PORTAL_CODES_PER_PHONE_HOUR = env_int("KESU_PORTAL_CODES_PER_PHONE_HOUR", 5)
KESU_PORTAL_CODES_PER_IP_HOUR = env_int("KESU_PORTAL_CODES_PER_IP_HOUR", 20)
KESU_PORTAL_VERIFY_PER_IP_HOUR = env_int("KESU_PORTAL_VERIFY_PER_IP_HOUR", 60)
# Send codes from a background thread, so registered and unknown numbers answer equally fast.
KESU_PORTAL_SEND_IN_BACKGROUND = env_bool("KESU_PORTAL_SEND_IN_BACKGROUND", True)
# Complaints per resident and per client address an hour; photos per complaint and bytes per photo.
KESU_PORTAL_SUBMISSIONS_PER_HOUR = env_int("KESU_PORTAL_SUBMISSIONS_PER_HOUR", 5)
KESU_PORTAL_SUBMISSIONS_PER_IP_HOUR = env_int("KESU_PORTAL_SUBMISSIONS_PER_IP_HOUR", 30)
KESU_PORTAL_MAX_PHOTOS = env_int("KESU_PORTAL_MAX_PHOTOS", 6)
KESU_PORTAL_MAX_PHOTO_BYTES = env_int("KESU_PORTAL_MAX_PHOTO_BYTES", KESU_ATTACHMENT_LIMITS["image"])
# A resident stays signed in this long on their phone; signed complaint links work this long.
KESU_PORTAL_SESSION_DAYS = env_int("KESU_PORTAL_SESSION_DAYS", 30)
KESU_PORTAL_LINK_DAYS = env_int("KESU_PORTAL_LINK_DAYS", 30)
# The address residents reach the portal at (printed in QR codes and SMS links).
KESU_PORTAL_BASE_URL = env_str("KESU_PORTAL_BASE_URL") or KESU_BASE_URL
# Client address for the per-address limits: kesu.org.client.client_ip (KESU_NUM_PROXIES).
# --- end resident portal ---

# --- reports ---
# --- end reports ---

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KESU_LOG_LEVEL", "INFO")},
    # Libraries' own progress notes ("generated new fontManager", jieba's dictionary) are not news.
    "loggers": {name: {"level": "WARNING"} for name in ("matplotlib", "fontTools", "PIL")},
}
