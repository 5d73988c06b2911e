"""Races on real PostgreSQL connections: money moves exactly once whoever wins."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.core.exceptions import Conflict
from hotlead.distribution.enums import AssignmentStatus
from hotlead.refunds.models import BadLeadReport
from hotlead.refunds.services import lead_mark_fraud, report_approve, report_create
from tests.factories.accounts import StaffFactory
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same moment, each on its own connection; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each side got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_staff_approving_the_same_report_refund_once(rules):
    # given
    provider = ProviderFactory(balance_cents=100)
    assignment = make_assignment(provider=provider, level=LevelFactory(price_cents=2700))
    report = report_create(provider=provider, assignment_id=assignment.pk, reason="wrong_contact")
    alice, bob = StaffFactory(), StaffFactory()
    # when
    results = race(lambda: report_approve(report_id=report.pk, actor=alice),
                   lambda: report_approve(report_id=report.pk, actor=bob))
    # then
    winners = [r for r in results if isinstance(r, BadLeadReport)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert balance_cents(provider_id=provider.pk) == 100 + 2700
    report.refresh_from_db()
    assert report.status == "approved" and report.decided_by_id == winners[0].decided_by_id
    assert_books_balance(provider)


def test_marking_a_lead_fraudulent_twice_at_once_refunds_each_buyer_once(rules):
    # given: three buyers of one lead
    lead = LeadFactory(status="distributed")
    level = LevelFactory(price_cents=1500, max_recipients=3)
    providers = [ProviderFactory() for _ in range(3)]
    assignments = [make_assignment(lead=lead, provider=p, level=level) for p in providers]
    alice, bob = StaffFactory(), StaffFactory()
    # when
    results = race(lambda: lead_mark_fraud(lead_public_id=lead.public_id, actor=alice),
                   lambda: lead_mark_fraud(lead_public_id=lead.public_id, actor=bob))
    # then
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r.refunds) for r in results) == [0, 3]
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 3
    for provider, assignment in zip(providers, assignments, strict=True):
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.REFUNDED
        assert balance_cents(provider_id=provider.pk) == 1500
        assert_books_balance(provider)


def test_fraud_and_an_approval_racing_on_one_buyer_refund_once(rules):
    # given
    lead = LeadFactory(status="distributed")
    level = LevelFactory(price_cents=1200, max_recipients=2)
    providers = [ProviderFactory(), ProviderFactory()]
    assignments = [make_assignment(lead=lead, provider=p, level=level) for p in providers]
    report = report_create(provider=providers[0], assignment_id=assignments[0].pk, reason="not_requested")
    staff = StaffFactory()
    # when
    results = race(lambda: lead_mark_fraud(lead_public_id=lead.public_id, actor=staff),
                   lambda: report_approve(report_id=report.pk, actor=staff))
    # then: either order is fine; no deadlock, one refund per buyer
    assert not isinstance(results[0], Exception), results
    assert isinstance(results[1], BadLeadReport | Conflict), results
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    report.refresh_from_db()
    assert report.status == "approved" and report.refund_entry.refund_of_id == assignments[0].charge_entry_id
    for provider in providers:
        assert balance_cents(provider_id=provider.pk) == 1200
        assert_books_balance(provider)


def test_two_reports_of_one_lead_at_once_make_one_report(rules):
    provider = ProviderFactory()
    assignment = make_assignment(provider=provider)
    results = race(
        lambda: report_create(provider=provider, assignment_id=assignment.pk, reason="duplicate"),
        lambda: report_create(provider=provider, assignment_id=assignment.pk, reason="other", details="Twice"),
    )
    assert sorted(type(r).__name__ for r in results) == ["BadLeadReport", "Conflict"], results
    assert BadLeadReport.objects.filter(assignment=assignment).count() == 1


def test_concurrent_reports_cannot_slip_past_the_return_rate_cap(rules, settings):
    # given: window 10, cap 20% (2 reports allowed), four bought leads whose e-mail bounced
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 10, "RETURN_RATE_MAX_PERCENT": 20}
    provider = ProviderFactory()
    level = LevelFactory(price_cents=1000)
    assignments = [make_assignment(provider=provider, level=level, lead=LeadFactory(status="distributed",
                                                                                    email_bounced=True))
                   for _ in range(4)]
    # when the provider files all four reports at the same moment
    results = race(*(lambda a=a: report_create(provider=provider, assignment_id=a.pk, reason="wrong_contact")
                     for a in assignments))
    # then the reports are counted one after another: two auto-approved, the 3rd and 4th held over the cap
    assert all(isinstance(r, BadLeadReport) for r in results), results
    statuses = sorted(BadLeadReport.objects.values_list("status", flat=True))
    assert statuses == ["approved", "approved", "pending", "pending"]
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    assert balance_cents(provider_id=provider.pk) == 2000
    provider.refresh_from_db()
    assert provider.flagged is True
    assert_books_balance(provider)
