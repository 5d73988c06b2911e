"""The Python engine's sale at one level: read, lock and re-check, charge, assign (SPEC §4.2, §4.3).

The lock order and the re-read of a stale serving order are those of `engine.py` (its docstring).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from hotlead.billing.lock_objects import accounts_balance_lock
from hotlead.billing.services.ledger import charge_post
from hotlead.core.locks import lock_taken
from hotlead.distribution.enums import SkipReason
from hotlead.distribution.models import Assignment, LevelCursor
from hotlead.distribution.services.eligibility import level_eligibility, subscriptions_recheck
from hotlead.distribution.services.facts import Candidate, LeadFacts, LevelFacts
from hotlead.leads.models import Lead
from hotlead.levels.services.subscriptions import subscriptions_served_set
from hotlead.providers.enums import AreaKind
from hotlead.providers.models import ServiceArea

# Eligible subscriptions fetched beyond max_recipients, to replace those that fail the re-check.
CANDIDATE_SLACK = 5
# How many times one level is read again when a concurrent sale made the serving order stale.
STALE_REREADS = 3


@dataclass(frozen=True)
class Sale:
    candidate: Candidate
    position: int  # in the level's serving order: the cursor moves to the last one
    assignment: Assignment


@dataclass
class LevelOutcome:
    trace: dict
    sales: list[Sale]


def _lock_and_recheck(*, facts: LeadFacts, level: LevelFacts, now: datetime,
                      batch: list[Candidate]) -> tuple[dict[int, str | None], bool]:
    """Lock the batch's accounts (provider-id order); say which candidates no longer qualify, and whether
    any account moved since the level was read (a concurrent sale: the serving order read is stale).

    The account row is the mutex of every sale to a provider (each charge updates it), so once it is
    locked: the balance read here holds until commit (charge_post cannot fall short), and the caps of
    a capped subscription, re-read now with a fresh snapshot, cannot be crossed by a concurrent sale.
    Every other condition was read by this transaction a moment ago. Money's lock order is kept:
    the account first, then that provider's subscriptions.
    """
    provider_ids = sorted(c.provider_id for c in batch)
    balances = accounts_balance_lock(provider_ids=provider_ids)
    capped = sorted(c.subscription_id for c in batch if c.capped)
    reasons = subscriptions_recheck(lead=facts, level=level, now=now, subscription_ids=capped) if capped else {}
    for c in batch:
        if not reasons.get(c.subscription_id) and balances.get(c.provider_id, 0) < level.price_cents:
            reasons[c.subscription_id] = SkipReason.BALANCE.value
    moved = any(c.balance_cents is not None and balances.get(c.provider_id) != c.balance_cents for c in batch)
    return reasons, moved


def _in_area(*, provider_id: int, facts: LeadFacts) -> bool:
    """What the sale saw: the lead's postal code is in the buyer's service areas (recorded on the assignment)."""
    return ServiceArea.objects.filter(provider_id=provider_id).filter(
        Q(kind=AreaKind.CODE, value=facts.postal_code)
        | Q(kind=AreaKind.PREFIX, value__in=[facts.postal_code[:n] for n in range(1, len(facts.postal_code) + 1)])
    ).exists()


def _charge_and_assign(*, lead: Lead, facts: LeadFacts, level: LevelFacts, candidate: Candidate,
                       now: datetime) -> Assignment:
    """Charge once (idempotency key per lead and provider) and build the sale's assignment row."""
    entry = charge_post(
        provider_id=candidate.provider_id, amount_cents=level.price_cents,
        key=f"charge:{lead.pk}:{candidate.provider_id}", memo=f"Lead {lead.public_id} ({level.name})",
        related_type="leads.lead", related_id=lead.pk,
    )
    return Assignment(
        lead_id=lead.pk, provider_id=candidate.provider_id, level_id=level.id,
        subscription_id=candidate.subscription_id, category_id=lead.category_id, price_cents=level.price_cents,
        charge_entry=entry, assigned_at=now, in_area_at_sale=_in_area(provider_id=candidate.provider_id, facts=facts),
    )


def _why(*, level: LevelFacts, eligible: int, sales: list[Sale], cursor: int, skipped: Counter,
         lost_on_recheck: int) -> str:
    if sales:
        order = ("least recently served at this level first (never served first), "
                 f"ties broken by rotation after provider #{cursor}")
        return f"{eligible} eligible; sold to {len(sales)} of at most {level.max_recipients}: {order}."
    if eligible and lost_on_recheck:
        return (f"{eligible} eligible when the level was read, but none passed the re-check under locks "
                "(a cap or the balance was reached by a concurrent sale).")
    if not skipped:
        return "No live subscription at this level."
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"No eligible subscription ({reasons})."


def _sell_at_level(*, lead: Lead, facts: LeadFacts, level: LevelFacts, now: datetime) -> LevelOutcome:
    limit = level.max_recipients + CANDIDATE_SLACK
    rereads = 0
    found = level_eligibility(lead=facts, level=level, now=now, limit=limit)
    skipped = Counter(found.skipped)
    skipped_providers = {reason: list(ids) for reason, ids in found.skipped_providers.items()}
    pending, positions = list(found.candidates), {c.subscription_id: i for i, c in enumerate(found.candidates)}
    tried: set[int] = set()
    sales: list[Sale] = []
    lost_on_recheck = 0
    while len(sales) < level.max_recipients:
        batch = [c for c in pending if c.subscription_id not in tried][: level.max_recipients - len(sales)]
        if not batch:
            if len(pending) < limit:
                break  # every eligible subscription has been tried
            limit += level.max_recipients + CANDIDATE_SLACK
            pending = level_eligibility(lead=facts, level=level, now=now, limit=limit).candidates
            for c in pending:
                positions.setdefault(c.subscription_id, len(positions))
            if all(c.subscription_id in tried for c in pending):
                break
            continue
        tried.update(c.subscription_id for c in batch)
        reasons, moved = _lock_and_recheck(facts=facts, level=level, now=now, batch=batch)
        if moved and not sales and rereads < STALE_REREADS:
            # A concurrent run sold to (or otherwise moved the account of) someone in the batch after the level
            # was read: its serving order is stale. Read the level again — the locks held keep those accounts
            # still — so two leads sold at the same moment go to the first two in line, not both to the first.
            rereads += 1
            found = level_eligibility(lead=facts, level=level, now=now, limit=limit)
            skipped = Counter(found.skipped)
            skipped_providers = {reason: list(ids) for reason, ids in found.skipped_providers.items()}
            pending = list(found.candidates)
            positions = {c.subscription_id: i for i, c in enumerate(pending)}
            tried, lost_on_recheck = set(), 0
            continue
        for candidate in sorted(batch, key=lambda c: c.provider_id):
            if reason := reasons.get(candidate.subscription_id):
                skipped[reason] += 1
                skipped_providers.setdefault(reason, []).append(candidate.provider_id)
                lost_on_recheck += 1
                continue
            assignment = _charge_and_assign(lead=lead, facts=facts, level=level, candidate=candidate, now=now)
            sales.append(Sale(candidate=candidate, position=positions[candidate.subscription_id],
                              assignment=assignment))
    sales.sort(key=lambda sale: sale.position)
    eligible = found.eligible - lost_on_recheck
    trace = {
        "level": level.slug,
        "price_cents": level.price_cents,
        "max_recipients": level.max_recipients,
        "considered": found.considered,
        "eligible": max(eligible, 0),
        "skipped": dict(sorted(skipped.items())),
        "chosen": [sale.candidate.provider_id for sale in sales],
        "why": _why(level=level, eligible=found.eligible, sales=sales, cursor=found.cursor, skipped=skipped,
                    lost_on_recheck=lost_on_recheck),
        "cursor_before": found.cursor,
        "served": [
            {"provider_id": s.candidate.provider_id, "subscription_id": s.candidate.subscription_id,
             "last_served_at": s.candidate.last_served_at.isoformat() if s.candidate.last_served_at else None}
            for s in sales
        ],
        "eligible_providers": found.eligible_providers,
        "skipped_providers": {reason: sorted(ids) for reason, ids in sorted(skipped_providers.items())},
    }
    return LevelOutcome(trace=trace, sales=sales)


def _record_sales(*, sales: list[Sale], now: datetime) -> None:
    Assignment.objects.bulk_create([sale.assignment for sale in sales])
    subscriptions_served_set(subscription_ids=[s.candidate.subscription_id for s in sales], now=now)


def _cursor_move(*, level: LevelFacts, sales: list[Sale]) -> None:
    last = sales[-1].candidate.provider_id
    lock_taken("level_cursor", level.id)  # the upsert locks the level's cursor row: the last lock of a sale
    LevelCursor.objects.bulk_create(
        [LevelCursor(level_id=level.id, last_provider_id=last)],
        update_conflicts=True, unique_fields=["level"], update_fields=["last_provider_id", "updated_at"],
    )
