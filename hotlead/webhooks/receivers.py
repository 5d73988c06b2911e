"""Webhooks' answers to other apps' signals (connected in apps.py)."""
from __future__ import annotations

from hotlead.webhooks.services import webhook_endpoint_configure


def provider_webhook_url_changed_configure(sender, *, provider, actor=None, **kwargs) -> None:
    """The webhook endpoint keeps the URL it delivers to (and its secret)."""
    webhook_endpoint_configure(provider=provider, url=provider.webhook_url, actor=actor)
