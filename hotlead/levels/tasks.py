"""Jobs of the marketplace: the funds backstop sweep and the re-check after a price change (idempotent)."""
from __future__ import annotations

from hotlead.levels.services.funds import level_funds_sync as _level_funds_sync
from hotlead.levels.services.funds import subscriptions_funds_sweep as _subscriptions_funds_sweep


def subscriptions_funds_sweep() -> int:
    """Every 5 minutes: subscriptions whose funding changed without a ledger entry (e.g. a price change)."""
    return _subscriptions_funds_sweep()


def level_funds_sync(level_id: int) -> int:
    """After a level's price changed: re-check its subscribers' funds."""
    return _level_funds_sync(level_id=level_id)
