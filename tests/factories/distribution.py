"""Assignments made the way the engine makes them: a real charge in the ledger, then the row."""
from __future__ import annotations

from django.utils import timezone

from hotlead.billing.models import LedgerEntry
from hotlead.billing.services.ledger import charge_post, deposit_post
from hotlead.distribution.models import Assignment
from hotlead.levels.models import Subscription
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory


def make_assignment(*, lead=None, provider=None, level=None, subscription=None, price_cents=None,
                    assigned_at=None, fund: bool = True, **fields) -> Assignment:
    """Sell `lead` to `provider` at `level`: fund (if needed), charge, create the assignment."""
    lead = lead or LeadFactory(status="distributed")
    provider = provider or ProviderFactory()
    level = level or (subscription.level if subscription else LevelFactory())
    subscription = subscription or Subscription.objects.filter(provider=provider, level=level).first() \
        or Subscription.objects.create(provider=provider, level=level)
    price = level.price_cents if price_cents is None else price_cents
    if fund:
        deposit_post(provider_id=provider.pk, amount_cents=price, key=f"test-fund:{lead.pk}:{provider.pk}")
    entry: LedgerEntry = charge_post(provider_id=provider.pk, amount_cents=price, key=f"charge:{lead.pk}:{provider.pk}",
                                     related_type="leads.lead", related_id=lead.pk)
    return Assignment.objects.create(
        lead=lead, provider=provider, level=level, subscription=subscription, price_cents=price,
        category_id=lead.category_id,
        charge_entry=entry, assigned_at=assigned_at or timezone.now(), **fields,
    )
