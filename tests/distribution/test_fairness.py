"""SPEC §4.2's observable guarantees, as properties (hypothesis) over the real engine on PostgreSQL."""
from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotlead.distribution.models import Assignment, LevelCursor
from hotlead.distribution.services.engine import lead_distribute
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from tests.distribution.conftest import approved_lead, make_level, seller

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
_level_numbers = itertools.count(1)


def _fresh_market(*, providers: int, max_recipients: int) -> tuple[CompetitionLevel, list[Subscription]]:
    """A new level (the only active one) with `providers` identical, well-funded sellers."""
    CompetitionLevel.objects.update(active=False)
    number = next(_level_numbers)
    level = make_level(f"prop-{number}", rank=1000 + number, price_cents=100, max_recipients=max_recipients)
    return level, [seller(level, balance=1_000_000) for _ in range(providers)]


def _sell(*, at: datetime) -> list[int]:
    run = lead_distribute(lead_id=approved_lead().pk, trigger="approval", now=at)
    return run.trace["levels"][-1]["chosen"]


def _counts(level, subscriptions) -> Counter:
    counts = Counter({s.provider_id: 0 for s in subscriptions})
    counts.update(Assignment.objects.filter(level=level).values_list("provider_id", flat=True))
    return counts


@PROPERTY_SETTINGS
@given(providers=st.integers(2, 6), max_recipients=st.integers(1, 3), leads=st.integers(1, 25),
       step_seconds=st.sampled_from([0, 1, 3600]))
def test_identical_providers_counts_differ_by_at_most_one(roofing, providers, max_recipients, leads, step_seconds):
    # given identical eligible providers
    level, subscriptions = _fresh_market(providers=providers, max_recipients=max_recipients)
    for i in range(leads):
        # when one more lead is sold (leads may even share a timestamp: the rotation breaks the ties)
        chosen = _sell(at=T0 + timedelta(seconds=i * step_seconds))
        assert len(chosen) == min(max_recipients, providers)
        # then, after any number of leads, the counts differ by at most one
        counts = _counts(level, subscriptions)
        assert max(counts.values()) - min(counts.values()) <= 1, counts


@PROPERTY_SETTINGS
@given(providers=st.integers(2, 6), max_recipients=st.integers(1, 3),
       history=st.lists(st.one_of(st.just("lead"), st.integers(0, 5)), max_size=20), chosen_index=st.integers(0, 5))
def test_a_provider_that_becomes_eligible_is_served_within_the_number_of_eligible_providers(
        roofing, providers, max_recipients, history, chosen_index):
    # given a history of sales and pauses/resumes at one level
    level, subscriptions = _fresh_market(providers=providers, max_recipients=max_recipients)
    clock = itertools.count()
    for step in history:
        if step == "lead":
            if Subscription.objects.filter(level=level, status=SubscriptionStatus.ACTIVE).exists():
                _sell(at=T0 + timedelta(minutes=next(clock)))
        else:
            toggled = subscriptions[step % providers]
            toggled.refresh_from_db()
            active = toggled.status == SubscriptionStatus.ACTIVE
            new = SubscriptionStatus.PAUSED if active else SubscriptionStatus.ACTIVE
            Subscription.objects.filter(pk=toggled.pk).update(status=new)
    # when one provider is (or stays) paused, then becomes eligible
    comer = subscriptions[chosen_index % providers]
    Subscription.objects.filter(pk=comer.pk).update(status=SubscriptionStatus.ACTIVE)
    eligible = Subscription.objects.filter(level=level, status=SubscriptionStatus.ACTIVE).count()
    # then it is served within `eligible` leads at that level
    served_after = None
    for n in range(1, eligible + 1):
        if comer.provider_id in _sell(at=T0 + timedelta(minutes=next(clock))):
            served_after = n
            break
    assert served_after is not None, f"not served within {eligible} leads"


class _Rollback(Exception):
    pass


@PROPERTY_SETTINGS
@given(providers=st.integers(2, 6), max_recipients=st.integers(1, 4),
       served_minutes=st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=6, max_size=6),
       cursor_index=st.integers(-1, 5))
def test_the_same_state_always_yields_the_same_choice(roofing, providers, max_recipients, served_minutes,
                                                      cursor_index):
    # given a state with ties in "last served" and a rotation cursor somewhere
    level, subscriptions = _fresh_market(providers=providers, max_recipients=max_recipients)
    for subscription, minute in zip(subscriptions, served_minutes, strict=False):
        last = None if minute is None else T0 - timedelta(minutes=10 - minute)
        Subscription.objects.filter(pk=subscription.pk).update(last_served_at=last)
    cursor = 0 if cursor_index < 0 else subscriptions[cursor_index % providers].provider_id
    LevelCursor.objects.update_or_create(level=level, defaults={"last_provider_id": cursor})
    lead = approved_lead()

    def choose() -> list[int]:
        try:
            with transaction.atomic():
                run = lead_distribute(lead_id=lead.pk, trigger="approval", now=T0)
                chosen = run.trace["levels"][-1]["chosen"]
                raise _Rollback(chosen)
        except _Rollback as undone:
            return undone.args[0]

    # when the same lead is distributed from the same state twice
    first, second = choose(), choose()
    # then the same providers are chosen, in the same order, and the order is the documented one
    assert first == second
    last = dict(Subscription.objects.filter(level=level).values_list("provider_id", "last_served_at"))
    expected = sorted(last, key=lambda pid: (last[pid] is not None, last[pid] or T0, pid <= cursor, pid))
    assert first == expected[:max_recipients]
