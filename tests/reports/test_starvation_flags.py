"""Starvation read from the stored distribution traces; return- and reject-rate flags (SPEC §6, §10)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.core.models import AuditLog
from hotlead.distribution.models import DistributionRun
from hotlead.distribution.services.assignments import assignment_reject
from hotlead.levels.models import Subscription
from hotlead.providers.models import Provider
from hotlead.refunds.models import BadLeadReport
from reports import selectors
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.reports.conftest import at

pytestmark = pytest.mark.django_db


def _run(*, when, level: str, eligible: list[int], chosen: list[int]) -> None:
    with at(when):
        DistributionRun.objects.create(
            lead=LeadFactory(status="distributed" if chosen else "unsold"), trigger="approval",
            outcome="distributed" if chosen else "unsold",
            trace={"levels": [{"level": level, "eligible_providers": eligible, "chosen": chosen}]},
        )


def test_starvation_lists_funded_active_subscriptions_that_missed_eligible_leads(db):
    now = timezone.now()
    shared = LevelFactory(slug="shared", price_cents=2500, max_recipients=1)
    starving = ProviderFactory(company_name="Starving", balance_cents=10_000)
    served = ProviderFactory(company_name="Served", balance_cents=10_000)
    broke = ProviderFactory(company_name="Broke", balance_cents=100)
    paused = ProviderFactory(company_name="Paused", balance_cents=10_000)
    once = ProviderFactory(company_name="Never served", balance_cents=10_000)
    subs = {p: Subscription.objects.create(provider=p, level=shared) for p in (starving, served, broke, paused, once)}
    Subscription.objects.filter(pk=subs[paused].pk).update(status="paused")
    old_sale = make_assignment(provider=starving, level=shared, subscription=subs[starving],
                               assigned_at=now - timedelta(days=20))
    make_assignment(provider=served, level=shared, subscription=subs[served], assigned_at=now - timedelta(days=1))
    everyone = [starving.pk, served.pk, broke.pk, paused.pk, once.pk]
    for days_ago in (1, 2, 3):
        _run(when=now - timedelta(days=days_ago), level="shared", eligible=everyone, chosen=[served.pk])
    _run(when=now - timedelta(days=4), level="shared", eligible=[starving.pk, once.pk], chosen=[])  # went unsold
    _run(when=now - timedelta(days=10), level="shared", eligible=everyone, chosen=[served.pk])  # before the window
    _run(when=now - timedelta(days=1), level="other-level", eligible=[once.pk], chosen=[])  # another level

    items = selectors.starvation(days=7)["items"]

    # worst first: most leads missed, then the one waiting longest (never served before served long ago)
    assert [(i["company_name"], i["eligible_leads_missed"]) for i in items] == [("Never served", 4), ("Starving", 4)]
    assert items[0]["last_assigned_at"] is None
    assert items[1]["subscription_id"] == subs[starving].pk and items[1]["level"] == "shared"
    assert items[1]["last_assigned_at"] == old_sale.assigned_at


def test_starvation_days_is_validated(db):
    from hotlead.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        selectors.starvation(days=0)


def test_reject_rate_over_the_maximum_flags_the_provider_once_audited(db, settings):
    settings.HOTLEAD = {**settings.HOTLEAD, "REJECT_RATE_WINDOW": 10, "REJECT_RATE_MAX_PERCENT": 20}
    provider = ProviderFactory(company_name="Picky")
    level = LevelFactory()
    assignments = [make_assignment(provider=provider, level=level) for _ in range(10)]
    # 2 of 10 = 20%: at the maximum, not over it
    for a in assignments[:2]:
        assignment_reject(provider=provider, assignment_id=a.pk, reason="not interested")
    provider.refresh_from_db()
    assert provider.flagged is False
    # the third rejection is 30% > 20%
    assignment_reject(provider=provider, assignment_id=assignments[2].pk, reason="not interested")
    assignment_reject(provider=provider, assignment_id=assignments[3].pk, reason="not interested")
    provider.refresh_from_db()
    assert provider.flagged is True
    assert provider.flagged_reason == ("Reject rate 30.00% (3 rejections on the last 10 assignments) exceeds 20%")
    assert AuditLog.objects.filter(action="provider.flag", object_id=str(provider.pk)).count() == 1

    report = {i["provider_id"]: i for i in selectors.provider_flags()["items"]}[provider.pk]
    assert report == {"provider_id": provider.pk, "company_name": "Picky", "assignments": 10, "return_rate": 0.0,
                      "reject_rate": 0.4, "return_over": False, "reject_over": True, "flagged": True,
                      "flagged_reason": provider.flagged_reason}


def test_flags_report_shows_return_and_reject_rates_over_the_last_window(db, settings):
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 4, "REJECT_RATE_WINDOW": 4}
    provider = ProviderFactory(company_name="Returns")
    other = ProviderFactory(company_name="Clean")
    level = LevelFactory()
    now = timezone.now()
    sold = [make_assignment(provider=provider, level=level, assigned_at=now - timedelta(hours=10 - i))
            for i in range(6)]
    make_assignment(provider=other, level=level)
    # the two oldest are outside the window of 4: their report and rejection do not count
    BadLeadReport.objects.create(assignment=sold[0], provider=provider, reason="other", details="x")
    sold[1].status = "rejected"
    sold[1].save()
    BadLeadReport.objects.create(assignment=sold[5], provider=provider, reason="other", details="x")
    sold[4].status = "rejected"
    sold[4].save()
    Provider.objects.filter(pk=provider.pk).update(flagged=True, flagged_reason="Return rate 25.00%")

    items = selectors.provider_flags()["items"]

    assert [(i["company_name"], i["assignments"], i["return_rate"], i["reject_rate"], i["flagged"]) for i in items] \
        == [("Returns", 6, 0.25, 0.25, True), ("Clean", 1, 0.0, 0.0, False)]
