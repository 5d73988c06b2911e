"""Competition levels (SPEC §2, §4.3): create, update, archive, reorder.

Ranks: unique among live (non-archived) levels, by a partial unique index. PostgreSQL checks that index
row by row during an UPDATE, so ranks are moved in two steps (first out of the way, above every live rank,
then to their places), all under a lock on the live levels' rows.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Max, Value, When
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.lock_objects import live_levels_lock
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.subscriptions import _status_webhooks
from hotlead.ops.jobs import job_enqueue

if TYPE_CHECKING:
    from hotlead.accounts.models import User

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_RECIPIENTS = 50
MAX_PRICE_CENTS = 100_000_000
MAX_RANK = 10_000


def _live_levels_lock() -> list[CompetitionLevel]:
    """Lock every live level (in id order, so two lockers never deadlock) and return them by rank.

    The locking SELECT cannot see a level created by the transaction it queued behind, so the live levels
    are read again once the locks are held (every writer of ranks takes these locks first, so the new
    level cannot move meanwhile).
    """
    live_levels_lock()
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
