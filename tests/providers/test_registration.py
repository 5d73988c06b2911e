"""Registration by API, e-mail verification, welcome e-mail (SPEC §7, §13)."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from hotlead.accounts.models import OneTimeToken, User
from hotlead.billing.models import Account
from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from tests.accounts.helpers import Api
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

GOOD = {
    "email": "Owner@Roofers.example", "password": "sturdy-roof-passphrase-1", "company_name": "  Bay  Roofers ",
    "contact_name": "Dana Roof", "phone": "(415) 555-0134",
}


def _register(api, capture, **changes):
    with capture(execute=True):
        return api.post("/auth/register", {**GOOD, **changes})


def _verify_token(message) -> str:
    return re.search(r"/portal/verify-email/([^/\s]+)/", message.body).group(1)


def test_register_creates_a_pending_provider_with_an_account_and_sends_the_link(
        api, django_capture_on_commit_callbacks):
    # when
    response = _register(api, django_capture_on_commit_callbacks)
    # then
    assert response.status_code == 201
    provider = Provider.objects.select_related("user").get()
    assert response.json() == {"id": provider.pk, "email": "owner@roofers.example", "status": "pending_verification"}
    assert provider.company_name == "Bay Roofers" and provider.phone == "+14155550134"
    assert provider.user.role == "provider" and provider.user.is_staff is False
    assert provider.user.check_password(GOOD["password"])
    assert Account.objects.get(provider=provider).balance_cents == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@roofers.example"]
    token = _verify_token(mail.outbox[0])
    assert not OneTimeToken.objects.filter(token_hash=token).exists()  # stored hashed
    assert AuditLog.objects.filter(action="provider.registered", object_id=str(provider.pk)).count() == 1


def test_the_link_verifies_once_and_welcomes_once(api, django_capture_on_commit_callbacks):
    # given
    _register(api, django_capture_on_commit_callbacks)
    token = _verify_token(mail.outbox[0])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/auth/verify-email", {"token": token})
    # then
    assert response.status_code == 200 and response.json()["status"] == "active"
    provider = Provider.objects.get()
    assert provider.status == ProviderStatus.ACTIVE and provider.email_verified_at is not None
    assert [m.subject for m in mail.outbox][1].startswith("Welcome to Hot Lead")
    # a second use is refused and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post("/auth/verify-email", {"token": token})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
    assert len(mail.outbox) == 2
    # now the provider can sign in
    assert api.post("/auth/login", {"email": GOOD["email"], "password": GOOD["password"]}).status_code == 200


def test_an_expired_link_is_refused(api, django_capture_on_commit_callbacks):
    # given
    _register(api, django_capture_on_commit_callbacks)
    token = _verify_token(mail.outbox[0])
    OneTimeToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    # when
    response = api.post("/auth/verify-email", {"token": token})
    # then
    assert response.status_code == 400
    assert Provider.objects.get().status == ProviderStatus.PENDING_VERIFICATION


def test_resending_makes_the_old_link_stop_working(api, django_capture_on_commit_callbacks):
    # given
    _register(api, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post("/auth/resend-verification", {"email": GOOD["email"]})
    old, new = (_verify_token(m) for m in mail.outbox)
    # then
    assert answer.status_code == 202
    assert api.post("/auth/verify-email", {"token": old}).status_code == 400
    assert api.post("/auth/verify-email", {"token": new}).status_code == 200


def test_resend_answers_the_same_for_unknown_emails(api):
    known = ProviderFactory(status=ProviderStatus.PENDING_VERIFICATION)
    a = api.post("/auth/resend-verification", {"email": known.user.email})
    b = api.post("/auth/resend-verification", {"email": "nobody@example.com"})
    assert a.status_code == b.status_code == 202 and a.json() == b.json()


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    return {f["field"]: f["message"] for f in body["details"]["fields"]}


def test_a_duplicate_email_is_refused_whatever_its_case(api):
    # given
    existing = ProviderFactory()
    # when
    response = api.post("/auth/register", {**GOOD, "email": existing.user.email.upper()})
    # then
    assert "already exists" in _fields(response)["email"]
    assert Provider.objects.count() == 1 and User.objects.count() == 1


def test_every_bad_field_is_listed_and_nothing_is_created(api):
    # when
    response = api.post("/auth/register", {
        "email": "not-an-email", "password": "password", "company_name": " ", "contact_name": "Dana",
        "phone": "12", "timezone": "Mars/Olympus",
    })
    # then
    fields = _fields(response)
    assert set(fields) == {"email", "password", "company_name", "phone", "timezone"}
    assert not User.objects.exists() and not Provider.objects.exists() and not Account.objects.exists()
    assert len(mail.outbox) == 0


@pytest.mark.parametrize("extra", [{"status": "active"}, {"role": "staff"}, {"is_staff": True},
                                   {"balance_cents": 100000}])
def test_mass_assignment_is_refused(api, extra):
    # when
    response = api.post("/auth/register", {**GOOD, **extra})
    # then
    fields = _fields(response)
    assert list(fields) == [next(iter(extra))]
    assert not User.objects.exists() and not Provider.objects.exists()


@override_settings(HOTLEAD={**__import__("django.conf").conf.settings.HOTLEAD,
                            "RATE_LIMITS": {"register_ip": "2/3600"}})
def test_registration_is_throttled_per_ip(api):
    # given
    for n in range(2):
        api.post("/auth/register", {**GOOD, "email": f"r{n}@example.com"})
    # when
    response = api.post("/auth/register", {**GOOD, "email": "r9@example.com"})
    # then
    assert response.status_code == 429 and "Retry-After" in response
    assert not User.objects.filter(email="r9@example.com").exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_of_one_email_create_one_account():
    # given
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict]] = []

    def attempt(company: str):
        try:
            barrier.wait(timeout=10)
            response = Api().post("/auth/register", {**GOOD, "company_name": company})
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt, args=(name,)) for name in ("First Co", "Second Co")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then: one account; the other request is the ordinary duplicate-e-mail 422, not a 500
    assert sorted(status for status, _ in results) == [201, 422]
    refused = next(body for status, body in results if status == 422)
    assert [f["field"] for f in refused["error"]["details"]["fields"]] == ["email"]
    assert User.objects.filter(email="owner@roofers.example").count() == 1
    assert Provider.objects.count() == 1 and Account.objects.count() == 1
