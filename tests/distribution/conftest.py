"""A small marketplace for the engine's tests: three levels, one category, funded sellers."""
from __future__ import annotations

import pytest
from django.utils import timezone

from hotlead.leads.enums import LeadStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.factories.providers import ProviderFactory


@pytest.fixture
def roofing(db):
    return CategoryFactory(slug="roofing", name="Roofing")


@pytest.fixture
def plumbing(db):
    return CategoryFactory(slug="plumbing", name="Plumbing")


def make_level(slug: str, *, rank: int, price_cents: int, max_recipients: int, active: bool = True) -> CompetitionLevel:
    return CompetitionLevel.objects.create(name=slug.replace("-", " ").title(), slug=slug, rank=rank,
                                           price_cents=price_cents, max_recipients=max_recipients, active=active)


@pytest.fixture
def exclusive(db):
    return make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)


@pytest.fixture
def semi(db):
    return make_level("semi-exclusive", rank=2, price_cents=6_000, max_recipients=3)


@pytest.fixture
def shared(db):
    return make_level("shared", rank=3, price_cents=2_500, max_recipients=5)


def seller(level: CompetitionLevel, *, balance: int = 100_000, categories=None, areas=("94110",), provider=None,
           **subscription_fields) -> Subscription:
    """An active, funded provider subscribed to `level` (roofing in 94110 unless told otherwise)."""
    if provider is None:
        if categories is None:
            categories = [CategoryFactory(slug="roofing", name="Roofing")]
        provider = ProviderFactory(balance_cents=balance, categories=categories, areas=list(areas))
    return Subscription.objects.create(provider=provider, level=level, **subscription_fields)


def approved_lead(**fields):
    fields.setdefault("category", CategoryFactory(slug="roofing", name="Roofing"))
    fields.setdefault("status", LeadStatus.APPROVED)
    fields.setdefault("approved_at", timezone.now())
    return LeadFactory(**fields)
