"""SPEC §4.1: who may buy a lead at one level, and the first failing reason of those who may not."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.distribution.enums import SkipReason
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.eligibility import subscriptions_recheck
from hotlead.distribution.services.engine import lead_distribute
from hotlead.distribution.services.facts import LevelFacts, lead_facts_of
from hotlead.leads.enums import LeadStatus, Timeline
from hotlead.leads.models import Lead
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.filters import filters_match, filters_validate, lead_filter_values
from hotlead.levels.models import Subscription
from hotlead.levels.schedule import schedule_allows
from hotlead.providers.enums import ProviderStatus
from tests.distribution.conftest import approved_lead, seller
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory

# Monday 2026-11-30 20:00 UTC = 12:00 in Los Angeles (the factories' provider time zone)
MONDAY_NOON_LA = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _run(lead, *, now=None):
    return lead_distribute(lead_id=lead.pk, trigger="approval", now=now)


def _only_level(run) -> dict:
    assert len(run.trace["levels"]) == 1
    return run.trace["levels"][0]


def _assert_skipped(run, subscription, reason: str) -> None:
    level = _only_level(run)
    assert run.outcome == LeadStatus.UNSOLD
    assert level["considered"] == 1 and level["eligible"] == 0
    assert level["skipped"] == {reason: 1}
    assert level["chosen"] == []
    if reason not in (SkipReason.CATEGORY, SkipReason.AREA):
        assert level["skipped_providers"] == {reason: [subscription.provider_id]}
    earlier = 1 if reason == SkipReason.ALREADY_ASSIGNED else 0  # the earlier sale stays the only one
    assert Assignment.objects.filter(lead_id=run.lead_id, provider_id=subscription.provider_id).count() == earlier
    key = f"charge:{run.lead_id}:{subscription.provider_id}"
    assert LedgerEntry.objects.filter(idempotency_key=key).count() == earlier


def test_an_eligible_subscription_buys(roofing, exclusive):
    # given
    subscription = seller(exclusive, balance=12_000)
    lead = approved_lead()
    # when
    run = _run(lead)
    # then
    level = _only_level(run)
    assert run.outcome == LeadStatus.DISTRIBUTED
    assert level == {**level, "considered": 1, "eligible": 1, "skipped": {}, "chosen": [subscription.provider_id]}
    assert balance_cents(provider_id=subscription.provider_id) == 0


@pytest.mark.parametrize("make_inactive", [
    pytest.param(lambda s: s.provider.__class__.objects.filter(pk=s.provider_id).update(
        status=ProviderStatus.SUSPENDED), id="provider-suspended"),
    pytest.param(lambda s: s.provider.__class__.objects.filter(pk=s.provider_id).update(
        email_verified_at=None), id="provider-email-unverified"),
    pytest.param(lambda s: s.provider.__class__.objects.filter(pk=s.provider_id).update(
        status=ProviderStatus.PENDING_VERIFICATION), id="provider-pending"),
    pytest.param(lambda s: Subscription.objects.filter(pk=s.pk).update(
        status=SubscriptionStatus.INACTIVE_FUNDS), id="subscription-inactive-funds"),
])
def test_inactive(roofing, exclusive, make_inactive):
    # given
    subscription = seller(exclusive)
    make_inactive(subscription)
    # when
    run = _run(approved_lead())
    # then
    _assert_skipped(run, subscription, SkipReason.INACTIVE)


def test_a_cancelled_subscription_is_not_even_considered(roofing, exclusive):
    subscription = seller(exclusive, status=SubscriptionStatus.CANCELLED)
    run = _run(approved_lead())
    assert _only_level(run)["considered"] == 0
    assert not Assignment.objects.filter(subscription=subscription).exists()


def test_category_not_served(roofing, plumbing, exclusive):
    subscription = seller(exclusive, categories=[plumbing])
    run = _run(approved_lead(category=roofing))
    _assert_skipped(run, subscription, SkipReason.CATEGORY)


@pytest.mark.parametrize(("areas", "eligible"), [
    (["94110"], True),
    (["941*"], True),
    (["9*"], True),
    (["94110*"], True),
    (["94111", "95*"], False),
    (["9411"], False),  # an exact code is not a prefix
    (["941101*"], False),
])
def test_service_areas_exact_codes_and_prefixes(roofing, exclusive, areas, eligible):
    subscription = seller(exclusive, areas=areas)
    run = _run(approved_lead(postal_code="94110"))
    if eligible:
        assert _only_level(run)["chosen"] == [subscription.provider_id]
    else:
        _assert_skipped(run, subscription, SkipReason.AREA)


def test_filter_does_not_match(roofing, exclusive):
    subscription = seller(exclusive, filters=[{"field": "budget_cents", "op": "gte", "value": 100_000}])
    run = _run(approved_lead(budget_cents=50_000))
    _assert_skipped(run, subscription, SkipReason.FILTER)


def test_already_assigned(roofing, exclusive):
    # given a lead that (by an earlier sale) already belongs to this provider
    subscription = seller(exclusive)
    lead = approved_lead()
    make_assignment(lead=lead, provider=subscription.provider, subscription=subscription)
    # when
    run = _run(lead)
    # then
    _assert_skipped(run, subscription, SkipReason.ALREADY_ASSIGNED)
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_paused(roofing, exclusive):
    subscription = seller(exclusive, status=SubscriptionStatus.PAUSED)
    _assert_skipped(_run(approved_lead()), subscription, SkipReason.SCHEDULE)


def test_a_pause_takes_effect_for_the_very_next_lead(roofing, exclusive):
    subscription = seller(exclusive, balance=1_000_000)
    assert _run(approved_lead()).outcome == LeadStatus.DISTRIBUTED
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.PAUSED)
    _assert_skipped(_run(approved_lead()), subscription, SkipReason.SCHEDULE)


@pytest.mark.parametrize(("schedule", "eligible"), [
    ({"days": [0], "start": "09:00", "end": "17:00"}, True),
    ({"days": [1, 2], "start": "09:00", "end": "17:00"}, False),  # Monday is not listed
    ({"days": [0], "start": "12:01", "end": "17:00"}, False),
    ({"days": [0], "start": "09:00", "end": "12:00"}, False),  # the end is excluded
    ({"days": [0], "start": "12:00", "end": "12:30"}, True),  # the start is included
    ({"days": [6], "start": "22:00", "end": "13:00"}, True),  # overnight from Sunday: Monday morning part
    ({"days": [0], "start": "22:00", "end": "13:00"}, False),  # overnight from Monday: opens 22:00
])
def test_schedule_in_the_providers_time_zone(roofing, exclusive, schedule, eligible):
    subscription = seller(exclusive, schedule=schedule)
    run = _run(approved_lead(), now=MONDAY_NOON_LA)
    if eligible:
        assert _only_level(run)["chosen"] == [subscription.provider_id]
    else:
        _assert_skipped(run, subscription, SkipReason.SCHEDULE)


def test_the_schedule_reads_each_providers_own_time_zone(roofing, exclusive):
    # Monday 12:00 in Los Angeles is Monday 15:00 in New York: a 09:00-13:00 window is closed there
    subscription = seller(exclusive, schedule={"days": [0], "start": "09:00", "end": "13:00"})
    subscription.provider.__class__.objects.filter(pk=subscription.provider_id).update(timezone="America/New_York")
    _assert_skipped(_run(approved_lead(), now=MONDAY_NOON_LA), subscription, SkipReason.SCHEDULE)


@pytest.mark.parametrize(("cap", "earlier_sale_at", "eligible"), [
    ({"daily_cap": 1}, MONDAY_NOON_LA - timedelta(hours=1), False),
    # Sunday 23:00 in Los Angeles is an earlier local day (though it is Monday in UTC)
    ({"daily_cap": 1}, datetime(2026, 11, 30, 7, 0, tzinfo=UTC), True),
    ({"daily_cap": 2}, MONDAY_NOON_LA - timedelta(hours=1), True),
    ({"weekly_cap": 1}, MONDAY_NOON_LA - timedelta(hours=11), False),  # Monday 01:00 local: this week
    ({"weekly_cap": 1}, MONDAY_NOON_LA - timedelta(hours=13), True),  # Sunday 23:00 local: last week
    ({"monthly_cap": 1}, datetime(2026, 11, 1, 8, 0, tzinfo=UTC), False),  # Nov 1st 01:00 local
    ({"monthly_cap": 1}, datetime(2026, 11, 1, 6, 0, tzinfo=UTC), True),  # Oct 31st 23:00 local
    ({"monthly_budget_cents": 24_000}, MONDAY_NOON_LA - timedelta(days=3), True),  # 12,000 + 12,000 fits
    ({"monthly_budget_cents": 23_999}, MONDAY_NOON_LA - timedelta(days=3), False),
])
def test_caps_count_sales_of_the_local_day_week_and_month(roofing, exclusive, cap, earlier_sale_at, eligible):
    # given one earlier sale (12,000) at this subscription
    subscription = seller(exclusive, balance=1_000_000, **cap)
    make_assignment(lead=approved_lead(status=LeadStatus.DISTRIBUTED), provider=subscription.provider,
                    subscription=subscription, assigned_at=earlier_sale_at)
    # when
    run = _run(approved_lead(), now=MONDAY_NOON_LA)
    # then
    if eligible:
        assert _only_level(run)["chosen"] == [subscription.provider_id]
    else:
        _assert_skipped(run, subscription, SkipReason.CAP)


def test_a_refunded_sale_does_not_count_against_caps(roofing, exclusive):
    subscription = seller(exclusive, balance=1_000_000, daily_cap=1)
    make_assignment(lead=approved_lead(status=LeadStatus.DISTRIBUTED), provider=subscription.provider,
                    subscription=subscription, assigned_at=MONDAY_NOON_LA - timedelta(hours=1), status="refunded")
    assert _only_level(_run(approved_lead(), now=MONDAY_NOON_LA))["chosen"] == [subscription.provider_id]


def test_balance_below_price(roofing, exclusive):
    subscription = seller(exclusive, balance=11_999)
    _assert_skipped(_run(approved_lead()), subscription, SkipReason.BALANCE)
    assert balance_cents(provider_id=subscription.provider_id) == 11_999


def test_the_first_failing_reason_is_recorded(roofing, plumbing, exclusive):
    # given a subscription failing category, filter, schedule, cap and balance at once
    subscription = seller(exclusive, balance=10, categories=[plumbing], status=SubscriptionStatus.PAUSED,
                          filters=[{"field": "budget_cents", "op": "gte", "value": 100_000}], daily_cap=0)
    # then only the first (category) is recorded
    _assert_skipped(_run(approved_lead(budget_cents=1)), subscription, SkipReason.CATEGORY)


def test_reasons_are_counted_per_reason(roofing, plumbing, exclusive):
    # given two eligible subscriptions and five skipped for three reasons
    eligible = [seller(exclusive), seller(exclusive)]
    seller(exclusive, categories=[plumbing])
    seller(exclusive, balance=5)
    seller(exclusive, balance=5)
    seller(exclusive, areas=["10001"])
    seller(exclusive, status=SubscriptionStatus.PAUSED)
    # when
    level = _only_level(_run(approved_lead()))
    # then
    assert level["considered"] == 7
    assert level["eligible"] == 2
    assert level["skipped"] == {"area": 1, "balance": 2, "category": 1, "schedule": 1}
    assert level["eligible_providers"] == sorted(s.provider_id for s in eligible)


# --- the SQL agrees with the reference semantics of levels.filters and levels.schedule -----------------

_slugs = st.sampled_from(["roofing", "plumbing"])
_postal = st.sampled_from(["94110", "94111", "10001", "9", "941", "A1B2C3"])
_budget = st.integers(min_value=0, max_value=20_000)
_timeline = st.sampled_from(list(Timeline.values))
_source = st.sampled_from(["web", "api", "webinar", "partner-x", "Web"])


def _filter_strategy():
    def ops(field, scalar, extra_ops=()):
        eq = st.tuples(st.sampled_from(["eq", "ne"]), scalar)
        lists = st.tuples(st.sampled_from(["in", "not_in"]), st.lists(scalar, min_size=1, max_size=3))
        choices = [eq, lists]
        if "range" in extra_ops:
            choices += [st.tuples(st.sampled_from(["gte", "lte"]), scalar),
                        st.tuples(st.just("between"), st.tuples(scalar, scalar).map(sorted))]
        if "prefix" in extra_ops:
            choices.append(st.tuples(st.just("prefix"), st.sampled_from(["9", "94", "941", "w", "we", "A1"])))
        return st.one_of(*choices).map(lambda op_value: {"field": field, "op": op_value[0], "value": op_value[1]})

    return st.one_of(
        ops("category", _slugs), ops("postal_code", _postal, ("prefix",)), ops("budget_cents", _budget, ("range",)),
        ops("timeline", _timeline), ops("source", _source, ("prefix",)),
    )


def _level_facts(level) -> LevelFacts:
    return LevelFacts(id=level.pk, slug=level.slug, name=level.name, price_cents=level.price_cents,
                      max_recipients=level.max_recipients)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=st.lists(_filter_strategy(), max_size=3), postal_code=_postal,
       budget=st.one_of(st.none(), _budget), timeline=st.one_of(st.just(""), _timeline),
       source=st.one_of(st.just(""), _source), category=_slugs)
def test_the_sql_filter_agrees_with_the_reference_semantics(roofing, plumbing, exclusive, filters, postal_code,
                                                            budget, timeline, source, category):
    # given a subscription that passes everything before the filters (it serves both categories everywhere)
    subscription = Subscription.objects.filter(level=exclusive).first() or seller(
        exclusive, categories=[roofing, plumbing], areas=["1*", "9*", "A*"])
    normalised = filters_validate(filters, category_slugs=["roofing", "plumbing"])
    Subscription.objects.filter(pk=subscription.pk).update(filters=normalised)
    lead = Lead.objects.filter(status=LeadStatus.APPROVED).first() or approved_lead()
    Lead.objects.filter(pk=lead.pk).update(postal_code=postal_code, budget_cents=budget, timeline=timeline,
                                           source=source, category=CategoryFactory(slug=category))
    lead.refresh_from_db()
    # when
    reasons = subscriptions_recheck(lead=lead_facts_of(lead), level=_level_facts(exclusive), now=MONDAY_NOON_LA,
                                    subscription_ids=[subscription.pk])
    # then
    expected = None if filters_match(normalised, lead_filter_values(lead)) else SkipReason.FILTER
    assert reasons == {subscription.pk: expected}


_schedules = st.builds(
    lambda days, start, end: {"days": sorted(days), "start": start, "end": end},
    st.sets(st.integers(0, 6), min_size=1),
    st.sampled_from(["00:00", "06:30", "09:00", "12:00", "17:45", "22:00", "23:59"]),
    st.sampled_from(["00:00", "06:30", "09:00", "12:00", "17:45", "22:00", "23:59"]),
).filter(lambda s: s["start"] != s["end"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=_schedules, minutes=st.integers(0, 7 * 24 * 60 - 1),
       tz=st.sampled_from(["America/Los_Angeles", "Europe/Paris", "Asia/Kolkata", "UTC"]))
def test_the_sql_schedule_agrees_with_the_reference_semantics(roofing, exclusive, schedule, minutes, tz):
    subscription = Subscription.objects.filter(level=exclusive).first() or seller(exclusive)
    Subscription.objects.filter(pk=subscription.pk).update(schedule=schedule)
    subscription.provider.__class__.objects.filter(pk=subscription.provider_id).update(timezone=tz)
    lead = Lead.objects.filter(status=LeadStatus.APPROVED).first() or approved_lead()
    now = datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=minutes)
    reasons = subscriptions_recheck(lead=lead_facts_of(lead), level=_level_facts(exclusive), now=now,
                                    subscription_ids=[subscription.pk])
    expected = None if schedule_allows(schedule, local=now.astimezone(ZoneInfo(tz))) else SkipReason.SCHEDULE
    assert reasons == {subscription.pk: expected}
