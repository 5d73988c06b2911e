"""The payments webhook: signed, fresh, well-formed, and idempotent on the payment id."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from hotlead.billing.models import LedgerEntry, Payment
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.core.models import AuditLog
from tests.factories.providers import ProviderFactory

URL = "/api/v1/webhooks/payments"
SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.PAYMENTS_WEBHOOK_SECRET = SECRET


def _sign(body: bytes, *, t: int | None = None, secret: str = SECRET) -> str:
    t = int(time.time()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _event(provider, *, status="completed", payment_id="pay_1", amount=10_000, **extra) -> bytes:
    return json.dumps({"payment_id": payment_id, "status": status, "provider_id": provider.pk,
                       "amount_cents": amount, "currency": "USD", **extra}).encode()


def _deliver(client, body: bytes, signature: str | None = None):
    headers = {"HTTP_X_HOTLEAD_SIGNATURE": _sign(body) if signature is None else signature}
    return client.post(URL, body, content_type="application/json", **headers)


def _money(provider) -> tuple[int, int, int]:
    return balance_cents(provider_id=provider.pk), ledger_sum(provider_id=provider.pk), \
        LedgerEntry.objects.filter(account_id=provider.pk).count()


@pytest.mark.django_db
def test_a_completed_payment_credits_once_and_a_repeat_credits_nothing(client, django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    body = _event(provider, reference="inv-7")
    with django_capture_on_commit_callbacks(execute=True):
        first = _deliver(client, body)
    assert first.status_code == 200
    assert first.json() == {"payment_id": "pay_1", "status": "completed", "credited": True}
    again = _deliver(client, body)
    assert again.status_code == 200 and again.json()["credited"] is False
    assert _money(provider) == (10_000, 10_000, 1)
    payment = Payment.objects.get(external_id="pay_1")
    assert (payment.status, payment.method, payment.reference, payment.ledger_entry.amount_cents) == \
        ("completed", "card", "inv-7", 10_000)
    assert AuditLog.objects.filter(action="deposit.received", object_id=str(payment.pk)).count() == 1
    from django.core import mail

    assert [m.subject for m in mail.outbox] == ["Deposit received: $100.00"]


@pytest.mark.django_db
def test_pending_then_completed_credits_once(client):
    provider = ProviderFactory()
    assert _deliver(client, _event(provider, status="pending")).json()["credited"] is False
    assert _money(provider) == (0, 0, 0)
    assert Payment.objects.get(external_id="pay_1").status == "pending"
    assert _deliver(client, _event(provider, status="completed")).json()["credited"] is True
    assert _deliver(client, _event(provider, status="pending")).json() == \
        {"payment_id": "pay_1", "status": "completed", "credited": False}
    assert _money(provider) == (10_000, 10_000, 1)


@pytest.mark.django_db
def test_failed_credits_nothing_and_is_final(client):
    provider = ProviderFactory()
    assert _deliver(client, _event(provider, status="pending")).status_code == 200
    failed = _deliver(client, _event(provider, status="failed"))
    assert failed.json() == {"payment_id": "pay_1", "status": "failed", "credited": False}
    late = _deliver(client, _event(provider, status="completed"))
    assert late.json() == {"payment_id": "pay_1", "status": "failed", "credited": False}
    assert _money(provider) == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(("make_signature", "code"), [
    (lambda body: None, "invalid_signature"),
    (lambda body: "", "invalid_signature"),
    (lambda body: "v1=abc", "invalid_signature"),
    (lambda body: _sign(body, secret="another secret"), "invalid_signature"),
    (lambda body: _sign(body + b" "), "invalid_signature"),
    (lambda body: _sign(body).replace("v1=", "v1=0"), "invalid_signature"),
    (lambda body: _sign(body).replace("t=", "t=²", 1), "invalid_signature"),        # isdigit() but not int()
    (lambda body: "t=" + "9" * 5000 + ",v1=" + "0" * 64, "invalid_signature"),  # past int()'s digit limit
    (lambda body: _sign(body).replace("t=", "t=-", 1), "invalid_signature"),
    (lambda body: _sign(body, t=int(time.time()) - 301), "stale_signature"),
    (lambda body: _sign(body, t=int(time.time()) + 301), "stale_signature"),
])
def test_bad_or_stale_signatures_are_401_and_move_no_money(client, make_signature, code):
    provider = ProviderFactory()
    body = _event(provider)
    signature = make_signature(body)
    headers = {} if signature is None else {"HTTP_X_HOTLEAD_SIGNATURE": signature}
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert _money(provider) == (0, 0, 0) and not Payment.objects.exists()


@pytest.mark.django_db
def test_a_second_signature_for_rotation_is_accepted(client):
    provider = ProviderFactory()
    body = _event(provider)
    t = int(time.time())
    good = _sign(body, t=t).split("v1=")[1]
    response = _deliver(client, body, signature=f"t={t},v1={'0' * 64},v1={good}")
    assert response.status_code == 200 and response.json()["credited"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b"[1, 2]", 422),
    (json.dumps({"payment_id": "p", "status": "completed"}).encode(), 422),
    (json.dumps({"payment_id": "p", "status": "refunded", "provider_id": 1, "amount_cents": 5,
                 "currency": "USD"}).encode(), 422),
    (json.dumps({"payment_id": "p", "status": "completed", "provider_id": 1, "amount_cents": -5,
                 "currency": "USD"}).encode(), 422),
    (json.dumps({"payment_id": "p", "status": "completed", "provider_id": "1", "amount_cents": 5,
                 "currency": "USD"}).encode(), 422),
])
def test_malformed_bodies_are_4xx_and_move_no_money(client, body, status):
    response = _deliver(client, body)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert not LedgerEntry.objects.exists() and not Payment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("extra", "field"), [
    ({"payment_id": "pay\u0000"}, "payment_id"),
    ({"reference": "r\u0000"}, "reference"),
    ({"metadata": {"note": "x\u0000"}}, "metadata.note"),   # an extra field: stored in raw_event (jsonb)
])
def test_the_nul_character_is_a_422_not_a_500(client, extra, field):
    provider = ProviderFactory()
    response = _deliver(client, _event(provider, **extra))
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == [field]
    assert _money(provider) == (0, 0, 0) and not Payment.objects.exists()


@pytest.mark.django_db
def test_unknown_provider_or_currency_is_422(client):
    provider = ProviderFactory()
    response = _deliver(client, json.dumps({"payment_id": "p", "status": "completed", "provider_id": 999_999,
                                            "amount_cents": 5, "currency": "USD"}).encode())
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == ["provider_id"]
    response = _deliver(client, _event(provider, currency="EUR"))
    assert response.status_code == 422
    assert not LedgerEntry.objects.exists() and not Payment.objects.exists()


@pytest.mark.django_db
def test_the_same_payment_id_with_another_amount_is_a_conflict(client):
    provider = ProviderFactory()
    _deliver(client, _event(provider, status="pending"))
    response = _deliver(client, _event(provider, amount=1))
    assert response.status_code == 409
    assert _money(provider) == (0, 0, 0)


@pytest.mark.django_db
def test_without_a_secret_the_webhook_refuses_everything(client, settings):
    settings.PAYMENTS_WEBHOOK_SECRET = ""
    provider = ProviderFactory()
    response = _deliver(client, _event(provider), signature=_sign(_event(provider), secret=""))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert _money(provider) == (0, 0, 0)


@pytest.mark.django_db
def test_the_header_format_is_in_the_openapi_description(client):
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/webhooks/payments"]["post"]
    assert "X-Hotlead-Signature: t=<unix seconds>,v1=<hex>" in operation["description"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["required"][0] == "payment_id"


def _deliver_concurrently(body: bytes, count: int = 4) -> tuple[list[tuple[int, bool]], list[BaseException]]:
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def deliver() -> None:
        try:
            barrier.wait()
            response = _deliver(Client(), body)
            results.append((response.status_code, response.json().get("credited")))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_the_same_completed_payment_delivered_concurrently_is_credited_once():
    provider = ProviderFactory(low_balance_threshold_cents=0)
    results, errors = _deliver_concurrently(_event(provider, payment_id="pay_race"))
    assert errors == []
    assert sorted(results) == [(200, False), (200, False), (200, False), (200, True)]
    assert _money(provider) == (10_000, 10_000, 1)
    assert Payment.objects.filter(external_id="pay_race").count() == 1


@pytest.mark.django_db(transaction=True)
def test_completed_deliveries_racing_on_a_pending_payment_credit_once():
    # given: the payment is already known as pending (its row exists, so no unique insert serialises the race)
    provider = ProviderFactory(low_balance_threshold_cents=0)
    assert _deliver(Client(), _event(provider, status="pending", payment_id="pay_pending")).status_code == 200
    # when four "completed" deliveries arrive at once
    results, errors = _deliver_concurrently(_event(provider, payment_id="pay_pending"))
    # then exactly one credits; the others answer 200 without money
    assert errors == []
    assert sorted(results) == [(200, False), (200, False), (200, False), (200, True)]
    assert _money(provider) == (10_000, 10_000, 1)
    assert Payment.objects.get(external_id="pay_pending").status == "completed"
