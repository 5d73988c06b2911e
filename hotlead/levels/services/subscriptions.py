"""Subscriptions (SPEC §4.3, §4.4, §13): create, update, pause, resume, cancel."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hotlead.billing.lock_objects import account_lock
from hotlead.billing.models import Account
from hotlead.billing.services.ledger import account_get_or_create
from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.money import money_format
from hotlead.core.services import audit_record
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.filters import filters_validate
from hotlead.levels.lock_objects import subscription_lock
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.schedule import schedule_errors, schedule_validate
from hotlead.webhooks.enums import EventType
from hotlead.webhooks.services import webhook_event_emit

if TYPE_CHECKING:
    from hotlead.accounts.models import User
    from hotlead.providers.models import Provider

MAX_CAP = 1_000_000
_CAPS = ("daily_cap", "weekly_cap", "monthly_cap")


def subscription_errors(*, level: CompetitionLevel, values: dict[str, Any]) -> tuple[list[dict], dict[str, Any]]:
    """Validate caps, budget, schedule and filters together; return (errors, normalised values)."""
    errors: list[dict[str, Any]] = []
    clean: dict[str, Any] = {}
    for name in (*_CAPS, "monthly_budget_cents"):
        value = values.get(name)
        upper = MAX_CAP if name in _CAPS else 2_147_483_647
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper):
            errors.append({"field": name, "message": f"Must be empty or an integer from 1 to {upper}."})
        clean[name] = value
    caps = [(name, clean[name]) for name in _CAPS if isinstance(clean[name], int) and not isinstance(clean[name], bool)]
    for (small_name, small), (big_name, big) in zip(caps, caps[1:], strict=False):
        if small > big:
            errors.append({"field": small_name, "message": f"{small_name} ({small}) cannot exceed {big_name} ({big})."})
    budget = clean["monthly_budget_cents"]
    if isinstance(budget, int) and not isinstance(budget, bool) and 1 <= budget < level.price_cents:
        errors.append({"field": "monthly_budget_cents",
                       "message": f"The monthly budget must cover at least one lead at this level "
                                  f"({money_format(level.price_cents, settings.HOTLEAD['CURRENCY'])})."})
    schedule_problems = schedule_errors(values.get("schedule"))
    errors.extend(schedule_problems)
    if not schedule_problems:
        clean["schedule"] = schedule_validate(values.get("schedule"))
    try:
        clean["filters"] = filters_validate(values.get("filters"))
    except ValidationFailed as exc:
        errors.extend(exc.details["fields"])
    return errors, clean


def _account_lock(provider_id: int) -> Account:
    account_get_or_create(provider_id=provider_id)
    return account_lock(provider_id=provider_id)


def _funded_status(*, balance_cents: int, price_cents: int) -> str:
    return SubscriptionStatus.ACTIVE if balance_cents >= price_cents else SubscriptionStatus.INACTIVE_FUNDS


def _actor_of(provider: Provider | None) -> User | None:
    return getattr(provider, "user", None)


@transaction.atomic
def subscription_create(*, provider: Provider, level: str, filters: list | None = None, daily_cap: int | None = None,
                        weekly_cap: int | None = None, monthly_cap: int | None = None,
                        monthly_budget_cents: int | None = None, schedule: dict | None = None,
                        actor: User | None = None) -> Subscription:
    """Subscribe a provider to a live, active level (slug). Unfunded → created as inactive_funds."""
    level_obj = CompetitionLevel.objects.filter(slug=level, archived_at__isnull=True, active=True).first() \
        if isinstance(level, str) else None
    if level_obj is None:
        raise ValidationFailed.for_field("level", "No active competition level has this slug.")
    errors, clean = subscription_errors(level=level_obj, values={
        "filters": filters, "daily_cap": daily_cap, "weekly_cap": weekly_cap, "monthly_cap": monthly_cap,
        "monthly_budget_cents": monthly_budget_cents, "schedule": schedule,
    })
    if errors:
        raise ValidationFailed(details={"fields": errors})
    account = _account_lock(provider.pk)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                provider=provider, level=level_obj,
                status=_funded_status(balance_cents=account.balance_cents, price_cents=level_obj.price_cents),
                **clean,
            )
    except IntegrityError:
        existing = Subscription.objects.filter(provider=provider, level=level_obj).exclude(
            status=SubscriptionStatus.CANCELLED).values_list("pk", flat=True).first()
        raise Conflict("You already have a subscription at this level.",
                       details={"level": level_obj.slug, "subscription_id": existing})
    audit_record(action="subscription.created", actor=actor or _actor_of(provider), obj=subscription,
                 changes={"level": level_obj.slug, "status": subscription.status, **clean})
    return subscription


def _subscription_locked(*, subscription_id: int, provider: Provider | None = None) -> tuple[Subscription, Account]:
    """Lock the provider's account, then the subscription (the lock order of money)."""
    scope = Subscription.objects.all() if provider is None else Subscription.objects.filter(provider=provider)
    provider_id = scope.filter(pk=subscription_id).values_list("provider_id", flat=True).first()
    if provider_id is None:
        raise NotFound("No such subscription.")
    account = _account_lock(provider_id)
    subscription = subscription_lock(subscription_id=subscription_id, provider_id=provider_id)
    return subscription, account


_EDITABLE = ("filters", *_CAPS, "monthly_budget_cents", "schedule")


@transaction.atomic
def subscription_update(*, subscription_id: int, changes: dict[str, Any], provider: Provider | None = None,
                        actor: User | None = None) -> Subscription:
    """Change filters, caps, budget or schedule, and/or status ("paused" | "active").

    `changes` holds only what the caller sent (None clears a cap, budget or schedule). The level cannot
    change: cancel and subscribe at the other level instead. `provider` scopes the lookup (404 otherwise).
    """
    subscription, account = _subscription_locked(subscription_id=subscription_id, provider=provider)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise Conflict("This subscription is cancelled.")
    unknown = sorted(set(changes) - {*_EDITABLE, "status", "level"})
    if unknown:
        raise ValidationFailed(details={"fields": [{"field": name, "message": "Unknown field."} for name in unknown]})
    if "level" in changes and changes["level"] != subscription.level.slug:
        raise ValidationFailed.for_field("level", "The level of a subscription cannot change; cancel it and "
                                                  "subscribe at the other level.")
    status = changes.get("status")
    if "status" in changes and status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED):
        raise ValidationFailed.for_field("status", "Use \"paused\" or \"active\".")
    merged = {name: changes.get(name, getattr(subscription, name)) for name in _EDITABLE}
    errors, clean = subscription_errors(level=subscription.level, values=merged)
    if errors:
        raise ValidationFailed(details={"fields": errors})
    before = {name: getattr(subscription, name) for name in _EDITABLE}
    for name in _EDITABLE:
        setattr(subscription, name, clean[name])
    subscription.save(update_fields=[*_EDITABLE, "updated_at"])
    diff = {name: {"from": before[name], "to": clean[name]} for name in _EDITABLE if before[name] != clean[name]}
    if diff:
        audit_record(action="subscription.updated", actor=actor or _actor_of(provider), obj=subscription, changes=diff)
    if status == SubscriptionStatus.PAUSED:
        _pause(subscription, actor=actor or _actor_of(provider))
    elif status == SubscriptionStatus.ACTIVE:
        _resume(subscription, account, actor=actor or _actor_of(provider))
    return subscription


def _status_set(subscription: Subscription, status: str, *, actor: User | None, **stamps) -> None:
    before = subscription.status
    subscription.status = status
    for name, value in stamps.items():
        setattr(subscription, name, value)
    subscription.save(update_fields=["status", *stamps, "updated_at"])
    audit_record(action=f"subscription.{status}", actor=actor, obj=subscription,
                 changes={"status": {"from": before, "to": status}})
    _status_webhooks(provider_id=subscription.provider_id, changes=[(subscription.pk, before, status)])


def _status_webhooks(*, provider_id: int, changes: list[tuple[int, str, str]]) -> None:
    """`subscription.status_changed` to the provider's endpoint, one event per subscription moved."""
    now = timezone.now()
    for subscription_id, before, after in changes:
        webhook_event_emit(
            provider_id=provider_id, type=EventType.SUBSCRIPTION_STATUS_CHANGED, now=now,
            data=lambda sid=subscription_id, b=before, a=after: {
                "subscription_id": sid, "level": Subscription.objects.filter(pk=sid)
                .values_list("level__slug", flat=True).first(), "from": str(b), "to": str(a), "changed_at": now},
        )


def _pause(subscription: Subscription, *, actor: User | None) -> None:
    if subscription.status != SubscriptionStatus.PAUSED:
        _status_set(subscription, SubscriptionStatus.PAUSED, actor=actor, paused_at=timezone.now())


def _resume(subscription: Subscription, account: Account, *, actor: User | None) -> None:
    status = _funded_status(balance_cents=account.balance_cents, price_cents=subscription.level.price_cents)
    if subscription.status != status:
        _status_set(subscription, status, actor=actor, paused_at=None)


@transaction.atomic
def subscription_pause(*, subscription_id: int, provider: Provider | None = None,
                       actor: User | None = None) -> Subscription:
    """Stop receiving leads at once (the very next lead skips it); pausing twice is harmless."""
    subscription, _ = _subscription_locked(subscription_id=subscription_id, provider=provider)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise Conflict("This subscription is cancelled.")
    _pause(subscription, actor=actor or _actor_of(provider))
    return subscription


@transaction.atomic
def subscription_resume(*, subscription_id: int, provider: Provider | None = None,
                        actor: User | None = None) -> Subscription:
    """Resume: active if the balance covers the level's price, otherwise inactive_funds."""
    subscription, account = _subscription_locked(subscription_id=subscription_id, provider=provider)
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise Conflict("This subscription is cancelled.")
    _resume(subscription, account, actor=actor or _actor_of(provider))
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription_id: int, provider: Provider | None = None,
                        actor: User | None = None) -> Subscription:
    """Cancel for good (a new subscription at the level can be made later); cancelling twice is harmless."""
    subscription, _ = _subscription_locked(subscription_id=subscription_id, provider=provider)
    if subscription.status != SubscriptionStatus.CANCELLED:
        _status_set(subscription, SubscriptionStatus.CANCELLED, actor=actor or _actor_of(provider),
                    cancelled_at=timezone.now())
    return subscription


def subscriptions_served_set(*, subscription_ids: list[int], now) -> None:
    """The engine sold through these subscriptions: they are the most recently served at their level."""
    Subscription.objects.filter(pk__in=sorted(subscription_ids)).update(last_served_at=now)
