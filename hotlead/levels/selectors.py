"""Reads of levels and subscriptions."""
from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from hotlead.core.exceptions import NotFound
from hotlead.core.money import money_format
from hotlead.core.pagination import keyset_page
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription

SUBSCRIPTIONS_MAX_LIMIT = 200


def levels_list(*, include_archived: bool = False) -> QuerySet[CompetitionLevel]:
    qs = CompetitionLevel.objects.all()
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.order_by("archived_at", "rank", "id")


def level_get(*, level_id: int) -> CompetitionLevel:
    level = CompetitionLevel.objects.filter(pk=level_id).first()
    if level is None:
        raise NotFound("No such competition level.")
    return level


def subscriptions_for_provider(*, provider_id: int, status: str | None = None, cursor: str | None = None,
                               limit: int = 50) -> tuple[list[Subscription], str | None]:
    """A provider's subscriptions by id (cancelled ones only when asked for by status), and the next page's cursor."""
    limit = max(1, min(limit, SUBSCRIPTIONS_MAX_LIMIT))
    qs = Subscription.objects.filter(provider_id=provider_id).select_related("level", "provider")
    qs = qs.filter(status=status) if status else qs.exclude(status=SubscriptionStatus.CANCELLED)
    return keyset_page(qs, order=("id",), cursor=cursor, limit=limit,
                       message="The cursor is not valid; start again without it.")


def subscription_for_provider(*, provider_id: int, subscription_id: int) -> Subscription:
    subscription = Subscription.objects.select_related("level", "provider").filter(
        pk=subscription_id, provider_id=provider_id).first()
    if subscription is None:
        raise NotFound("No such subscription.")
    return subscription


def subscription_status_reason(subscription: Subscription) -> str:
    """The status in words a provider understands, e.g. "Inactive: balance below $60.00"."""
    price = money_format(subscription.level.price_cents, settings.HOTLEAD["CURRENCY"])
    if subscription.status == SubscriptionStatus.INACTIVE_FUNDS:
        return f"Inactive: balance below {price}, the price of a lead at {subscription.level.name}."
    if subscription.status == SubscriptionStatus.PAUSED:
        return "Paused: no leads until you resume."
    if subscription.status == SubscriptionStatus.CANCELLED:
        return "Cancelled."
    if not subscription.level.active:
        return f"Active, but the level {subscription.level.name} is not selling leads at the moment."
    return f"Active: receiving leads at {price} each."
