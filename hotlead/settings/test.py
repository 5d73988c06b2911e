"""Test settings: PostgreSQL (DATABASE_URL), jobs inline, fast hashing, mail in memory."""
import os
import tempfile

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HOTLEAD_ALLOW_DEV_SECRET", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead")
# Metrics files of this test run only (never mixed into the demo's var/prometheus, nor another run's).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="hotlead-metrics-"))

from .base import *  # noqa: E402,F401,F403
from .base import Q_CLUSTER  # noqa: E402

HOTLEAD_TEST_SETTINGS = True  # the only settings allowed the development SECRET_KEY (hotlead.core.checks)
HOTLEAD_METRICS_ALLOWED_IPS = ["127.0.0.1", "::1"]  # the test client's address may scrape /metrics
HOTLEAD_RATE_LIMIT_OVERRIDES_TTL = 0  # console rate-limit overrides are read afresh (none outlives its test)
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# One cache per test process keeps rate-limit state from leaking between parallel runs.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "hotlead-tests",
    }
}
