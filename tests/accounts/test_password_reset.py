"""Forgot / reset password: enumeration-safe, single-use expiring token, validators, revocation (SPEC §8)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hotlead.accounts.models import OneTimeToken, OneTimeTokenPurpose
from hotlead.accounts.services import auth_login
from hotlead.core.models import AuditLog
from hotlead.notifications.models import EmailEvent
from tests.factories.accounts import PASSWORD
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"


def _forgot(api, email, capture):
    with capture(execute=True):
        return api.post("/auth/forgot-password", {"email": email})


def _token_from_mail(message) -> str:
    return re.search(r"/portal/reset-password/([^/\s]+)/", message.body).group(1)


def test_forgot_password_answers_the_same_for_known_and_unknown_emails(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    # when
    known = _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    unknown = _forgot(api, "nobody-here@example.com", django_capture_on_commit_callbacks)
    # then
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.content == unknown.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [provider.user.email]
    assert OneTimeToken.objects.filter(purpose=OneTimeTokenPurpose.PASSWORD_RESET).count() == 1


def test_the_reset_link_is_not_stored_in_clear(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    # then: neither the e-mail event nor the token table holds the raw token
    event = EmailEvent.objects.get(template="password_reset")
    assert token not in str(event.context)
    assert not OneTimeToken.objects.filter(token_hash=token).exists()


def test_reset_sets_the_password_once_and_revokes_every_token(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    before = auth_login(email=provider.user.email, password=PASSWORD)
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    # when
    response = api.post("/auth/reset-password", {"token": token, "password": NEW_PASSWORD})
    # then
    assert response.status_code == 204
    assert api.post("/auth/login", {"email": provider.user.email, "password": PASSWORD}).status_code == 401
    assert api.post("/auth/login", {"email": provider.user.email, "password": NEW_PASSWORD}).status_code == 200
    assert api.get("/provider/profile", token=before.access_token).status_code == 401
    assert api.post("/auth/refresh", {"refresh_token": before.refresh_token}).status_code == 401
    # the token works once
    again = api.post("/auth/reset-password", {"token": token, "password": "yet-another-passphrase-9"})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
    assert AuditLog.objects.filter(action="auth.password_reset", actor=provider.user).count() == 1


def test_a_weak_password_is_refused_and_the_token_stays_usable(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    # when
    weak = api.post("/auth/reset-password", {"token": token, "password": "12345678"})
    # then
    assert weak.status_code == 422
    fields = weak.json()["error"]["details"]["fields"]
    assert {f["field"] for f in fields} == {"password"} and len(fields) >= 2
    provider.user.refresh_from_db()
    assert provider.user.check_password(PASSWORD)
    assert api.post("/auth/reset-password", {"token": token, "password": NEW_PASSWORD}).status_code == 204


def test_an_expired_token_is_refused(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    token = _token_from_mail(mail.outbox[0])
    OneTimeToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    # when
    response = api.post("/auth/reset-password", {"token": token, "password": NEW_PASSWORD})
    # then
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_token"
    provider.user.refresh_from_db()
    assert provider.user.check_password(PASSWORD)


def test_a_new_request_invalidates_the_previous_link(api, django_capture_on_commit_callbacks):
    # given
    provider = ProviderFactory()
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    _forgot(api, provider.user.email, django_capture_on_commit_callbacks)
    first, second = (_token_from_mail(m) for m in mail.outbox)
    # when / then
    assert api.post("/auth/reset-password", {"token": first, "password": NEW_PASSWORD}).status_code == 400
    assert api.post("/auth/reset-password", {"token": second, "password": NEW_PASSWORD}).status_code == 204


def test_a_verification_token_is_not_a_reset_token(api):
    # given
    from hotlead.accounts.services import one_time_token_create

    provider = ProviderFactory()
    raw = one_time_token_create(user=provider.user, purpose=OneTimeTokenPurpose.EMAIL_VERIFY,
                                ttl=timedelta(hours=1))
    # when
    response = api.post("/auth/reset-password", {"token": raw, "password": NEW_PASSWORD})
    # then
    assert response.status_code == 400


@override_settings(HOTLEAD={**__import__("django.conf").conf.settings.HOTLEAD,
                            "RATE_LIMITS": {"forgot_password_ip": "2/900", "forgot_password_account": "10/900"}})
def test_forgot_password_is_throttled_per_ip(api, django_capture_on_commit_callbacks):
    # given
    for n in range(2):
        assert _forgot(api, f"x{n}@example.com", django_capture_on_commit_callbacks).status_code == 202
    # when
    response = _forgot(api, "x9@example.com", django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"


def test_forgot_password_does_the_same_work_for_known_and_unknown_emails(api):
    # given: the reset itself is sent by a job (run after commit); the request's own work is what an attacker times
    provider = ProviderFactory()
    # when
    with CaptureQueriesContext(connection) as known_queries:
        known = api.post("/auth/forgot-password", {"email": provider.user.email})
    with CaptureQueriesContext(connection) as unknown_queries:
        unknown = api.post("/auth/forgot-password", {"email": "nobody-at-all@example.com"})
    # then
    assert known.status_code == unknown.status_code == 202
    assert len(known_queries) == len(unknown_queries)
    assert not OneTimeToken.objects.exists()  # nothing is written in the request itself
