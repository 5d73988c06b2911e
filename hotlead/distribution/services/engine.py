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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from hotlead.billing.services.ledger import low_balance_email
from hotlead.core.exceptions import Conflict, NotFound
from hotlead.core.services import audit_record
from hotlead.distribution import metrics
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.job_paths import LEAD_DISTRIBUTE, LEAD_OUTCOME_NOTIFY
from hotlead.distribution.models import DistributionRun
from hotlead.distribution.services.facts import lead_facts_of, market_parse, market_sql
from hotlead.distribution.services.level_sale import (
    CANDIDATE_SLACK,
    STALE_REREADS,
    _cursor_move,
    _record_sales,
    _sell_at_level,
)
from hotlead.distribution.services.sale_sql import lead_sell
from hotlead.leads.enums import ALLOWED_TRANSITIONS, LeadStatus
from hotlead.leads.lock_objects import lead_locked
from hotlead.leads.models import Category, Lead
from hotlead.leads.services.lifecycle import lead_outcome_set
from hotlead.levels.services.funds import funds_changed_emails, subscriptions_sync_funds
from hotlead.ops.jobs import job_enqueue

if TYPE_CHECKING:
    from hotlead.accounts.models import User

logger = logging.getLogger("hotlead.distribution")

DISTRIBUTABLE = frozenset({LeadStatus.APPROVED, LeadStatus.UNSOLD})
# A deadlock or serialisation failure aborts the whole transaction: run it again from the start.
TRANSACTION_ATTEMPTS = 3
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def _freshness() -> timedelta:
    return timedelta(hours=settings.HOTLEAD.get("UNSOLD_FRESHNESS_HOURS", 24))


def _is_retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return connection.vendor == "sqlite" and "locked" in str(exc)


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
    lead_locked(lead_id)
    lead = Lead.from_db(connection.alias, list(_LOCK_FIELDS), row[: len(_LOCK_FIELDS)])
    slug, name, market = row[len(_LOCK_FIELDS):]
    lead.category = Category(id=lead.category_id, slug=slug, name=name)
    lead.market = market
    return lead


def _distribute_once(*, lead_id: int, trigger: str, actor: User | None, strict: bool,
                     now: datetime | None) -> DistributionRun | None:
    started = time.perf_counter()
    if sale_in_database():
        with transaction.atomic():
            return _sell_in_database(lead_id=lead_id, trigger=trigger, actor=actor, strict=strict,
                                     now=now or timezone.now(), started=started)
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
            audit_record(action="lead.distribute", actor=actor, obj=lead,
                         changes={"status": [from_status, to_status], "buyers": len(sales), "run": run.pk,
                                  "public_id": str(lead.public_id)})
        job_enqueue(LEAD_OUTCOME_NOTIFY, lead.pk, run.pk)
        if sales:
            _cursor_move(level=sold_level, sales=sales)
        sold_slug = sold_level.slug if sold_level else None
        transaction.on_commit(lambda: _count(run=run, trigger=trigger, sold_level=sold_slug, started=started))
    return run


def sale_in_database() -> bool:
    """On PostgreSQL the sale is one round trip (`hl_sale_sell_<hash>`, sale_sql.py); elsewhere the Python engine.

    HOTLEAD["DISTRIBUTION_IN_DATABASE"] = False runs the Python engine on PostgreSQL too (the tests that
    hold the two to the same results use it)."""
    return connection.vendor == "postgresql" and settings.HOTLEAD.get("DISTRIBUTION_IN_DATABASE", True)


def _sell_in_database(*, lead_id: int, trigger: str, actor: User | None, strict: bool, now: datetime,
                      started: float) -> DistributionRun | None:
    """The same run as the Python path, as one call of `hl_sale_sell_<hash>` (lock, policy, sale, outcome, run), then
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
        audit_record(action="lead.distribute", actor=actor, obj=lead,
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


def lead_distribute(*, lead_id: int, trigger: str, actor: User | None = None, strict: bool = False,
                    now: datetime | None = None) -> DistributionRun | None:
    """Run the engine for one lead; returns the stored run, or None when a job finds nothing to do.

    strict=True (staff): a lead whose status does not allow distribution is a Conflict (409).
    """
    outer = connection.in_atomic_block
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            return _distribute_once(lead_id=lead_id, trigger=trigger, actor=actor, strict=strict, now=now)
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


def lead_distribute_manual(*, lead: Lead, actor: User | None) -> DistributionRun:
    """Staff's "distribute now" (API and console): 409 unless the lead is approved or unsold; audit-logged."""
    return lead_distribute(lead_id=lead.pk, trigger=RunTrigger.MANUAL, actor=actor, strict=True)


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
