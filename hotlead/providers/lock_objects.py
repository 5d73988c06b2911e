"""Row locks of providers; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.providers.models import Provider


def provider_lock(*, provider_id: int | None = None, user=None) -> Provider | None:
    """The provider (by id: None if there is none; or by its user) with its user, locked for a change of its
    profile or status."""
    locking = Provider.objects.select_for_update().select_related("user")
    provider = locking.get(user=user) if user is not None else locking.filter(pk=provider_id).first()
    lock_taken("provider", provider.pk if provider else provider_id)
    return provider


def provider_reports_lock(*, provider_id: int) -> None:
    """One bad-lead report at a time per provider. NO KEY UPDATE does not block inserts that merely reference
    the provider (assignments, ledger entries)."""
    lock_taken("provider", provider_id)
    Provider.objects.select_for_update(no_key=True, of=("self",)).filter(pk=provider_id).values_list("pk").first()
