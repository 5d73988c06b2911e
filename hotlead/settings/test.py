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
LOCK_ORDER_CHECK = True  # every row lock is checked against hotlead.core.locks.LOCK_ORDER
HOTLEAD_RATE_LIMIT_OVERRIDES_TTL = 0  # console rate-limit overrides are read afresh (none outlives its test)
HOTLEAD_CATEGORY_CACHE_SECONDS = 0  # the intake reads the active categories afresh (none outlives its test)
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
# Inline jobs; their results are stored (save_limit 0: all, unpruned) so tests can see which jobs ran.
# Production stores none (base.py); the qcluster crash test overrides it back.
Q_CLUSTER = {**Q_CLUSTER, "sync": True, "save_limit": 0}
if os.environ.get("HOTLEAD_TEST_REAL_CLUSTER") == "1":
    # A real `manage.py qcluster` (and the process that queues its jobs) started by tests/ops/test_qcluster_crash.py:
    # the production job settings on a cluster name of its own, with the recovery clocks shortened by the test.
    from .base import HOTLEAD  # noqa: E402
    from .base import Q_CLUSTER as _PRODUCTION_Q_CLUSTER  # noqa: E402

    Q_CLUSTER = {**_PRODUCTION_Q_CLUSTER, "name": os.environ.get("HOTLEAD_TEST_Q_NAME", "hotlead-test"),
                 "timeout": int(os.environ.get("HOTLEAD_TEST_Q_TIMEOUT", "60")),
                 "retry": int(os.environ.get("HOTLEAD_TEST_Q_RETRY", "90"))}
    HOTLEAD = {**HOTLEAD,
               "APPROVED_RECOVERY_AFTER_SECONDS": int(os.environ.get("HOTLEAD_TEST_RECOVERY_SECONDS", "60")),
               "EMAIL_LOST_JOB_SECONDS": int(os.environ.get("HOTLEAD_TEST_RECOVERY_SECONDS", "300"))}
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ.get("HOTLEAD_TEST_MAIL_DIR", tempfile.mkdtemp(prefix="hotlead-mail-"))
# One cache per test process keeps rate-limit state from leaking between parallel runs.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "hotlead-tests",
    }
}
