"""`HOTLEAD_DEMO_MARKET=synthetic`: the demo opens with weeks of history, sold by the real engine; idempotent."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models.functions import TruncDate
from django.utils import timezone

from hotlead.billing.models import Account
from hotlead.billing.selectors import ledger_sum
from hotlead.distribution.models import Assignment
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from tests.simulator.conftest import row_counts

pytestmark = pytest.mark.django_db


def _seed(monkeypatch, market: str | None) -> str:
    if market:
        monkeypatch.setenv("HOTLEAD_DEMO_MARKET", market)
    else:
        monkeypatch.delenv("HOTLEAD_DEMO_MARKET", raising=False)
    out = StringIO()
    call_command("demo_seed", stdout=out)
    return out.getvalue()


def test_synthetic_demo_market_gives_weeks_of_history_once(monkeypatch):
    _seed(monkeypatch, None)
    plain = Assignment.objects.count()
    assert "synthetic market" in _seed(monkeypatch, "synthetic")
    now = timezone.now()
    sold = Assignment.objects.exclude(lead__source="demo")
    days = set(sold.annotate(day=TruncDate("assigned_at")).values_list("day", flat=True))
    assert len(days) >= 14 and max(days) <= now.date()
    assert sold.count() > plain
    assert Lead.objects.filter(status=LeadStatus.DISTRIBUTED, created_at__lt=now - timedelta(days=7)).exists()
    for account in Account.objects.all():  # the books balance: every sale went through the ledger
        assert account.balance_cents == ledger_sum(provider_id=account.provider_id)
    # a second run changes nothing
    before = row_counts()
    assert "nothing changed" in _seed(monkeypatch, "synthetic")
    assert row_counts() == before


def test_a_replay_of_the_demo_weeks_reproduces_them(monkeypatch):
    from hotlead.simulator.services.simulate import simulate_replay

    _seed(monkeypatch, "synthetic")
    now = timezone.now()
    first = Lead.objects.exclude(approved_at=None).order_by("approved_at").first().approved_at
    real: dict[int, list] = {}
    for a in Assignment.objects.select_related("level", "charge_entry"):
        real.setdefault(a.lead_id, []).append((a.provider_id, a.level.slug, -a.charge_entry.amount_cents))
    result = simulate_replay(start=first - timedelta(days=1), end=now + timedelta(minutes=1))
    assert result.baseline.assignments_by_lead() == {k: sorted(v) for k, v in real.items()}
    assert len(real) > 100
