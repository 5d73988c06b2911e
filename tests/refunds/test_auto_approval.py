"""Objective rules approve and refund at once; switched off they don't; over the return-rate cap they don't."""
from __future__ import annotations

import pytest

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.core.models import AuditLog
from hotlead.distribution.enums import AssignmentStatus
from hotlead.notifications.models import EmailEvent
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from hotlead.refunds.selectors import return_rate_for_provider
from hotlead.refunds.services import auto_rule_set_enabled, report_create
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance, report_url

pytestmark = pytest.mark.django_db

RULE_CASES = [
    (AutoRule.EMAIL_BOUNCED, {"email_bounced": True}, {}),
    (AutoRule.PHONE_INVALID, {"phone_valid": False}, {}),
    (AutoRule.PHONE_INVALID, {"phone": "+11234567890"}, {}),  # stored as valid, fails re-validation
]


def _bad_assignment(provider, lead_fields: dict, assignment_fields: dict, price_cents: int = 3300):
    lead = LeadFactory(status="distributed", **lead_fields)
    return make_assignment(provider=provider, lead=lead, level=LevelFactory(price_cents=price_cents),
                           **assignment_fields)


@pytest.mark.parametrize(("rule", "lead_fields", "assignment_fields"), RULE_CASES)
def test_a_matching_rule_approves_and_refunds_at_once(client, provider, provider_headers, rules, rule, lead_fields,
                                                      assignment_fields):
    # given
    assignment = _bad_assignment(provider, lead_fields, assignment_fields)
    # when
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    # then
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "approved" and body["auto_rule"] == rule and body["matched_rule"] == rule
    assert body["refund_cents"] == 3300
    assert body["message"].startswith(f"Approved automatically: {AutoRule(rule).label}.")
    report = BadLeadReport.objects.get()
    assert (report.status, report.auto_rule, report.decided_by_id) == ("approved", rule, None)
    assert LedgerEntry.objects.get(kind=EntryKind.REFUND).amount_cents == 3300
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REFUNDED
    assert balance_cents(provider_id=provider.pk) == 3300
    assert AuditLog.objects.filter(action="bad_lead.auto_approve", object_id=str(report.pk)).count() == 1
    mine = EmailEvent.objects.filter(template__in=["bad_lead_decision", "refund_issued"], to=provider.user.email)
    assert sorted(mine.values_list("template", flat=True)) == ["bad_lead_decision", "refund_issued"]
    assert_books_balance(provider)


@pytest.mark.parametrize(("rule", "lead_fields", "assignment_fields"), RULE_CASES)
def test_a_switched_off_rule_leaves_the_report_pending(client, provider, provider_headers, rules, staff_user, rule,
                                                       lead_fields, assignment_fields):
    # given
    auto_rule_set_enabled(code=rule, enabled=False, actor=staff_user)
    assignment = _bad_assignment(provider, lead_fields, assignment_fields)
    # when
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    # then
    assert response.status_code == 201
    assert response.json()["status"] == "pending" and response.json()["auto_rule"] is None
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    assert balance_cents(provider_id=provider.pk) == 0
    assert_books_balance(provider)


def test_a_clean_lead_matches_no_rule(client, provider, provider_headers, rules):
    assignment = _bad_assignment(provider, {}, {})
    response = client.post(report_url(assignment.pk), {"reason": "out_of_area"}, content_type="application/json",
                           **provider_headers)
    assert response.json()["status"] == "pending" and response.json()["matched_rule"] is None
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_switching_a_rule_is_audit_logged_once_per_change(staff_user, rules):
    auto_rule_set_enabled(code=AutoRule.EMAIL_BOUNCED, enabled=False, actor=staff_user)
    auto_rule_set_enabled(code=AutoRule.EMAIL_BOUNCED, enabled=False, actor=staff_user)
    assert AutoApprovalRule.objects.get(code=AutoRule.EMAIL_BOUNCED).enabled is False
    assert AuditLog.objects.filter(action="auto_rule.switch").count() == 1


def test_the_three_rules_are_seeded_on(db):
    assert dict(AutoApprovalRule.objects.values_list("code", "enabled")) == {code: True for code in AutoRule.values}


def test_return_rate_counts_reports_of_any_status_over_the_last_n_assignments(settings, rules):
    # given: window 5; 7 assignments, reports on the two oldest (outside) and on three of the last five
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 5, "RETURN_RATE_MAX_PERCENT": 40}
    provider = ProviderFactory()
    assignments = [make_assignment(provider=provider) for _ in range(7)]
    for assignment in assignments[:2] + assignments[2:5]:
        BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="duplicate",
                                     status="rejected" if assignment.pk % 2 else "pending")
    # when
    rate = return_rate_for_provider(provider_id=provider.pk)
    # then: 3 of the last 5 → 60% > 40%
    assert (rate.reports, rate.assignments, rate.window, str(rate.percent), rate.over_cap) == (3, 5, 5, "60.00", True)


def test_return_rate_at_exactly_the_cap_is_not_over_it(settings, rules):
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 5, "RETURN_RATE_MAX_PERCENT": 20}
    provider = ProviderFactory()
    assignment = make_assignment(provider=provider)
    BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="duplicate")
    rate = return_rate_for_provider(provider_id=provider.pk)
    assert (str(rate.percent), rate.over_cap) == ("20.00", False)


def test_over_the_cap_no_auto_approval_the_provider_is_flagged_and_told(client, provider, provider_headers, rules,
                                                                         settings):
    # given: window 5, cap 20% — one earlier report, so the next one makes 2 of 5 = 40%
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 5, "RETURN_RATE_MAX_PERCENT": 20}
    earlier = make_assignment(provider=provider)
    report_create(provider=provider, assignment_id=earlier.pk, reason="duplicate")
    assignment = _bad_assignment(provider, {"email_bounced": True}, {})
    provider.refresh_from_db()
    assert provider.flagged is False
    # when
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    # then: the rule matched but was held back, visibly
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["matched_rule"] == "email_bounced" and body["auto_rule"] is None
    assert body["return_rate"] == {"percent": "40.00", "reports": 2, "assignments": 2, "window": 5,
                                   "max_percent": 20, "over_cap": True}
    assert "verification e-mail bounced" in body["message"] and "40.00%" in body["message"]
    assert "above the 20% maximum" in body["message"]
    report = BadLeadReport.objects.get(assignment=assignment)
    assert report.status == "pending" and report.auto_suppressed is True
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    provider.refresh_from_db()
    assert provider.flagged is True and "40.00%" in provider.flagged_reason
    assert AuditLog.objects.filter(action="provider.flag", object_id=str(provider.pk)).count() == 1
    assert_books_balance(provider)


def test_a_provider_under_the_cap_again_gets_auto_approvals(client, provider, provider_headers, rules, settings):
    # given: ten assignments in a window of ten, one already reported, a 20% cap
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 10, "RETURN_RATE_MAX_PERCENT": 20}
    for _ in range(8):
        make_assignment(provider=provider)
    report_create(provider=provider, assignment_id=make_assignment(provider=provider).pk, reason="duplicate")
    assignment = _bad_assignment(provider, {"email_bounced": True}, {})
    # when: the second report is 2 of 10 = 20%
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    # then
    assert response.json()["status"] == "approved"
    assert response.json()["return_rate"]["percent"] == "20.00"
    provider.refresh_from_db()
    assert provider.flagged is False
