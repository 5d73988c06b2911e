"""Issue 15: the system check on signing keys (check --deploy and start-up with DEBUG=0), /metrics behind a
token or an address allow-list, rate limits from HOTLEAD_RATE_LIMITS."""
from __future__ import annotations

import pytest

from tests.test_setup_contract import PRODUCTION, run_django

DEV_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdefghijklmnop"
GOOD_KEY = "k" * 20 + "-ProdKey-" + "9" * 20


@pytest.mark.parametrize(("env", "error_id"), [
    ({"SECRET_KEY": DEV_KEY}, "hotlead.E001"),
    ({"SECRET_KEY": "short-key-31-bytes-xxxxxxxxxxxx"}, "hotlead.E002"),
    ({"JWT_SIGNING_KEY": DEV_KEY}, "hotlead.E003"),
    ({"JWT_SIGNING_KEY": "abc"}, "hotlead.E004"),
    ({"HOTLEAD_ALLOW_DEV_SECRET": "1"}, "hotlead.E005"),
], ids=["dev-secret", "short-secret", "dev-jwt", "short-jwt", "allow-dev-secret"])
def test_check_deploy_fails_on_each_bad_signing_key(env, error_id, tmp_path):
    result = run_django(["manage.py", "check", "--deploy"], env={**PRODUCTION, **env}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert error_id in result.stderr + result.stdout


def test_production_without_secret_key_but_with_allow_dev_secret_is_refused(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"} | {"HOTLEAD_ALLOW_DEV_SECRET": "1"}
    result = run_django(["manage.py", "check"], env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "hotlead.E001" in result.stderr and "hotlead.E005" in result.stderr


def test_the_web_server_refuses_to_start_with_debug_off_and_a_short_jwt_key(tmp_path):
    # gunicorn runs no system checks: loading the WSGI application is the start-up
    env = {**PRODUCTION, "JWT_SIGNING_KEY": "abc"}
    result = run_django(["-c", "import hotlead.wsgi"], env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "hotlead.E004" in result.stderr
    ok = run_django(["-c", "import hotlead.wsgi; print('served')"], env={**PRODUCTION, "JWT_SIGNING_KEY": GOOD_KEY},
                    tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "served" in ok.stdout


def test_the_demo_without_secret_key_uses_a_random_local_key_not_the_development_one(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SECRET_KEY == s.DEV_SECRET_KEY, s.JWT_SIGNING_KEY == s.SECRET_KEY, len(s.SECRET_KEY) >= 32)")
    first = run_django(["-c", code], env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["False", "True", "True"]
    key_file = tmp_path / "var" / "secret_key"
    again = run_django(["-c", "import django; django.setup(); from django.conf import settings as s; "
                              "print(s.SECRET_KEY)"], env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert again.stdout.strip() == key_file.read_text().strip()  # the same key on every start
    check = run_django(["manage.py", "check"], env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert check.returncode == 0, check.stderr


def test_hotlead_rate_limits_changes_limits_without_code(tmp_path):
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "r = s.HOTLEAD['RATE_LIMITS']; print(r['lead_submit_ip'], r['login_account'], r['login_ip'])")
    result = run_django(["-c", code], env={"DEBUG": "1", "HOTLEAD_RATE_LIMITS":
                                           "lead_submit_ip=500/3600, login_account=3/60"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["500/3600", "3/60", "30/900"]
    bad = run_django(["-c", code], env={"DEBUG": "1", "HOTLEAD_RATE_LIMITS": "lead_submit_ip=ten"}, tmp_path=tmp_path)
    assert bad.returncode != 0 and "HOTLEAD_RATE_LIMITS" in bad.stderr


# --- /metrics --------------------------------------------------------------------------------------

@pytest.fixture
def remote_metrics(settings):
    settings.HOTLEAD_METRICS_TOKEN = "scrape-token-0123456789abcdef0123"
    settings.HOTLEAD_METRICS_ALLOWED_IPS = ["10.1.0.0/16"]


def test_metrics_refuse_a_caller_without_token_from_another_address(client, remote_metrics):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 401
    assert b"hotlead_" not in response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_refuse_a_wrong_token(client, remote_metrics):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 403
    assert b"hotlead_" not in response.content


def test_metrics_answer_the_bearer_token(client, remote_metrics):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9",
                          HTTP_AUTHORIZATION="Bearer scrape-token-0123456789abcdef0123")
    assert response.status_code == 200
    assert b"hotlead_http_request_duration_seconds" in response.content


def test_metrics_answer_an_allowed_address_without_token(client, remote_metrics):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 401


def test_metrics_with_nothing_configured_answer_nobody(client, settings):
    settings.HOTLEAD_METRICS_TOKEN = ""
    settings.HOTLEAD_METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
