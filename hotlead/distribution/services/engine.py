"""The distribution engine: sell one approved lead, fairly and exactly once (SPEC §4.2, §4.3, §4.5).

One database transaction per lead. Locks, always in this order, so concurrent runs queue instead of
deadlocking: the lead row (two workers on the same lead serialise; the second sees it is no longer
waiting) → the chosen providers' account rows, in provider-id order (no overdraft; and hard caps, since
every sale to a provider holds its account row until commit) → the buyers' subscription rows (last
served, funds) → the level's rotation cursor, last, just before commit (the one row every sale at a
level writes).

A chosen subscription that fails the re-check under those locks is passed over (its reason is
counted in the trace) and the next eligible one takes its place. When a locked account moved since
the level was read (a concurrent run sold that provider a lead), the serving order read is stale: the
level is read again, so leads sold at the same moment take turns as they would one after another.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from hotlead.billing.models import Account
from hotlead.billing.services import charge_post, low_balance_email
from hotlead.core.exceptions import Conflict, NotFound
from hotlead.core.services import audit_record
from hotlead.distribution import metrics
from hotlead.distribution.enums import RunTrigger, SkipReason
from hotlead.distribution.job_paths import LEAD_DISTRIBUTE, LEAD_OUTCOME_NOTIFY
from hotlead.distribution.models import Assignment, DistributionRun, LevelCursor
from hotlead.distribution.services.eligibility import (
    Candidate,
    LeadFacts,
    LevelFacts,
    lead_facts_of,
    level_eligibility,
    market_parse,
    market_sql,
    subscriptions_recheck,
)
from hotlead.distribution.services.sale_sql import lead_sell
from hotlead.leads.enums import ALLOWED_TRANSITIONS, LeadStatus
from hotlead.leads.models import Category, Lead
from hotlead.leads.services import lead_outcome_set
from hotlead.levels.models import Subscription
from hotlead.levels.services import funds_changed_emails, subscriptions_sync_funds
from hotlead.ops.jobs import job_enqueue
from hotlead.providers.enums import AreaKind
from hotlead.providers.models import ServiceArea

logger = logging.getLogger("hotlead.distribution")

DISTRIBUTABLE = frozenset({LeadStatus.APPROVED, LeadStatus.UNSOLD})
# Eligible subscriptions fetched beyond max_recipients, to replace those that fail the re-check.
CANDIDATE_SLACK = 5
# A deadlock or serialisation failure aborts the whole transaction: run it again from the start.
TRANSACTION_ATTEMPTS = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
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


def _freshness() -> timedelta:
    return timedelta(hours=settings.HOTLEAD.get("UNSOLD_FRESHNESS_HOURS", 24))


def _is_retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return connection.vendor == "sqlite" and "locked" in str(exc)


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
    balances = dict(
        Account.objects.select_for_update().filter(provider_id__in=provider_ids).order_by("provider_id")
        .values_list("provider_id", "balance_cents")
    )
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
    Subscription.objects.filter(pk__in=sorted(s.candidate.subscription_id for s in sales)).update(last_served_at=now)


def _cursor_move(*, level: LevelFacts, sales: list[Sale]) -> None:
    last = sales[-1].candidate.provider_id
    LevelCursor.objects.bulk_create(
        [LevelCursor(level_id=level.id, last_provider_id=last)],
        update_conflicts=True, unique_fields=["level"], update_fields=["last_provider_id", "updated_at"],
    )


def _run_policy(*, trigger: str, strict: bool, now: datetime) -> tuple[frozenset[str], datetime | None]:
    """The statuses a lead may be in for this run, and (schedule) how recently it must have entered them.

    One policy for both paths: the Python engine checks it in `_may_run`, the SQL sale under its lead lock.
    """
    if strict:
        return DISTRIBUTABLE, None
    if trigger == RunTrigger.APPROVAL:
        return frozenset({LeadStatus.APPROVED}), None
    if trigger == RunTrigger.SCHEDULE:
        return frozenset({LeadStatus.UNSOLD}), now - _freshness()
    return DISTRIBUTABLE, None


def _refuse(*, refused: str, status: str, strict: bool) -> None:
    """Jobs (strict=False) quietly do nothing on a lead that is no longer waiting; staff get a 409."""
    if not strict:
        return
    if refused == "fraud":  # marked fraudulent (SPEC §6): never sold again, by any trigger
        raise Conflict("A lead marked fraudulent cannot be distributed.", details={"is_fraud": True})
    raise Conflict(f"A lead that is {LeadStatus(status).label.lower()} cannot be distributed.",
                   details={"status": status})


def _may_run(lead: Lead, *, trigger: str, strict: bool, now: datetime) -> bool:
    statuses, fresh_since = _run_policy(trigger=trigger, strict=strict, now=now)
    refused = None
    if lead.is_fraud:
        refused = "fraud"
    elif lead.status not in statuses:
        refused = "status"
    elif fresh_since is not None and (lead.approved_at or lead.created_at) < fresh_since:
        refused = "stale"
    if refused:
        _refuse(refused=refused, status=lead.status, strict=strict)
        return False
    return True


# Both outcomes of a run must be allowed from every status a run starts from (the SQL sale relies on it).
assert all({LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD} <= ALLOWED_TRANSITIONS[s] for s in DISTRIBUTABLE)


# what a run reads of the lead, in the model's field order (Model.from_db maps values in that order)
_LOCK_FIELDS = tuple(f.attname for f in Lead._meta.concrete_fields if f.attname in {
    "id", "public_id", "status", "is_fraud", "approved_at", "created_at", "category_id", "postal_code",
    "budget_cents", "timeline", "source", "buyers_count"})


def _lead_lock(lead_id: int) -> Lead | None:
    """Lock the lead row and read what a run needs — the lead, its category and the live levels — in one
    statement (the ORM's query building costs more than the query on the hot path)."""
    lead_table, category_table = Lead._meta.db_table, Category._meta.db_table
    columns = ", ".join(f"l.{name}" for name in _LOCK_FIELDS)
    sql = (f"SELECT {columns}, c.slug, c.name, ({market_sql()}) FROM {lead_table} l "  # noqa: S608 - constants
           f"JOIN {category_table} c ON c.id = l.category_id WHERE l.id = %s")
    if connection.features.has_select_for_update_of:  # SQLite (the demo) locks the whole database instead
        sql += " FOR UPDATE OF l"
    with connection.cursor() as cursor:
        cursor.execute(sql, [lead_id])
        row = cursor.fetchone()
    if row is None:
        return None
    lead = Lead.from_db(connection.alias, list(_LOCK_FIELDS), row[: len(_LOCK_FIELDS)])
    slug, name, market = row[len(_LOCK_FIELDS):]
    lead.category = Category(id=lead.category_id, slug=slug, name=name)
    lead.market = market
    return lead


def _distribute_once(*, lead_id: int, trigger: str, actor, strict: bool, now: datetime | None,
                     request=None) -> DistributionRun | None:
    started = time.perf_counter()
    if sale_in_database():
        with transaction.atomic():
            return _sell_in_database(lead_id=lead_id, trigger=trigger, actor=actor, strict=strict,
                                     now=now or timezone.now(), request=request, started=started)
    with transaction.atomic():
        lead = _lead_lock(lead_id)
        if lead is None:
            raise NotFound("No such lead.")
        now = now or timezone.now()
        if not _may_run(lead, trigger=trigger, strict=strict, now=now):
            return None
        facts = lead_facts_of(lead)
        market = market_parse(lead.market)
        levels_trace: list[dict] = []
        sold_level, sales = None, []
        for level in market.levels:
            outcome = _sell_at_level(lead=lead, facts=facts, level=level, now=now)
            levels_trace.append(outcome.trace)
            if outcome.sales:
                sold_level, sales = level, outcome.sales
                break
        from_status = lead.status
        if sales:
            _record_sales(sales=sales, now=now)
            for sale in sorted(sales, key=lambda s: s.candidate.provider_id):
                # A debit can only deactivate subscriptions priced above the new balance: when the balance
                # still covers the dearest live level there is nothing to sync. Otherwise sync in this
                # transaction, under the account lock already held (money's lock order).
                if sale.assignment.charge_entry.balance_after_cents < market.max_live_price_cents:
                    subscriptions_sync_funds(provider_id=sale.candidate.provider_id)
            to_status = LeadStatus.DISTRIBUTED
        else:
            to_status = LeadStatus.UNSOLD
        lead_outcome_set(lead=lead, to_status=to_status, buyers=len(sales), now=now, actor=actor,
                         data={"trigger": trigger, "level": sold_level.slug if sold_level else None})
        duration_ms = (time.perf_counter() - started) * 1000
        run = DistributionRun.objects.create(
            lead=lead, trigger=trigger, actor=actor if getattr(actor, "pk", None) else None, outcome=to_status,
            buyers=len(sales), finished_at=timezone.now(), duration_ms=round(duration_ms, 3),
            trace={
                "lead": {"category": facts.category, "postal_code": facts.postal_code},
                "at": now.isoformat(),
                "outcome": to_status,
                "level": sold_level.slug if sold_level else None,
                "levels": levels_trace,
            },
        )
        if strict:
            audit_record(action="lead.distribute", actor=actor, obj=lead, request=request,
                         changes={"status": [from_status, to_status], "buyers": len(sales), "run": run.pk,
                                  "public_id": str(lead.public_id)})
        job_enqueue(LEAD_OUTCOME_NOTIFY, lead.pk, run.pk)
        if sales:
            _cursor_move(level=sold_level, sales=sales)
        sold_slug = sold_level.slug if sold_level else None
        transaction.on_commit(lambda: _count(run=run, trigger=trigger, sold_level=sold_slug, started=started))
    return run


def sale_in_database() -> bool:
    """On PostgreSQL the sale is one round trip (`sale_sql.hl_lead_sell`); elsewhere the Python engine above.

    HOTLEAD["DISTRIBUTION_IN_DATABASE"] = False runs the Python engine on PostgreSQL too (the tests that
    hold the two to the same results use it)."""
    return connection.vendor == "postgresql" and settings.HOTLEAD.get("DISTRIBUTION_IN_DATABASE", True)


def _sell_in_database(*, lead_id: int, trigger: str, actor, strict: bool, now: datetime, request,
                      started: float) -> DistributionRun | None:
    """The same run as the Python path, as one call of `hl_lead_sell` (lock, policy, sale, outcome, run), then
    what only Python does: the e-mails the sale triggered, the audit entry (staff), the follow-up job."""
    statuses, fresh_since = _run_policy(trigger=trigger, strict=strict, now=now)
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    result = lead_sell(lead_id=lead_id, now=now, trigger=trigger, actor_id=actor_id, statuses=sorted(statuses),
                       fresh_since=fresh_since, slack=CANDIDATE_SLACK, max_rereads=STALE_REREADS)
    if result.refused == "missing":
        raise NotFound("No such lead.")
    if result.refused:
        _refuse(refused=result.refused, status=result.status, strict=strict)
        return None
    for sold in result.sales:  # the function armed the alert and deactivated unfunded subscriptions: tell them
        if sold.low_balance_alert:
            low_balance_email(provider_id=sold.provider_id)
        if sold.deactivated or sold.reactivated:
            funds_changed_emails(provider_id=sold.provider_id, balance_cents=sold.balance_after_cents,
                                 deactivated=sold.deactivated, reactivated=sold.reactivated)
    lead = Lead(pk=lead_id, public_id=result.public_id, postal_code=result.postal_code, status=result.outcome,
                buyers_count=result.buyers, category_id=result.category_id)
    run = DistributionRun(
        pk=result.run_id, lead=lead, trigger=trigger, actor_id=actor_id, outcome=result.outcome, buyers=result.buyers,
        trace=result.trace, started_at=result.started_at, finished_at=result.finished_at,
        duration_ms=result.duration_ms,
    )
    if strict:
        audit_record(action="lead.distribute", actor=actor, obj=lead, request=request,
                     changes={"status": [result.status, result.outcome], "buyers": result.buyers, "run": run.pk,
                              "public_id": str(result.public_id)})
    job_enqueue(LEAD_OUTCOME_NOTIFY, lead_id, run.pk)
    transaction.on_commit(lambda: _count(run=run, trigger=trigger, sold_level=result.level, started=started))
    return run


def _count(*, run: DistributionRun, trigger: str, sold_level: str | None, started: float) -> None:
    for level in run.trace["levels"]:
        for reason, n in level["skipped"].items():
            metrics.ASSIGNMENTS_SKIPPED.labels(reason=reason).inc(n)
    if sold_level is not None:
        metrics.ASSIGNMENTS_CREATED.labels(level=sold_level).inc(run.buyers)
    else:
        metrics.LEADS_UNSOLD.labels(trigger=trigger).inc()
    metrics.DISTRIBUTION_DURATION.labels(outcome=run.outcome).observe(time.perf_counter() - started)


def lead_distribute(*, lead_id: int, trigger: str, actor=None, strict: bool = False, now: datetime | None = None,
                    request=None) -> DistributionRun | None:
    """Run the engine for one lead; returns the stored run, or None when a job finds nothing to do.

    strict=True (staff): a lead whose status does not allow distribution is a Conflict (409).
    """
    outer = connection.in_atomic_block
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            return _distribute_once(lead_id=lead_id, trigger=trigger, actor=actor, strict=strict, now=now,
                                    request=request)
        except OperationalError as exc:
            if outer or attempt == TRANSACTION_ATTEMPTS or not _is_retryable(exc):
                raise
            logger.warning("distribution transaction retried", extra={"lead_id": lead_id, "attempt": attempt})
    return None


def lead_distribute_if_pending(*, lead_id: int, trigger: str = RunTrigger.APPROVAL) -> str:
    """The job's entry: distribute if the lead still waits for it; say what happened."""
    try:
        run = lead_distribute(lead_id=lead_id, trigger=trigger)
    except NotFound:
        return "missing"  # deleted since it was queued: nothing to retry
    return run.outcome if run is not None else "nothing_to_do"


def lead_distribute_manual(*, lead: Lead, actor, request=None) -> DistributionRun:
    """Staff's "distribute now" (API and console): 409 unless the lead is approved or unsold; audit-logged."""
    return lead_distribute(lead_id=lead.pk, trigger=RunTrigger.MANUAL, actor=actor, strict=True, request=request)


def unsold_leads_redistribute(*, now: datetime | None = None) -> int:
    """Queue a new run for every unsold lead that is still fresh (SPEC §4: the 15-minute schedule)."""
    now = now or timezone.now()
    fresh_since = now - _freshness()
    lead_ids = list(
        Lead.objects.filter(status=LeadStatus.UNSOLD, is_fraud=False)
        .filter(Q(approved_at__gte=fresh_since) | Q(approved_at__isnull=True, created_at__gte=fresh_since))
        .order_by("created_at", "id").values_list("pk", flat=True)
    )
    with transaction.atomic():
        for lead_id in lead_ids:
            job_enqueue(LEAD_DISTRIBUTE, lead_id, trigger=RunTrigger.SCHEDULE)
    return len(lead_ids)
