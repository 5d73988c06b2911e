"""Row locks of competition levels and subscriptions; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from django.db.models import Q

from hotlead.core.locks import lock_taken
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription


def live_levels_lock() -> None:
    """Lock every live level, in id order (so two lockers never deadlock)."""
    lock_taken("competition_level")
    list(CompetitionLevel.objects.select_for_update().filter(archived_at__isnull=True).order_by("id"))


def subscription_lock(*, subscription_id: int, provider_id: int) -> Subscription:
    """The subscription (its own row) with its level and provider's user, under its provider's account lock."""
    lock_taken("subscription", provider_id)
    return Subscription.objects.select_for_update(of=("self",)).select_related("level", "provider__user") \
        .get(pk=subscription_id)


def subscriptions_to_match_lock(*, provider_id: int, balance_cents: int) -> list[tuple[int, str, str, int]]:
    """(id, status, level name, price) of the provider's subscriptions whose status no longer matches the
    balance (active but unaffordable, inactive_funds but affordable), by level rank; under the account lock.

    SKIP LOCKED: a subscription another transaction holds (the engine checking its caps) is left for the next
    sync or the sweep, instead of waiting on it while we hold the account lock (a deadlock waiting to happen).
    """
    lock_taken("subscription", provider_id, waits=False)
    return list(
        Subscription.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(provider_id=provider_id)
        .filter(Q(status=SubscriptionStatus.ACTIVE, level__price_cents__gt=balance_cents)
                | Q(status=SubscriptionStatus.INACTIVE_FUNDS, level__price_cents__lte=balance_cents))
        .values_list("pk", "status", "level__name", "level__price_cents")
        .order_by("level__rank", "pk")
    )
