"""Competition levels and subscriptions (SPEC §2, §4.3, §4.4, §13).

Ranks: unique among live (non-archived) levels, by a partial unique index. PostgreSQL checks that index
row by row during an UPDATE, so ranks are moved in two steps (first out of the way, above every live rank,
then to their places), all under a lock on the live levels' rows.

Funds: a subscription is `inactive_funds` while its level's price exceeds the provider's balance.
`subscriptions_sync_funds` moves subscriptions between `active` and `inactive_funds`; it runs under the
provider's account row lock (account first, then subscriptions — the lock order of money).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Max, Q, Value, When
from django.utils import timezone

from hotlead.billing.formatting import money_format
from hotlead.billing.models import Account
from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.filters import filters_validate
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.schedule import schedule_errors, schedule_validate
from hotlead.notifications.services import email_queue
from hotlead.ops.jobs import job_enqueue

if TYPE_CHECKING:
    from hotlead.accounts.models import User
    from hotlead.providers.models import Provider

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_RECIPIENTS = 50
MAX_PRICE_CENTS = 100_000_000
MAX_RANK = 10_000
MAX_CAP = 1_000_000

# --- competition levels ----------------------------------------------------------------------------


def _live_levels_lock() -> list[CompetitionLevel]:
    """Lock every live level (in id order, so two lockers never deadlock) and return them by rank.

    The locking SELECT cannot see a level created by the transaction it queued behind, so the live levels
    are read again once the locks are held (every writer of ranks takes these locks first, so the new
    level cannot move meanwhile).
    """
    list(CompetitionLevel.objects.select_for_update().filter(archived_at__isnull=True).order_by("id"))
    return list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank", "id"))


def level_errors(*, name: Any, slug: Any, rank: Any, price_cents: Any, max_recipients: Any,
                  active: Any, exclude_id: int | None = None) -> list[dict[str, str]]:
    """Every problem with a level's settings, as SPEC §8 field errors (the API and the console share it)."""
    errors = []

    def integer(value: Any, field_name: str, lo: int, hi: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            errors.append({"field": field_name, "message": f"Must be an integer from {lo} to {hi}."})

    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        errors.append({"field": "name", "message": "A name of 1-100 characters is required."})
    if not isinstance(slug, str) or not _SLUG.match(slug) or len(slug) > 64:
        errors.append({"field": "slug", "message": "A slug of lower-case letters, digits and hyphens is required."})
    elif CompetitionLevel.objects.filter(slug=slug).exclude(pk=exclude_id).exists():
        errors.append({"field": "slug", "message": "Another level (perhaps archived) already uses this slug."})
    integer(rank, "rank", 1, MAX_RANK)
    integer(price_cents, "price_cents", 1, MAX_PRICE_CENTS)
    integer(max_recipients, "max_recipients", 1, MAX_RECIPIENTS)
    if not isinstance(active, bool):
        errors.append({"field": "active", "message": "Must be true or false."})
    return errors


def _ranks_shift_from(rank: int) -> None:
    """Make room at `rank`: every live level at `rank` or after moves one down (two steps, see module doc)."""
    live = CompetitionLevel.objects.filter(archived_at__isnull=True)
    offset = (live.aggregate(top=Max("rank"))["top"] or 0) + 1
    live.filter(rank__gte=rank).update(rank=F("rank") + offset)
    live.filter(rank__gte=rank + offset).update(rank=F("rank") - offset + 1)


def _level_snapshot(level: CompetitionLevel) -> dict[str, Any]:
    return {"name": level.name, "slug": level.slug, "rank": level.rank, "price_cents": level.price_cents,
            "max_recipients": level.max_recipients, "active": level.active}


@transaction.atomic
def level_create(*, name: str, slug: str, rank: int, price_cents: int, max_recipients: int, active: bool = True,
                 actor: User | None = None) -> CompetitionLevel:
    """Create a level at `rank`; a level already there (and those after it) move one rank down."""
    if errors := level_errors(name=name, slug=slug, rank=rank, price_cents=price_cents,
                               max_recipients=max_recipients, active=active):
        raise ValidationFailed(details={"fields": errors})
    _live_levels_lock()
    if CompetitionLevel.objects.filter(archived_at__isnull=True, rank=rank).exists():
        _ranks_shift_from(rank)
    try:
        with transaction.atomic():
            level = CompetitionLevel.objects.create(name=name.strip(), slug=slug, rank=rank, price_cents=price_cents,
                                                    max_recipients=max_recipients, active=active)
    except IntegrityError:
        raise Conflict("Another level was created at the same time; reload and try again.")
    audit_record(action="level.created", actor=actor, obj=level, changes=_level_snapshot(level))
    return level


@transaction.atomic
def level_update(*, level_id: int, name: str, slug: str, rank: int, price_cents: int, max_recipients: int,
                 active: bool, actor: User | None = None) -> CompetitionLevel:
    """Replace a live level's settings. A new rank moves the level there (others shift down to make room);
    a new price re-checks every subscriber's funds (a job, after commit)."""
    _live_levels_lock()
    level = CompetitionLevel.objects.filter(pk=level_id, archived_at__isnull=True).first()
    if level is None:
        raise NotFound("No such competition level.")
    if errors := level_errors(name=name, slug=slug, rank=rank, price_cents=price_cents,
                               max_recipients=max_recipients, active=active, exclude_id=level.pk):
        raise ValidationFailed(details={"fields": errors})
    before = _level_snapshot(level)
    if rank != level.rank:
        # park this level above every live rank, make room at the target, then move it there
        top = CompetitionLevel.objects.filter(archived_at__isnull=True).aggregate(top=Max("rank"))["top"] or 0
        CompetitionLevel.objects.filter(pk=level.pk).update(rank=top + MAX_RANK + 1)
        if CompetitionLevel.objects.filter(archived_at__isnull=True, rank=rank).exists():
            _ranks_shift_from(rank)
    CompetitionLevel.objects.filter(pk=level.pk).update(
        name=name.strip(), slug=slug, rank=rank, price_cents=price_cents, max_recipients=max_recipients,
        active=active, updated_at=timezone.now(),
    )
    level.refresh_from_db()
    after = _level_snapshot(level)
    changes = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    if changes:
        audit_record(action="level.updated", actor=actor, obj=level, changes=changes)
    if "price_cents" in changes:
        job_enqueue("hotlead.levels.tasks.level_funds_sync", level.pk)
    return level


@transaction.atomic
def level_archive(*, level_id: int, actor: User | None = None) -> str:
    """Delete a level nobody ever used; otherwise archive it (its history stays) and cancel its live
    subscriptions. Returns "deleted" or "archived"."""
    _live_levels_lock()
    level = CompetitionLevel.objects.filter(pk=level_id, archived_at__isnull=True).first()
    if level is None:
        raise NotFound("No such competition level.")
    referenced = level.subscriptions.exists() or level.assignments.exists()
    if not referenced:
        snapshot = _level_snapshot(level)
        level.delete()
        audit_record(action="level.deleted", actor=actor, object_type="levels.competitionlevel",
                     object_id=level_id, changes=snapshot)
        return "deleted"
    now = timezone.now()
    CompetitionLevel.objects.filter(pk=level.pk).update(archived_at=now, active=False, updated_at=now)
    live = list(level.subscriptions.exclude(status=SubscriptionStatus.CANCELLED)
                .values_list("pk", "provider_id", "status").order_by("pk"))
    cancelled = [pk for pk, _provider_id, _status in live]
    Subscription.objects.filter(pk__in=cancelled).update(status=SubscriptionStatus.CANCELLED, cancelled_at=now,
                                                         updated_at=now)
    for pk, provider_id, status in live:
        _status_webhooks(provider_id=provider_id, changes=[(pk, status, SubscriptionStatus.CANCELLED)])
    audit_record(action="level.archived", actor=actor, obj=level,
                 changes={**_level_snapshot(level), "cancelled_subscriptions": cancelled})
    return "archived"


@transaction.atomic
def level_reorder(*, level_ids: list[int], actor: User | None = None) -> list[CompetitionLevel]:
    """Give the live levels ranks 1…n in the order given; the list must name every live level once."""
    levels = _live_levels_lock()
    live_ids = {level.pk for level in levels}
    if (
        not isinstance(level_ids, list)
        or any(isinstance(i, bool) or not isinstance(i, int) for i in level_ids)
        or len(set(level_ids)) != len(level_ids)
        or set(level_ids) != live_ids
    ):
        raise ValidationFailed.for_field(
            "ids", f"List every live level exactly once (live level ids: {sorted(live_ids)})."
        )
    before = [level.pk for level in levels]
    if before != level_ids:
        live = CompetitionLevel.objects.filter(archived_at__isnull=True)
        offset = max([level.rank for level in levels] + [len(level_ids)]) + 1
        live.update(rank=F("rank") + offset)
        live.update(
            rank=Case(*(When(pk=pk, then=Value(position)) for position, pk in enumerate(level_ids, start=1)),
                      output_field=IntegerField()),
            updated_at=timezone.now(),
        )
        audit_record(action="level.reordered", actor=actor, object_type="levels.competitionlevel",
                     changes={"from": before, "to": level_ids})
    return list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank"))


def level_move(*, level_id: int, steps: int, actor: User | None = None) -> list[CompetitionLevel]:
    """Move a live level up (negative) or down (positive) in the order; the console's arrows."""
    with transaction.atomic():
        order = [level.pk for level in _live_levels_lock()]
        if level_id not in order:
            raise NotFound("No such competition level.")
        position = order.index(level_id)
        order.insert(max(0, min(len(order) - 1, position + steps)), order.pop(position))
        return level_reorder(level_ids=order, actor=actor)


# --- subscriptions ---------------------------------------------------------------------------------

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
    Account.objects.get_or_create(provider_id=provider_id)
    return Account.objects.select_for_update().get(provider_id=provider_id)


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
    subscription = Subscription.objects.select_for_update(of=("self",)).select_related("level", "provider__user") \
        .get(pk=subscription_id)
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
    from hotlead.webhooks.enums import EventType
    from hotlead.webhooks.services import webhook_event_emit

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


# --- funds --------------------------------------------------------------------------------------


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
    balance = Account.objects.select_for_update().filter(provider_id=provider_id) \
        .values_list("balance_cents", flat=True).first()
    if balance is None:
        return result
    # SKIP LOCKED: a subscription another transaction holds (the engine checking its caps) is left for the next
    # sync or the sweep, instead of waiting on it while we hold the account lock (a deadlock waiting to happen).
    candidates = list(
        Subscription.objects.select_for_update(of=("self",), skip_locked=True)
        .filter(provider_id=provider_id)
        .filter(Q(status=SubscriptionStatus.ACTIVE, level__price_cents__gt=balance)
                | Q(status=SubscriptionStatus.INACTIVE_FUNDS, level__price_cents__lte=balance))
        .values_list("pk", "status", "level__name", "level__price_cents")
        .order_by("level__rank", "pk")
    )
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
    from hotlead.providers.models import Provider

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
