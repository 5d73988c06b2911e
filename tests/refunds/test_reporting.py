"""A provider reports a bought lead as bad: window, one report per lead, whose lead, which states."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.billing.models import LedgerEntry
from hotlead.core.models import AuditLog
from hotlead.distribution.enums import AssignmentStatus
from hotlead.refunds.metrics import BAD_LEADS_REPORTED
from hotlead.refunds.models import BadLeadReport
from hotlead.refunds.selectors import report_window_closes_at, report_window_open
from tests.factories.distribution import make_assignment
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance, report_url

pytestmark = pytest.mark.django_db

WINDOW = timedelta(days=7)


def test_report_is_filed_pending_with_the_rate_and_no_money_moves(client, provider, provider_headers, rules):
    # given
    assignment = make_assignment(provider=provider)
    entries_before = LedgerEntry.objects.count()
    # when
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact", "details": "Nobody answers."},
                           content_type="application/json", **provider_headers)
    # then
    assert response.status_code == 201
    body = response.json()
    report = BadLeadReport.objects.get()
    assert body["id"] == report.pk and body["assignment_id"] == assignment.pk and body["status"] == "pending"
    assert body["matched_rule"] is None and body["auto_rule"] is None and body["refund_cents"] is None
    assert body["return_rate"] == {"percent": "2.00", "reports": 1, "assignments": 1, "window": 50,
                                   "max_percent": 20, "over_cap": False}
    assert (report.provider_id, report.reason, report.details) == (provider.pk, "wrong_contact", "Nobody answers.")
    assert report.return_rate_reports == 1 and str(report.return_rate_percent) == "2.00"
    assert LedgerEntry.objects.count() == entries_before
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.ASSIGNED
    assert AuditLog.objects.filter(action="bad_lead.report", object_id=str(report.pk)).count() == 1
    assert_books_balance(provider)


def test_window_is_inclusive_at_exactly_seven_days():
    assigned_at = timezone.now() - timedelta(days=30)
    closes_at = report_window_closes_at(assigned_at=assigned_at)
    assert closes_at == assigned_at + WINDOW
    assert report_window_open(assigned_at=assigned_at, now=closes_at) is True
    assert report_window_open(assigned_at=assigned_at, now=closes_at + timedelta(microseconds=1)) is False


def test_report_just_inside_the_window_is_accepted(client, provider, provider_headers, rules):
    assignment = make_assignment(provider=provider, assigned_at=timezone.now() - WINDOW + timedelta(seconds=30))
    response = client.post(report_url(assignment.pk), {"reason": "duplicate", "details": ""},
                           content_type="application/json", **provider_headers)
    assert response.status_code == 201
    assert BadLeadReport.objects.filter(assignment=assignment).count() == 1


def test_report_just_after_the_window_is_refused(client, provider, provider_headers, rules):
    assignment = make_assignment(provider=provider, assigned_at=timezone.now() - WINDOW - timedelta(seconds=1))
    response = client.post(report_url(assignment.pk), {"reason": "duplicate", "details": ""},
                           content_type="application/json", **provider_headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "report_window_closed"
    assert error["details"]["window_closed_at"] == (assignment.assigned_at + WINDOW).isoformat()
    assert BadLeadReport.objects.count() == 0


def test_window_follows_the_setting(client, provider, provider_headers, rules, settings):
    settings.HOTLEAD = {**settings.HOTLEAD, "BAD_LEAD_WINDOW_DAYS": 2}
    assignment = make_assignment(provider=provider, assigned_at=timezone.now() - timedelta(days=3))
    response = client.post(report_url(assignment.pk), {"reason": "duplicate"}, content_type="application/json",
                           **provider_headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "report_window_closed"


def test_second_report_on_the_same_lead_is_a_conflict(client, provider, provider_headers, rules):
    # given
    assignment = make_assignment(provider=provider)
    first = client.post(report_url(assignment.pk), {"reason": "duplicate"}, content_type="application/json",
                        **provider_headers)
    assert first.status_code == 201
    # when
    second = client.post(report_url(assignment.pk), {"reason": "other", "details": "Again"},
                         content_type="application/json", **provider_headers)
    # then
    assert second.status_code == 409 and second.json()["error"]["code"] == "conflict"
    assert list(BadLeadReport.objects.values_list("reason", flat=True)) == ["duplicate"]


def test_the_database_refuses_a_second_report_per_assignment(provider, rules):
    from django.db import IntegrityError, transaction

    assignment = make_assignment(provider=provider)
    BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="duplicate")
    with pytest.raises(IntegrityError), transaction.atomic():
        BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="other")
    assert BadLeadReport.objects.count() == 1


@pytest.mark.parametrize("status", [AssignmentStatus.REJECTED, AssignmentStatus.REFUNDED])
def test_rejected_or_refunded_leads_cannot_be_reported(client, provider, provider_headers, rules, status):
    assignment = make_assignment(provider=provider, status=status)
    response = client.post(report_url(assignment.pk), {"reason": "duplicate"}, content_type="application/json",
                           **provider_headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"] == {"status": status}
    assert BadLeadReport.objects.count() == 0


def test_accepted_leads_can_be_reported(client, provider, provider_headers, rules):
    assignment = make_assignment(provider=provider, status=AssignmentStatus.ACCEPTED)
    response = client.post(report_url(assignment.pk), {"reason": "already_hired"}, content_type="application/json",
                           **provider_headers)
    assert response.status_code == 201


def test_another_providers_lead_is_not_found(client, provider, provider_headers, rules):
    other = make_assignment(provider=ProviderFactory())
    for assignment_id in (other.pk, 999_999_999, 2**63 + 5):
        response = client.post(report_url(assignment_id), {"reason": "duplicate"},
                               content_type="application/json", **provider_headers)
        assert response.status_code == 404, assignment_id
        assert response.json()["error"]["code"] == "not_found"
    assert BadLeadReport.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"reason": "bogus"}, "reason"),
        ({"details": "no reason"}, "reason"),
        ({"reason": "other", "details": "   "}, "details"),
        ({"reason": "duplicate", "details": "x" * 5001}, "details"),
        ({"reason": "duplicate", "status": "approved"}, "status"),
    ],
)
def test_bad_input_is_a_validation_error(client, provider, provider_headers, rules, payload, field):
    assignment = make_assignment(provider=provider)
    response = client.post(report_url(assignment.pk), payload, content_type="application/json", **provider_headers)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert field in [row["field"] for row in body["details"]["fields"]]
    assert BadLeadReport.objects.count() == 0


def test_anonymous_and_staff_cannot_report(client, staff_headers, rules):
    assignment = make_assignment()
    assert client.post(report_url(assignment.pk), {"reason": "duplicate"},
                       content_type="application/json").status_code == 401
    assert client.post(report_url(assignment.pk), {"reason": "duplicate"}, content_type="application/json",
                       **staff_headers).status_code == 403
    assert BadLeadReport.objects.count() == 0


def test_reported_metric_counts_by_reason_after_commit(client, provider, provider_headers, rules,
                                                       django_capture_on_commit_callbacks):
    assignment = make_assignment(provider=provider)
    before = BAD_LEADS_REPORTED.labels(reason="not_requested")._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(report_url(assignment.pk), {"reason": "not_requested"}, content_type="application/json",
                    **provider_headers)
    assert BAD_LEADS_REPORTED.labels(reason="not_requested")._value.get() == before + 1
