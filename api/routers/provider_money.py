"""The provider's money and subscriptions (SPEC §7, §13). Thin: one domain call each.

Domain modules are imported inside the views: this module loads while the app registry is populated.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from api.auth import provider_auth
from api.schemas.money import (
    BalanceOut,
    HistoryOut,
    HistoryQuery,
    SubscriptionCreateIn,
    SubscriptionOut,
    SubscriptionPageOut,
    SubscriptionQuery,
    SubscriptionUpdateIn,
)
from hotlead.billing.selectors import account_for_provider, ledger_history
from hotlead.levels.selectors import subscription_status_reason, subscriptions_for_provider
from hotlead.levels.services.subscriptions import subscription_cancel as cancel
from hotlead.levels.services.subscriptions import subscription_create as create
from hotlead.levels.services.subscriptions import subscription_update as update

router = Router(auth=provider_auth)


def _subscription_out(subscription) -> dict:
    return {
        "id": subscription.pk,
        "level": subscription.level.slug,
        "level_name": subscription.level.name,
        "price_cents": subscription.level.price_cents,
        "status": subscription.status,
        "status_reason": subscription_status_reason(subscription),
        "filters": subscription.filters or [],
        "daily_cap": subscription.daily_cap,
        "weekly_cap": subscription.weekly_cap,
        "monthly_cap": subscription.monthly_cap,
        "monthly_budget_cents": subscription.monthly_budget_cents,
        "schedule": subscription.schedule,
        "timezone": subscription.provider.timezone,
        "paused_at": subscription.paused_at,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


@router.get("/balance", response=BalanceOut, summary="The provider's prepaid balance")
def balance(request: HttpRequest):
    provider = request.auth
    account = account_for_provider(provider_id=provider.pk)
    return {
        "balance_cents": account.balance_cents if account else 0,
        "currency": account.currency if account else settings.HOTLEAD["CURRENCY"],
        "low_balance_threshold_cents": provider.low_balance_threshold_cents,
    }


@router.get("/billing/history", response=HistoryOut,
            summary="The provider's ledger, newest first (keyset pagination on created_at, id)")
def billing_history(request: HttpRequest, query: Query[HistoryQuery]):
    items, next_cursor = ledger_history(provider_id=request.auth.pk, cursor=query.cursor, limit=query.limit,
                                        kind=query.kind)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/subscriptions", response=SubscriptionPageOut, summary="The provider's subscriptions")
def subscriptions(request: HttpRequest, query: Query[SubscriptionQuery]):
    rows, next_cursor = subscriptions_for_provider(provider_id=request.auth.pk, status=query.status,
                                                   cursor=query.cursor, limit=query.limit)
    return {"items": [_subscription_out(s) for s in rows], "next_cursor": next_cursor}


@router.post("/subscriptions", response={201: SubscriptionOut}, summary="Subscribe to a competition level")
def subscription_create(request: HttpRequest, payload: SubscriptionCreateIn):
    subscription = create(provider=request.auth, **payload.model_dump())
    return Status(201, _subscription_out(subscription))


@router.patch("/subscriptions/{int:subscription_id}", response=SubscriptionOut,
              summary="Change filters, caps, budget or schedule; pause or resume")
def subscription_update(request: HttpRequest, subscription_id: int, payload: SubscriptionUpdateIn):
    subscription = update(subscription_id=subscription_id, provider=request.auth,
                          changes=payload.model_dump(exclude_unset=True))
    return _subscription_out(subscription)


@router.delete("/subscriptions/{int:subscription_id}", response={204: None}, summary="Cancel a subscription")
def subscription_cancel(request: HttpRequest, subscription_id: int):
    cancel(subscription_id=subscription_id, provider=request.auth)
    return Status(204, None)
