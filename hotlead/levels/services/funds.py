"""Funds (SPEC §4.3): a subscription is `inactive_funds` while its level's price exceeds the provider's balance.

`subscriptions_sync_funds` moves subscriptions between `active` and `inactive_funds`; it runs under the
provider's account row lock (account first, then subscriptions — the lock order of money).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hotlead.billing.lock_objects import account_balance_lock
from hotlead.core.money import money_format
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.lock_objects import subscriptions_to_match_lock
from hotlead.levels.models import Subscription
from hotlead.levels.services.subscriptions import _status_webhooks
from hotlead.notifications.services import email_queue
from hotlead.providers.models import Provider


@dataclass
class FundsSync:
    deactivated: list[int] = field(default_factory=list)
    reactivated: list[int] = field(default_factory=list)


@transaction.atomic(savepoint=False)
def subscriptions_sync_funds(*, provider_id: int) -> FundsSync:
    """Match the provider's subscriptions to the balance: active ones whose price exceeds it become
    inactive_funds, inactive_funds ones it covers become active; the provider is e-mailed once per change.

    Takes (or re-enters) the account row lock; call it in the transaction that moved the balance.
    """
    result = FundsSync()
    balance = account_balance_lock(provider_id=provider_id)
    if balance is None:
        return result
    candidates = subscriptions_to_match_lock(provider_id=provider_id, balance_cents=balance)
    if not candidates:
        return result
    now = timezone.now()
    for pk, status, _name, _price in candidates:
        (result.deactivated if status == SubscriptionStatus.ACTIVE else result.reactivated).append(pk)
    if result.deactivated:
        Subscription.objects.filter(pk__in=result.deactivated).update(status=SubscriptionStatus.INACTIVE_FUNDS,
                                                                      updated_at=now)
    if result.reactivated:
        Subscription.objects.filter(pk__in=result.reactivated).update(status=SubscriptionStatus.ACTIVE, updated_at=now)
    _funds_emails(provider_id=provider_id, balance_cents=balance, candidates=candidates, now=now)
    return result


def funds_changed_emails(*, provider_id: int, balance_cents: int, deactivated: list[int],
                         reactivated: list[int]) -> None:
    """E-mail the provider about subscriptions a debit just moved (the engine's one-round-trip sale does the
    moves in SQL, under the account lock, like `subscriptions_sync_funds`; the e-mails are written here)."""
    old_status = {**{pk: SubscriptionStatus.ACTIVE for pk in deactivated},
                  **{pk: SubscriptionStatus.INACTIVE_FUNDS for pk in reactivated}}
    candidates = [
        (pk, old_status[pk], name, price)
        for pk, name, price in Subscription.objects.filter(pk__in=list(old_status)).order_by("level__rank", "pk")
        .values_list("pk", "level__name", "level__price_cents")
    ]
    if candidates:
        _funds_emails(provider_id=provider_id, balance_cents=balance_cents, candidates=candidates, now=timezone.now())


def _funds_emails(*, provider_id: int, balance_cents: int, candidates: list[tuple], now) -> None:
    provider = Provider.objects.select_related("user").get(pk=provider_id)
    currency = settings.HOTLEAD["CURRENCY"]
    _status_webhooks(provider_id=provider_id, changes=[
        (pk, old, SubscriptionStatus.INACTIVE_FUNDS if old == SubscriptionStatus.ACTIVE else SubscriptionStatus.ACTIVE)
        for pk, old, _name, _price in candidates])
    for template, status in (("subscription_deactivated", SubscriptionStatus.ACTIVE),
                             ("subscription_reactivated", SubscriptionStatus.INACTIVE_FUNDS)):
        changed = [(pk, name, price) for pk, old, name, price in candidates if old == status]
        if not changed:
            continue
        email_queue(
            template=template,
            to=provider.user.email,
            related=provider,
            dedupe_key=f"{template}:{provider_id}:{','.join(str(pk) for pk, _, _ in changed)}:{now.timestamp()}",
            context={
                "company_name": provider.company_name,
                "balance": money_format(balance_cents, currency),
                "levels": [{"name": name, "price": money_format(price, currency)} for _, name, price in changed],
            },
        )


def subscriptions_funds_sweep() -> int:
    """The backstop (every 5 minutes): fix every provider whose subscriptions disagree with the balance.

    Returns the number of providers changed. One query finds them; each is fixed in its own transaction.
    """
    stale = (
        Subscription.objects.filter(
            Q(status=SubscriptionStatus.ACTIVE, level__price_cents__gt=F("provider__account__balance_cents"))
            | Q(status=SubscriptionStatus.INACTIVE_FUNDS,
                level__price_cents__lte=F("provider__account__balance_cents"))
        )
        .values_list("provider_id", flat=True)
        .distinct()
    )
    changed = 0
    for provider_id in list(stale):
        result = subscriptions_sync_funds(provider_id=provider_id)
        changed += bool(result.deactivated or result.reactivated)
    return changed


def level_funds_sync(*, level_id: int) -> int:
    """After a price change: re-check the funds of every provider subscribed at the level."""
    provider_ids = list(
        Subscription.objects.filter(level_id=level_id,
                                    status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.INACTIVE_FUNDS])
        .values_list("provider_id", flat=True).distinct()
    )
    for provider_id in provider_ids:
        subscriptions_sync_funds(provider_id=provider_id)
    return len(provider_ids)
