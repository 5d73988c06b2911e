"""Levels' answers to other apps' signals (connected in apps.py)."""
from __future__ import annotations

from hotlead.levels.services.funds import subscriptions_sync_funds


def funds_changed_sync(sender, *, provider_id: int, **kwargs) -> None:
    """A credit may cover inactive subscriptions again; a debit may leave active ones unfunded."""
    subscriptions_sync_funds(provider_id=provider_id)
