"""Weeks of history for the demo (`HOTLEAD_DEMO_MARKET=synthetic scripts/run`): a small synthetic market whose
leads are sold by the real engine at the times they arrived, so the dashboard and the reports have something to
show on a fresh machine. Committed (unlike a simulation) and idempotent: a second call finds the market there.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from hotlead.accounts.models import User
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.services.engine import lead_distribute
from hotlead.simulator.market import MarketSpec, market_build

DEMO_TAG = "demo"


def demo_market_seed(*, providers: int = 24, leads: int = 360, days: int = 21, seed: int = 2026,
                     now: datetime | None = None) -> int:
    """Create the demo's market and sell its past leads; returns the number of leads (0 when already there)."""
    now = now or timezone.now()
    if User.objects.filter(email__startswith=f"{DEMO_TAG}{seed}-pro").exists():
        return 0
    start = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        # no weekly top-ups: a deposit made now would be dated now, and a replay of these weeks would see it late
        market = market_build(MarketSpec(providers=providers, leads=leads, seed=seed, days=days, start=start,
                                         tag=DEMO_TAG, top_ups=False))
        hooks = len(connection.run_on_commit)
        for lead_id, at in zip(market.lead_ids, market.lead_times, strict=True):
            if at >= now:
                break
            lead_distribute(lead_id=lead_id, trigger=RunTrigger.APPROVAL, now=at)
        # This is history: the e-mails and follow-up jobs its sales queued would all go out now. Drop them.
        del connection.run_on_commit[hooks:]
    return len(market.lead_ids)
