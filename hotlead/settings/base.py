"""Environment-driven settings (SPEC §12). Defaults run on a laptop; production sets the env."""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .unfold import UNFOLD  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HOTLEAD_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# The development key is public (it is written here): only the test settings may use it. The system check
# hotlead.core.checks refuses it, short keys and HOTLEAD_ALLOW_DEV_SECRET outside the tests (issue 15).
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"
HOTLEAD_ALLOW_DEV_SECRET = env_bool("HOTLEAD_ALLOW_DEV_SECRET", False)
HOTLEAD_TEST_SETTINGS = False  # hotlead.settings.test sets it


def _local_secret(path: Path) -> str:
    """The demo's key: random, written once to var/ (never a key anyone else knows), shared by its processes."""
    if not path.exists():
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(handle.name, path)  # atomic: a concurrent process either wins or reads the winner's key
        except FileExistsError:
            pass
        finally:
            os.unlink(handle.name)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if HOTLEAD_ALLOW_DEV_SECRET:
        SECRET_KEY = DEV_SECRET_KEY
    elif DEBUG:
        SECRET_KEY = _local_secret(VAR_DIR / "secret_key")
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "unfold.apps.BasicAppConfig",  # not "unfold": its default config swaps admin.site for a site without MFA
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "admin_ext.apps.HotleadAdminConfig",  # django.contrib.admin with our MFA + unfold site
    "admin_ext",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "django_q",
    "import_export",
    "ninja",
    "hotlead.core",
    "hotlead.accounts",
    "hotlead.notifications",
    "hotlead.ops",
    "hotlead.leads",
    "hotlead.providers",
    "hotlead.levels",
    "hotlead.billing",
    "hotlead.distribution",
    "hotlead.refunds",
    "hotlead.sources",
    "hotlead.portal",
    "hotlead.webhooks",
    "hotlead.simulator",
    "hotlead.demo",
    "reports",
    "api",
]

MIDDLEWARE = [
    "hotlead.core.middleware.RequestIdMiddleware",
    "hotlead.core.middleware.MetricsMiddleware",
    "hotlead.core.middleware.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "api.errors.ApiErrorBodyMiddleware",
]

ROOT_URLCONF = "hotlead.urls"
WSGI_APPLICATION = "hotlead.wsgi.application"
ASGI_APPLICATION = "hotlead.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "admin_ext.context_processors.console_chrome",  # two-factor pages in the console's look
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # Demo only: an embedded SQLite file. IMMEDIATE transactions serialise writers, which keeps
    # money correct where select_for_update is a no-op; WAL lets readers run beside a writer.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "hotlead.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
# A streaming read replica for reports (hotlead/core/db_router.py): report reads go there when it is set.
# Tests mirror it to the primary. Writes and migrations always go to "default".
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
                            "CONN_HEALTH_CHECKS": True, "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["hotlead.core.db_router.ReplicaRouter"]
DB_VENDOR = "postgresql" if DATABASES["default"]["ENGINE"].endswith("postgresql") else "sqlite"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- cache (shared by every process: rate limits, report cache) --------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hotlead",
            # An unreachable Redis fails fast (readiness names "cache") instead of hanging requests.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "hotlead_cache",
            "KEY_PREFIX": "hotlead",
        }
    }

# --- auth ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "two_factor:login"
LOGIN_REDIRECT_URL = "/admin/"
TWO_FACTOR_PATCH_ADMIN = False
OTP_TOTP_ISSUER = "Hot Lead"
HOTLEAD_REQUIRE_PROVIDER_MFA = env_bool("HOTLEAD_REQUIRE_PROVIDER_MFA", False)

# JWT for the API (issue: provider accounts). A separate, long signing key.
JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", "") or SECRET_KEY
JWT_ISSUER = os.environ.get("JWT_ISSUER", "hotlead")
JWT_ACCESS_TTL_SECONDS = env_int("JWT_ACCESS_TTL_SECONDS", 900)
JWT_REFRESH_TTL_SECONDS = env_int("JWT_REFRESH_TTL_SECONDS", 14 * 24 * 3600)

# --- i18n / time ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
EXPORTS_ROOT = VAR_DIR / "exports"

# --- e-mail (SPEC §11) -------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Hot Lead <no-reply@hotlead.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
HOTLEAD_PUBLIC_URL = os.environ.get("HOTLEAD_PUBLIC_URL", "http://127.0.0.1:8000")
# Shared secret of the payment provider's webhook (HMAC-SHA256); empty = the webhook refuses every call.
PAYMENTS_WEBHOOK_SECRET = os.environ.get("PAYMENTS_WEBHOOK_SECRET", "")
# Webhooks to providers (SPEC §7): hosts ("host" or "host:port", comma-separated) that may be internal or http
# (on-premise CRMs, tests); every other target must resolve to public addresses only (SSRF).
HOTLEAD_WEBHOOK_ALLOWED_HOSTS = [h.strip().lower() for h in os.environ.get("HOTLEAD_WEBHOOK_ALLOWED_HOSTS", "")
                                 .split(",") if h.strip()]
# Standard Webhooks secret (whsec_...) of the e-mail provider's events (bounces); empty = the endpoint refuses.
HOTLEAD_EMAIL_EVENTS_SECRET = os.environ.get("HOTLEAD_EMAIL_EVENTS_SECRET", "")

# --- jobs: django-q2 (SPEC §11) ---------------------------------------------------------
# timeout < retry: a task is only handed out again after `retry` seconds without an ack.
# Crash recovery and throughput (docs/operations.md "Crash recovery"; decisions.md): results of successful
# jobs are not stored (save_limit -1: with a positive limit q2's monitor locks and loads every stored success
# before it acknowledges each job, ~5 acks/s, and the ORM broker hands unacknowledged jobs out again after
# `retry`); a worker prefetches only 2 jobs per process (the Redis broker loses what a killed worker held).
Q_WORKERS = env_int("Q_WORKERS", 2)
Q_CLUSTER = {
    "name": "hotlead",
    "workers": Q_WORKERS,
    "timeout": 60,
    "retry": 90,
    "max_attempts": 5,
    "ack_failures": True,
    "save_limit": -1,
    "catch_up": False,
    "queue_limit": max(4, 2 * Q_WORKERS),
    "label": "Jobs",
    "orm": "default",
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# --- security ------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Proxies in front of gunicorn that append to X-Forwarded-For (0: clients connect directly). Rate limits
# and the audit log read the client address this many entries from the right of that header.
HOTLEAD_PROXY_COUNT = env_int("HOTLEAD_PROXY_COUNT", 0)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- observability ----------------------------------------------------------------------
PROMETHEUS_MULTIPROC_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
# /metrics (issue 15): a scrape needs `Authorization: Bearer <HOTLEAD_METRICS_TOKEN>` or a client address in
# HOTLEAD_METRICS_ALLOWED_IPS (addresses or CIDR networks; default: loopback in DEBUG, nobody otherwise).
HOTLEAD_METRICS_TOKEN = os.environ.get("HOTLEAD_METRICS_TOKEN", "")
HOTLEAD_METRICS_ALLOWED_IPS = env_list("HOTLEAD_METRICS_ALLOWED_IPS", "127.0.0.1,::1" if DEBUG else "")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "hotlead.core.logging.RequestContextFilter"},
    },
    "formatters": {
        "json": {
            "()": "hotlead.core.logging.JsonFormatter",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- business policy (SPEC §12); ops can override some in the console -------------------
HOTLEAD = {
    "CURRENCY": "USD",
    "PHONE_DEFAULT_REGION": os.environ.get("HOTLEAD_PHONE_REGION", "US"),
    "CONSENT_TEXT_VERSION": "2026-01",
    "VERIFICATION_CODE_TTL_MINUTES": 30,
    "VERIFICATION_MAX_ATTEMPTS": 5,
    "UNVERIFIED_LEAD_TTL_HOURS": 48,
    "DUPLICATE_WINDOW_DAYS": 30,
    "UNSOLD_FRESHNESS_HOURS": 24,
    "BAD_LEAD_WINDOW_DAYS": 7,
    "RETURN_RATE_MAX_PERCENT": 20,
    "RETURN_RATE_WINDOW": 50,
    "REJECT_RATE_MAX_PERCENT": 40,  # SPEC §6 flagging: rejections on the last REJECT_RATE_WINDOW assignments
    "REJECT_RATE_WINDOW": 50,
    "REPORT_CACHE_SECONDS": 60,  # reports (issue 12): how long a computed report is served from the cache
    # jobs that may outlive Q_CLUSTER["timeout"]: a 1M-row xlsx export takes minutes (docs/performance.md)
    "JOB_TIMEOUTS": {"reports.tasks.export_run_job": 3600},
    "EXPORT_STALE_SECONDS": 30,  # a running export whose heartbeat is older was left by a dead worker
    "DLQ_RETENTION_DAYS": 30,
    "WORKER_HEARTBEAT_MAX_AGE_SECONDS": 180,  # readiness: a job worker seen within this
    # crash recovery: an approved lead still approved this long after approval is re-queued (None: 60 s on the
    # Redis broker, Q_CLUSTER["retry"] + 30 s on the ORM broker, which redelivers a killed worker's jobs itself)
    "APPROVED_RECOVERY_AFTER_SECONDS": None,
    "EMAIL_LOST_JOB_SECONDS": 300,  # crash recovery: a queued, never-tried e-mail this old gets a new job
    "EMAIL_SENDING_STALE_SECONDS": 600,  # a send claimed this long ago was interrupted: failed, for staff to resend
    "EXPORT_RETENTION_DAYS": 7,
    "EMAIL_VERIFY_TTL_HOURS": 48,
    "PASSWORD_RESET_TTL_MINUTES": 60,
    # rate limits: "count/seconds"
    "RATE_LIMITS": {
        "lead_submit_ip": "10/3600",
        "lead_verify_lead": "10/900",
        "lead_verify_ip": "30/900",
        "lead_resend_lead": "3/900",
        "lead_resend_ip": "10/900",
        "login_ip": "30/900",
        "login_account": "10/900",
        "forgot_password_ip": "5/900",
        "forgot_password_account": "3/900",
        "register_ip": "10/3600",
        "lead_submit_source": "1000/3600",  # a lead source's default (X-Api-Key); each source may set its own
    },
}


def _rate_limits_from_env(value: str) -> dict[str, str]:
    """HOTLEAD_RATE_LIMITS="lead_submit_ip=10/3600,login_account=10/900": limits changed without code."""
    limits = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        scope, _, rule = item.partition("=")
        if not re.fullmatch(r"[a-z0-9_]{1,60}", scope.strip()) or not re.fullmatch(r"[1-9]\d{0,8}/[1-9]\d{0,7}",
                                                                                  rule.strip()):
            raise ImproperlyConfigured(f"HOTLEAD_RATE_LIMITS: {item!r} is not scope=count/seconds")
        limits[scope.strip()] = rule.strip()
    return limits


HOTLEAD["RATE_LIMITS"].update(_rate_limits_from_env(os.environ.get("HOTLEAD_RATE_LIMITS", "")))
