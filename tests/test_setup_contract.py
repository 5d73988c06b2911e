"""The set-up contract (issue #2): settings from the environment, production checks, the demo's defaults.

Each case runs Django in a fresh process with exactly the environment it names, as a server would.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SECRET = "prod-" + "k3y" * 20  # 65 characters, varied enough for check --deploy


def run_django(args: list[str], *, env: dict[str, str], tmp_path: Path, timeout: int = 120):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "HOTLEAD_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG",
                                  "ALLOWED_HOSTS", "EMAIL_", "PROMETHEUS_", "SECURE_"))}
    clean.update({
        "DJANGO_SETTINGS_MODULE": "hotlead.settings",
        "HOTLEAD_VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        **env,
    })
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=timeout)


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": PRODUCTION_SECRET,
    "ALLOWED_HOSTS": "hotlead.example.com",
    "DATABASE_URL": "postgres://hotlead:secret@db.internal:5432/hotlead",
    "REDIS_URL": "redis://cache.internal:6379/0",
}


def test_check_deploy_reports_no_issues_with_production_variables(tmp_path):
    result = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=PRODUCTION,
                        tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    result = run_django(["manage.py", "check"], env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "db = s.DATABASES['default']; "
    "print(db['ENGINE'], db['OPTIONS'].get('transaction_mode'), s.CACHES['default']['BACKEND'], "
    "s.EMAIL_BACKEND, s.DEBUG, ','.join(s.ALLOWED_HOSTS))"
)


def test_without_database_url_the_demo_runs_on_sqlite_with_laptop_defaults(tmp_path):
    result = run_django(["-c", PRINT_SETTINGS], env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3", "IMMEDIATE", "django.core.cache.backends.db.DatabaseCache",
        "django.core.mail.backends.console.EmailBackend", "True", "127.0.0.1,localhost",
    ]


def test_production_variables_select_postgresql_redis_and_smtp(tmp_path):
    env = {**PRODUCTION, "EMAIL_HOST": "smtp.example.com"}
    result = run_django(["-c", PRINT_SETTINGS], env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql", "None", "django.core.cache.backends.redis.RedisCache",
        "django.core.mail.backends.smtp.EmailBackend", "False", "hotlead.example.com",
    ]


def test_production_static_files_build_for_whitenoise(tmp_path):
    # DEBUG=0 serves hashed, compressed files through whitenoise; they must build from a clean checkout
    result = run_django(["manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env=PRODUCTION,
                        tmp_path=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "var" / "staticfiles" / "staticfiles.json"
    assert manifest.exists()
    text = manifest.read_text()
    assert "unfold/css/styles.css" in text and "console/console.css" in text


@pytest.mark.parametrize("args", [["--port", "http"], ["--port", "0"], ["--port=70000"], ["--bogus"]])
def test_scripts_run_rejects_bad_arguments_before_doing_anything(args, tmp_path):
    result = subprocess.run(["bash", str(ROOT / "scripts" / "run"), *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "scripts/run:" in result.stderr
    assert "==>" not in result.stdout  # refused before installing or migrating anything


def test_scripts_run_help_names_the_port_flag(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "scripts" / "run"), "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    assert "--port N" in result.stdout and "PORT" in result.stdout


ENV_READ = re.compile(r"(?:env_bool|env_int|env_list|os\.environ\.get|os\.environ\.setdefault)\(\s*\"([A-Z0-9_]+)\"")


def test_the_readme_documents_every_environment_variable_the_settings_read():
    settings_source = (ROOT / "hotlead" / "settings" / "base.py").read_text()
    readme = (ROOT / "README.md").read_text()
    names = set(ENV_READ.findall(settings_source))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EMAIL_HOST"} <= names
    undocumented = sorted(name for name in names if f"| `{name}` |" not in readme)
    assert undocumented == []
