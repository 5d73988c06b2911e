"""Staff review through the admin API: approve refunds exactly once, reject moves no money, list and detail."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.core.models import AuditLog
from hotlead.distribution.enums import AssignmentStatus
from hotlead.notifications.models import EmailEvent
from hotlead.refunds.metrics import REFUNDED_CENTS, REFUNDS_APPROVED
from hotlead.refunds.models import BadLeadReport
from hotlead.refunds.services import report_create
from tests.factories.distribution import make_assignment
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import api_post, assert_books_balance

pytestmark = pytest.mark.django_db


def _report(provider=None, *, price_cents=4200, reason="wrong_contact", **assignment_fields) -> BadLeadReport:
    provider = provider or ProviderFactory(balance_cents=1000)
    assignment = make_assignment(provider=provider, level=LevelFactory(price_cents=price_cents), **assignment_fields)
    return report_create(provider=provider, assignment_id=assignment.pk, reason=reason, details="Disconnected.")


def test_approve_refunds_exactly_the_charge_once(client, staff_user, staff_headers, rules,
                                                 django_capture_on_commit_callbacks):
    # given
    report = _report(price_cents=4200)
    provider = report.provider
    assert balance_cents(provider_id=provider.pk) == 1000
    approved_before = REFUNDS_APPROVED.labels(decided_by="staff")._value.get()
    cents_before = REFUNDED_CENTS.labels(decided_by="staff")._value.get()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/admin/bad-leads/{report.pk}/approve", {"note": "Number is dead."},
                               content_type="application/json", **staff_headers)
    # then
    assert response.status_code == 200
    assert response.json() == {"id": report.pk, "status": "approved", "refund_cents": 4200}
    report.refresh_from_db()
    assert (report.status, report.decided_by_id, report.decision_note) == ("approved", staff_user.pk,
                                                                            "Number is dead.")
    refund = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert report.refund_entry_id == refund.pk
    assert (refund.amount_cents, refund.refund_of_id, refund.account_id) == (
        4200, report.assignment.charge_entry_id, provider.pk)
    assert refund.actor_id == staff_user.pk and refund.related_type == "refunds.badleadreport"
    assignment = report.assignment
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REFUNDED and assignment.refunded_at is not None
    assert balance_cents(provider_id=provider.pk) == 1000 + 4200
    assert_books_balance(provider)
    mine = EmailEvent.objects.filter(to=provider.user.email, template__in=["bad_lead_decision", "refund_issued"])
    assert sorted(mine.values_list("template", flat=True)) == ["bad_lead_decision", "refund_issued"]
    assert AuditLog.objects.filter(action="bad_lead.approve", object_id=str(report.pk), actor=staff_user).count() == 1
    assert REFUNDS_APPROVED.labels(decided_by="staff")._value.get() == approved_before + 1
    assert REFUNDED_CENTS.labels(decided_by="staff")._value.get() == cents_before + 4200


def test_approve_without_a_body_works(client, staff_headers, rules):
    report = _report(price_cents=2500)
    response = client.generic("POST", f"/api/v1/admin/bad-leads/{report.pk}/approve", b"",
                              content_type="application/json", **staff_headers)
    assert response.status_code == 200 and response.json()["refund_cents"] == 2500


def test_second_approval_is_a_conflict_and_moves_no_money(client, staff_headers, rules):
    # given
    report = _report(price_cents=2500)
    first = api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", staff_headers)
    assert first.status_code == 200
    balance_after_first = balance_cents(provider_id=report.provider_id)
    # when
    second = api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", staff_headers)
    # then
    assert second.status_code == 409
    assert second.json()["error"] == {"code": "conflict", "details": {"status": "approved"},
                                      "message": "This report was already approved; it cannot be decided again."}
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert balance_cents(provider_id=report.provider_id) == balance_after_first
    assert EmailEvent.objects.filter(template="refund_issued").count() == 1
    assert_books_balance(report.provider)


def test_reject_moves_no_money_and_mails_the_note(client, staff_user, staff_headers, rules):
    # given
    report = _report(price_cents=2500)
    balance_before = balance_cents(provider_id=report.provider_id)
    # when
    response = client.post(f"/api/v1/admin/bad-leads/{report.pk}/reject", {"note": "We reached the submitter."},
                           content_type="application/json", **staff_headers)
    # then
    assert response.status_code == 200
    assert response.json() == {"id": report.pk, "status": "rejected", "note": "We reached the submitter."}
    report.refresh_from_db()
    assert report.status == "rejected" and report.refund_entry_id is None
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    assert balance_cents(provider_id=report.provider_id) == balance_before
    report.assignment.refresh_from_db()
    assert report.assignment.status == AssignmentStatus.ASSIGNED
    event = EmailEvent.objects.get(template="bad_lead_decision")
    assert event.context["status"] == "rejected" and event.context["note"] == "We reached the submitter."
    assert AuditLog.objects.filter(action="bad_lead.reject", object_id=str(report.pk), actor=staff_user).count() == 1
    assert_books_balance(report.provider)


def test_approve_after_reject_is_a_conflict_and_moves_no_money(client, staff_headers, rules):
    report = _report(price_cents=2500)
    assert client.post(f"/api/v1/admin/bad-leads/{report.pk}/reject", {"note": "No."},
                       content_type="application/json", **staff_headers).status_code == 200
    balance_before = balance_cents(provider_id=report.provider_id)
    response = api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", staff_headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": "rejected"}
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    assert balance_cents(provider_id=report.provider_id) == balance_before
    report.refresh_from_db()
    assert report.status == "rejected"
    assert_books_balance(report.provider)


def test_reject_after_approve_is_a_conflict(client, staff_headers, rules):
    report = _report()
    api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", staff_headers)
    response = client.post(f"/api/v1/admin/bad-leads/{report.pk}/reject", {"note": "Changed my mind"},
                           content_type="application/json", **staff_headers)
    assert response.status_code == 409
    report.refresh_from_db()
    assert report.status == "approved"


@pytest.mark.parametrize("payload", [{}, {"note": ""}, {"note": "x" * 2001}, {"note": "ok", "status": "approved"}])
def test_reject_requires_a_note(client, staff_headers, rules, payload):
    report = _report()
    response = client.post(f"/api/v1/admin/bad-leads/{report.pk}/reject", payload, content_type="application/json",
                           **staff_headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    report.refresh_from_db()
    assert report.status == "pending"


def test_unknown_report_is_not_found(client, staff_headers, rules):
    for report_id in (12345, 2**63 + 1):
        assert api_post(client, f"/api/v1/admin/bad-leads/{report_id}/approve", staff_headers).status_code == 404
        assert client.get(f"/api/v1/admin/bad-leads/{report_id}", **staff_headers).status_code == 404


def test_providers_and_anonymous_cannot_review(client, provider_headers, rules):
    report = _report()
    assert api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", provider_headers).status_code == 403
    assert api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve").status_code == 401
    assert client.get("/api/v1/admin/bad-leads", **provider_headers).status_code == 403
    report.refresh_from_db()
    assert report.status == "pending" and LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_list_filters_and_paginates_newest_first(client, staff_headers, rules):
    # given: five reports by two providers, one of them old
    alice, bob = ProviderFactory(company_name="Alice Roofing"), ProviderFactory(company_name="Bob Plumbing")
    reports = [_report(alice, reason="duplicate"), _report(alice, reason="wrong_contact"),
               _report(bob, reason="duplicate"), _report(bob, reason="other"), _report(bob, reason="duplicate")]
    BadLeadReport.objects.filter(pk=reports[0].pk).update(created_at=timezone.now() - timedelta(hours=50))
    client.post(f"/api/v1/admin/bad-leads/{reports[1].pk}/reject", {"note": "no"}, content_type="application/json",
                **staff_headers)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/admin/bad-leads{query}", **staff_headers)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    # when / then
    newest_first = [r.pk for r in reversed(reports[1:])] + [reports[0].pk]
    assert ids("") == newest_first
    assert ids("?status=rejected") == [reports[1].pk]
    assert ids("?reason=duplicate") == [reports[4].pk, reports[2].pk, reports[0].pk]
    assert ids(f"?provider_id={alice.pk}") == [reports[1].pk, reports[0].pk]
    assert ids("?min_age_hours=48") == [reports[0].pk]
    assert ids("?max_age_hours=48") == newest_first[:-1]
    # keyset pagination walks every row once
    seen, cursor = [], None
    while True:
        response = client.get("/api/v1/admin/bad-leads?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                              **staff_headers).json()
        seen += [item["id"] for item in response["items"]]
        cursor = response["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first
    item = client.get("/api/v1/admin/bad-leads?limit=1", **staff_headers).json()["items"][0]
    assert item["provider_name"] == "Bob Plumbing" and item["lead_id"] == str(reports[4].assignment.lead.public_id)
    assert item["price_cents"] == 4200 and item["status"] == "pending" and item["refund_cents"] is None


@pytest.mark.parametrize("query", ["?cursor=not-a-cursor", "?limit=0", "?limit=201", "?status=bogus",
                                   "?reason=bogus", "?min_age_hours=-1"])
def test_list_rejects_bad_parameters(client, staff_headers, rules, query):
    response = client.get(f"/api/v1/admin/bad-leads{query}", **staff_headers)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


def test_detail_shows_the_signals_and_the_providers_rate(client, staff_headers, rules):
    report = _report(price_cents=3000, in_area_at_sale=True)
    response = client.get(f"/api/v1/admin/bad-leads/{report.pk}", **staff_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == report.pk and body["status"] == "pending" and body["details"] == "Disconnected."
    assert body["lead"] == {"category": "Roofing", "postal_code": "94110", "email_bounced": False,
                            "phone_valid": True, "is_fraud": False}
    assert body["assignment"]["status"] == "assigned" and body["assignment"]["in_area_at_sale"] is True
    assert body["provider_return_rate"] == {"percent": "2.00", "reports": 1, "assignments": 1, "window": 50,
                                            "max_percent": 20, "over_cap": False}
    assert body["return_rate_percent_at_report"] == "2.00"


def test_a_refund_reactivates_subscriptions_the_balance_now_covers(client, staff_headers, rules):
    # given: the lead's price took the whole balance, so the subscription went inactive for funds
    from hotlead.levels.enums import SubscriptionStatus

    provider = ProviderFactory()
    assignment = make_assignment(provider=provider, level=LevelFactory(price_cents=3000))
    subscription = assignment.subscription
    subscription.status = SubscriptionStatus.INACTIVE_FUNDS
    subscription.save(update_fields=["status"])
    report = report_create(provider=provider, assignment_id=assignment.pk, reason="wrong_contact")
    # when
    api_post(client, f"/api/v1/admin/bad-leads/{report.pk}/approve", staff_headers)
    # then
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert balance_cents(provider_id=provider.pk) == 3000
    assert EmailEvent.objects.filter(template="subscription_reactivated", to=provider.user.email).count() == 1
    assert_books_balance(provider)


def test_list_query_count_does_not_grow_with_rows(client, staff_headers, rules, django_assert_max_num_queries):
    for _ in range(6):
        _report()
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/admin/bad-leads?limit=5", **staff_headers)
    assert response.status_code == 200 and len(response.json()["items"]) == 5


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/provider/leads/{assignment_id}/bad-lead", "/api/v1/admin/bad-leads",
            "/api/v1/admin/bad-leads/{report_id}", "/api/v1/admin/bad-leads/{report_id}/approve",
            "/api/v1/admin/bad-leads/{report_id}/reject", "/api/v1/admin/leads/{lead_id}/mark-fraud"} <= set(paths)
