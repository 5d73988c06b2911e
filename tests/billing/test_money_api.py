"""Provider balance and history; staff deposits through the admin API."""
from __future__ import annotations

import pytest

from hotlead.billing.models import LedgerEntry, Payment
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.billing.services.ledger import charge_post, deposit_post
from hotlead.core.models import AuditLog
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def test_balance(client, provider, provider_headers):
    deposit_post(provider_id=provider.pk, amount_cents=4200, key="d")
    response = client.get("/api/v1/provider/balance", **provider_headers)
    assert response.status_code == 200
    assert response.json() == {"balance_cents": 4200, "currency": "USD",
                               "low_balance_threshold_cents": provider.low_balance_threshold_cents}


def test_history_pages_newest_first_each_row_once(client, provider, provider_headers):
    for i in range(5):
        deposit_post(provider_id=provider.pk, amount_cents=100 + i, key=f"d{i}", reference=f"r{i}")
    charge_post(provider_id=provider.pk, amount_cents=50, key="c", memo="lead 1")
    ProviderFactory(balance_cents=999)  # another provider's entries never show
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/provider/billing/history?limit=4" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, **provider_headers).json()
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 2
    assert [row["amount_cents"] for row in seen] == [-50, 104, 103, 102, 101, 100]
    assert seen[0] == {"id": seen[0]["id"], "kind": "charge", "amount_cents": -50, "balance_after_cents": 460,
                       "created_at": seen[0]["created_at"], "memo": "lead 1", "reference": ""}
    assert seen[1]["reference"] == "r4"


def test_history_filters_by_kind_and_rejects_a_bad_cursor(client, provider, provider_headers):
    deposit_post(provider_id=provider.pk, amount_cents=100, key="d")
    charge_post(provider_id=provider.pk, amount_cents=10, key="c")
    body = client.get("/api/v1/provider/billing/history?kind=charge", **provider_headers).json()
    assert [row["kind"] for row in body["items"]] == ["charge"] and body["next_cursor"] is None
    bad = client.get("/api/v1/provider/billing/history?cursor=!!!", **provider_headers)
    assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "cursor"
    assert client.get("/api/v1/provider/billing/history?limit=201", **provider_headers).status_code == 422


def test_history_and_balance_need_a_provider(client, staff_headers):
    assert client.get("/api/v1/provider/balance").status_code == 401
    assert client.get("/api/v1/provider/billing/history", **staff_headers).status_code == 403


def test_staff_record_a_deposit(client, staff_user, staff_headers, django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/admin/providers/{provider.pk}/deposits",
                               {"amount_cents": 25_000, "method": "bank_transfer", "reference": "WIRE-1"},
                               content_type="application/json", **staff_headers)
    assert response.status_code == 201
    body = response.json()
    payment = Payment.objects.get()
    assert body == {"id": payment.pk, "status": "completed", "amount_cents": 25_000, "method": "bank_transfer",
                    "reference": "WIRE-1", "provider_id": provider.pk, "ledger_entry_id": payment.ledger_entry_id,
                    "balance_cents": 25_000}
    assert (payment.recorded_by_id, payment.ledger_entry.actor_id) == (staff_user.pk, staff_user.pk)
    audit = AuditLog.objects.get(action="deposit.recorded")
    assert (audit.actor_id, audit.changes["amount_cents"], audit.changes["reference"]) == \
        (staff_user.pk, 25_000, "WIRE-1")
    from django.core import mail

    assert [m.to for m in mail.outbox] == [[provider.user.email]]


def test_a_deposit_with_the_same_idempotency_key_credits_once(client, staff_headers):
    provider = ProviderFactory()
    url = f"/api/v1/admin/providers/{provider.pk}/deposits"
    body = {"amount_cents": 1000, "method": "cheque", "reference": "CHQ-9"}
    first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="form-1", **staff_headers)
    again = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="form-1", **staff_headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = client.post(url, {**body, "amount_cents": 999}, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="form-1", **staff_headers)
    assert other.status_code == 409
    nul = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="form\x00", **staff_headers)
    assert nul.status_code == 422 and nul.json()["error"]["details"]["fields"][0]["field"] == "idempotency_key"
    assert balance_cents(provider_id=provider.pk) == 1000 == ledger_sum(provider_id=provider.pk)
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"amount_cents": 0, "method": "cheque"}, "amount_cents"),
    ({"amount_cents": -100, "method": "cheque"}, "amount_cents"),
    ({"amount_cents": 1_000_000_001, "method": "cheque"}, "amount_cents"),
    ({"amount_cents": "100", "method": "cheque"}, "amount_cents"),
    ({"amount_cents": 100, "method": "gold"}, "method"),
    ({"amount_cents": 100, "method": "cheque", "status": "completed"}, "status"),
])
def test_bad_deposits_are_422_and_move_no_money(client, staff_headers, body, field):
    provider = ProviderFactory()
    response = client.post(f"/api/v1/admin/providers/{provider.pk}/deposits", body,
                           content_type="application/json", **staff_headers)
    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["error"]["details"]["fields"]]
    assert not LedgerEntry.objects.exists() and not Payment.objects.exists()


def test_deposits_are_staff_only_and_need_a_real_provider(client, staff_headers, provider_headers, provider):
    url = f"/api/v1/admin/providers/{provider.pk}/deposits"
    body = {"amount_cents": 100, "method": "cheque"}
    assert client.post(url, body, content_type="application/json", **provider_headers).status_code == 403
    missing = client.post("/api/v1/admin/providers/999999/deposits", body, content_type="application/json",
                          **staff_headers)
    assert missing.status_code == 404
    assert not LedgerEntry.objects.exists()


def test_history_costs_the_same_queries_for_any_page_size(client, provider, provider_headers,
                                                          django_assert_max_num_queries):
    for i in range(60):
        deposit_post(provider_id=provider.pk, amount_cents=1 + i, key=f"q{i}")
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/provider/billing/history?limit=50", **provider_headers).json()
    assert len(body["items"]) == 50 and body["next_cursor"]


@pytest.mark.django_db(transaction=True)
def test_a_deposit_submitted_twice_at_once_with_one_key_credits_once():
    import threading

    from django.db import connection

    from hotlead.billing.services.payments import payment_record
    from tests.factories.accounts import StaffFactory

    # given: a double-clicked console form (one token) reaching two workers at the same moment
    provider, staff = ProviderFactory(low_balance_threshold_cents=0), StaffFactory()
    barrier, results, errors = threading.Barrier(4), [], []

    def submit() -> None:
        try:
            barrier.wait()
            results.append(payment_record(provider_id=provider.pk, amount_cents=2500, method="cheque",
                                          reference="CHQ-1", actor=staff, idempotency_key="console:token-1").pk)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then one payment, one entry, one audit record; every submission gets the same payment back
    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1
    assert Payment.objects.count() == 1 and LedgerEntry.objects.filter(account_id=provider.pk).count() == 1
    assert balance_cents(provider_id=provider.pk) == 2500 == ledger_sum(provider_id=provider.pk)
    assert AuditLog.objects.filter(action="deposit.recorded").count() == 1
