"""The what-if simulator (SPEC §10.1): offer leads to the REAL distribution engine on a simulated clock, once
as things are (the baseline) and once under a scenario, inside a transaction that is rolled back.

Nothing here models the engine: every lead goes through `distribution.services.engine.lead_distribute` (on
PostgreSQL the sale function) with `now=` the lead's simulated time — the same eligibility, fairness and
charging through the ledger. Deposits go through `billing.services.deposit_post`. What the runs produced is
read back (assignments, charges, traces) before the savepoint is rolled back, so the database is left as it
was: row for row, only sequences have moved.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import F

from hotlead.billing.models import Account
from hotlead.billing.services.ledger import adjustment_post, deposit_post
from hotlead.core.exceptions import DomainRuleViolation, ValidationFailed
from hotlead.distribution.enums import AssignmentStatus, RunTrigger
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.models import Lead
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.funds import subscriptions_sync_funds
from hotlead.providers.models import Provider
from hotlead.simulator import market as market_mod
from hotlead.simulator import replay as replay_mod
from hotlead.simulator.report import SideOutcome, report_build
from hotlead.simulator.scenario import Scenario, scenario_parse

logger = logging.getLogger("hotlead.simulator")

Progress = Callable[[int, int], None]
MAX_SYNTHETIC_PROVIDERS = 20_000
MAX_SYNTHETIC_LEADS = 200_000


class SimulationBusy(DomainRuleViolation):
    code = "simulation_busy"
    default_message = ("The market is busy (a row the simulation needs stayed locked by a real sale): try again, "
                       "or run the simulation on a copy of the database.")


class _Rollback(Exception):
    """Raised at the end of a simulation so everything it wrote is undone."""


@dataclass(frozen=True)
class Event:
    at: datetime
    order: int
    lead_id: int | None = None  # the lead (a copy, in a replay) to offer
    key: int | None = None  # what the lead is called in the outcome: its index, or the original lead's id
    trigger: str = RunTrigger.APPROVAL
    provider_id: int | None = None  # a ledger movement
    amount_cents: int = 0
    kind: str = "deposit"
    ledger_key: str = ""
    subscription: replay_mod.SubscriptionEvent | None = None  # a replay's subscription that starts mid-range


@dataclass
class Prepared:
    """A market ready to run: the events in time order, and what the report needs to name things."""

    start: datetime
    end: datetime
    events: list[Event]
    provider_ids: list[int]
    labels: dict[int, str]
    return_rate: float
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimulationResult:
    baseline: SideOutcome
    scenario: SideOutcome
    report: dict[str, Any]
    elapsed_s: float = 0.0
    lead_seconds: float = 0.0  # time spent running leads (both sides), for the benchmark
    lead_runs: int = 0  # runs of the engine, both sides
    lead_ms: list[float] = field(default_factory=list)  # each run's time, in order (baseline, then scenario)


# --- the scenario applied ---------------------------------------------------------------------------


def _levels_apply(scenario: Scenario) -> None:
    if not scenario.levels:
        return
    levels = {lv.slug: lv for lv in CompetitionLevel.objects.filter(archived_at__isnull=True)}
    reranked = {slug: changes["rank"] for slug, changes in scenario.levels.items() if "rank" in changes}
    if reranked:  # ranks are unique among live levels: park every live level out of the way, then place them
        CompetitionLevel.objects.filter(archived_at__isnull=True).update(rank=F("rank") + 1_000_000)
        taken = set(reranked.values())
        if len(taken) != len(reranked):
            raise ValidationFailed.for_field("levels", "Two levels cannot have the same rank.")
        free = (n for n in range(1, 10_000) if n not in taken)
        for level in sorted(levels.values(), key=lambda lv: (lv.rank, lv.pk)):
            level.rank = reranked.get(level.slug) or next(free)
            CompetitionLevel.objects.filter(pk=level.pk).update(rank=level.rank)
    for slug, changes in scenario.levels.items():
        fields = {k: v for k, v in changes.items() if k != "rank"}
        if fields:
            CompetitionLevel.objects.filter(pk=levels[slug].pk).update(**fields)


def _scenario_apply(scenario: Scenario, *, provider_ids: list[int]) -> None:
    """Change the market as the scenario says, through the same rows the engine reads."""
    _levels_apply(scenario)
    if scenario.caps:
        Subscription.objects.filter(provider_id__in=provider_ids).update(**scenario.caps)
    if scenario.balance_scale != 1.0:
        for provider_id, balance in Account.objects.filter(provider_id__in=provider_ids).order_by("provider_id") \
                .values_list("provider_id", "balance_cents"):
            change = round(balance * scenario.balance_scale) - balance
            if change:  # through the ledger, so the books of the simulated market still balance
                adjustment_post(provider_id=provider_id, amount_cents=change, key=f"sim:scale:{provider_id}",
                                actor=None, reason="Simulated balance scale")
    if scenario.levels or scenario.balance_scale != 1.0:
        live = Subscription.objects.filter(provider_id__in=provider_ids) \
            .exclude(status=SubscriptionStatus.CANCELLED).values_list("provider_id", flat=True).distinct()
        for provider_id in sorted(set(live)):  # prices or balances moved: the real funds sync decides who may buy
            subscriptions_sync_funds(provider_id=provider_id)


# --- one side: run the events, read back what happened ------------------------------------------------


def _ledger_apply(event: Event, scale: float) -> None:
    amount = round(event.amount_cents * scale) if event.amount_cents > 0 else event.amount_cents
    if amount == 0:
        return
    if event.kind == "deposit" and amount > 0:
        deposit_post(provider_id=event.provider_id, amount_cents=amount, key=f"sim:{event.ledger_key}",
                     memo="Simulated deposit")
        return
    balance = Account.objects.filter(provider_id=event.provider_id).values_list("balance_cents", flat=True).first()
    if balance is None or balance + amount < 0:  # a debit the simulated balance cannot take: skipped
        return
    adjustment_post(provider_id=event.provider_id, amount_cents=amount, key=f"sim:{event.ledger_key}", actor=None,
                    reason=f"Simulated {event.kind}")


def _top_up(run: DistributionRun, scenario: Scenario) -> int:
    """The scenario's deposit behaviour: a buyer left below the threshold tops up at once. Returns the cents."""
    levels = run.trace.get("levels") or []
    buyers = levels[-1].get("chosen", []) if levels else []
    added = 0
    for provider_id, balance in Account.objects.filter(provider_id__in=buyers).values_list("provider_id",
                                                                                            "balance_cents"):
        if balance < scenario.top_up_below_cents:
            deposit_post(provider_id=provider_id, amount_cents=scenario.top_up_cents,
                         key=f"sim:topup:{run.pk}:{provider_id}", memo="Simulated automatic top-up")
            added += scenario.top_up_cents
    return added


@contextmanager
def _one_subtransaction():
    """Run the side's events without a savepoint per lead.

    The engine opens `transaction.atomic()` per lead; inside the simulation's transaction each is a savepoint,
    and PostgreSQL keeps every released savepoint's transaction-id lock until the top transaction ends, so
    releasing the next one scans them all: per-lead time grows with the number of leads already simulated
    (167 ms per lead after 9,000). Here the side's own savepoint is the only one: the engine runs exactly
    as before, only without the nested savepoints, and any error inside fails the whole side (which is
    rolled back anyway). Django creates no savepoint when the connection says it cannot.
    """
    features = connection.features
    shadowed = "uses_savepoints" in vars(features)
    previous = features.uses_savepoints
    features.uses_savepoints = False
    try:
        yield
    finally:
        if shadowed:
            features.uses_savepoints = previous
        else:
            del features.uses_savepoints


def _side_run(prepared: Prepared, scenario: Scenario, *, progress: Progress | None, done_before: int,
              total: int, lead_ms: list[float]) -> tuple[SideOutcome, float]:
    """Run one side in a savepoint that is rolled back; return what it produced and the time its leads took."""
    outcome: SideOutcome | None = None
    lead_seconds = 0.0
    try:
        with transaction.atomic():
            _scenario_apply(scenario, provider_ids=prepared.provider_ids)
            lead_keys: dict[int, int] = {}
            with _one_subtransaction():
                _done, deposits_cents, lead_seconds = _events_run(
                    prepared, scenario, lead_keys=lead_keys, progress=progress, done=done_before, total=total,
                    step=max(1, total // 100), lead_ms=lead_ms)
            outcome = _side_read(prepared, lead_keys=lead_keys, deposits_cents=deposits_cents)
            raise _Rollback
    except _Rollback:
        pass
    assert outcome is not None
    return outcome, lead_seconds


def _events_run(prepared: Prepared, scenario: Scenario, *, lead_keys: dict[int, int], progress: Progress | None,
                done: int, total: int, step: int, lead_ms: list[float]) -> tuple[int, int, float]:
    """Offer every event of the market in time order; returns (leads done, deposits made, seconds in the engine)."""
    deposits_cents = 0
    lead_seconds = 0.0
    for event in prepared.events:
        if event.subscription is not None:
            replay_mod.subscription_appear(event.subscription)
            continue
        if event.lead_id is None:
            before = Account.objects.filter(provider_id=event.provider_id) \
                .values_list("balance_cents", flat=True).first() or 0
            _ledger_apply(event, scenario.deposit_scale)
            after = Account.objects.filter(provider_id=event.provider_id) \
                .values_list("balance_cents", flat=True).first() or 0
            deposits_cents += after - before
            continue
        lead_keys[event.lead_id] = event.key
        started = time.perf_counter()
        run = lead_distribute(lead_id=event.lead_id, trigger=event.trigger, now=event.at)
        elapsed = time.perf_counter() - started
        lead_seconds += elapsed
        lead_ms.append(elapsed * 1000)
        if run is not None and scenario.top_up_cents and run.buyers:
            deposits_cents += _top_up(run, scenario)
        done += 1
        if progress and done % step == 0:
            progress(done, total)
    return done, deposits_cents, lead_seconds


def _side_read(prepared: Prepared, *, lead_keys: dict[int, int], deposits_cents: int) -> SideOutcome:
    lead_ids = list(lead_keys)
    sales = [
        (lead_keys[row["lead_id"]], row["provider_id"], row["subscription_id"], row["level__slug"],
         row["price_cents"], -row["charge_entry__amount_cents"], row["charge_entry__balance_after_cents"],
         row["assigned_at"])
        for row in Assignment.objects.filter(lead_id__in=lead_ids).order_by("assigned_at", "lead_id", "id")
        .values("lead_id", "provider_id", "subscription_id", "level__slug", "price_cents",
                "charge_entry__amount_cents", "charge_entry__balance_after_cents", "assigned_at")
    ]
    leads = {lead_keys[pk]: (status, category) for pk, status, category in
             Lead.objects.filter(pk__in=lead_ids).values_list("pk", "status", "category__slug")}
    traces: dict[int, dict] = {}
    for lead_id, trace in DistributionRun.objects.filter(lead_id__in=lead_ids).order_by("id") \
            .values_list("lead_id", "trace"):
        traces[lead_keys[lead_id]] = trace  # the lead's last run
    subscriptions = list(
        Subscription.objects.filter(provider_id__in=prepared.provider_ids)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .values_list("id", "provider_id", "level__slug", "level__price_cents", "level__active"))
    categories: dict[int, set[str]] = {}
    for provider_id, slug in Provider.categories.through.objects.filter(provider_id__in=prepared.provider_ids) \
            .values_list("provider_id", "category__slug"):
        categories.setdefault(provider_id, set()).add(slug)
    levels = list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank", "id")
                  .values("slug", "name", "rank", "price_cents", "max_recipients", "active"))
    return SideOutcome(start=prepared.start, end=prepared.end, leads=leads, sales=sales, traces=traces,
                       subscriptions=subscriptions, categories=categories, labels=prepared.labels,
                       levels=levels, deposits_cents=deposits_cents, return_rate=prepared.return_rate)


def _simulate(prepare: Callable[[], Prepared], scenario_doc: Any, *, progress: Progress | None) -> SimulationResult:
    started = time.perf_counter()
    result: SimulationResult | None = None
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # never queue behind real traffic for long: a locked row fails the simulation, not the market
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
            prepared = prepare()
            slugs = set(CompetitionLevel.objects.filter(archived_at__isnull=True).values_list("slug", flat=True))
            scenario = scenario_parse(scenario_doc, level_slugs=slugs)
            leads = sum(1 for e in prepared.events if e.lead_id is not None)
            total = 2 * leads
            lead_ms: list[float] = []
            baseline, t1 = _side_run(prepared, Scenario(), progress=progress, done_before=0, total=total,
                                     lead_ms=lead_ms)
            changed, t2 = _side_run(prepared, scenario, progress=progress, done_before=leads, total=total,
                                    lead_ms=lead_ms)
            report = report_build(baseline=baseline, scenario=changed)
            result = SimulationResult(baseline=baseline, scenario=changed, report=report, lead_seconds=t1 + t2,
                                      lead_runs=total, lead_ms=lead_ms)
            raise _Rollback
    except _Rollback:
        pass
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "55P03":  # lock_not_available
            raise SimulationBusy() from exc
        raise
    assert result is not None
    result.elapsed_s = time.perf_counter() - started
    if progress:
        progress(total, total)
    return result


def _observed_return_rate(assignments: Any) -> float:
    total = assignments.count()
    if not total:
        return 0.0
    return assignments.filter(status=AssignmentStatus.REFUNDED).count() / total


def simulate_synthetic(*, providers: int, leads: int, seed: int, days: int = 14, scenario: Any = None,
                       progress: Progress | None = None) -> SimulationResult:
    """A seeded market of `providers` providers and `leads` leads over `days` days; baseline vs scenario."""
    for name, value, top in (("providers", providers, MAX_SYNTHETIC_PROVIDERS), ("leads", leads, MAX_SYNTHETIC_LEADS),
                             ("days", days, 366)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ValidationFailed.for_field(name, f"Must be a whole number from 1 to {top:,}.")

    def prepare() -> Prepared:
        return_rate = _observed_return_rate(Assignment.objects.all())
        market_mod.market_isolate()
        market = market_mod.market_build(market_mod.MarketSpec(providers=providers, leads=leads, seed=seed,
                                                               days=days))
        events = [Event(at=at, order=i, lead_id=lead_id, key=i)
                  for i, (lead_id, at) in enumerate(zip(market.lead_ids, market.lead_times, strict=True))]
        events += [Event(at=d.at, order=len(events) + i, provider_id=d.provider_id, amount_cents=d.amount_cents,
                         ledger_key=d.key) for i, d in enumerate(market.deposits)]
        events.sort(key=lambda e: (e.at, e.order))
        return Prepared(start=market.start, end=market.end, events=events, provider_ids=market.provider_ids,
                        labels=market.labels, return_rate=return_rate,
                        meta={"providers": providers, "leads": leads, "seed": seed, "days": days})

    return _simulate(prepare, scenario, progress=progress)


def simulate_replay(*, start: datetime, end: datetime, scenario: Any = None,
                    progress: Progress | None = None) -> SimulationResult:
    """The leads approved in [start, end) offered again to the market as it stood at `start`; baseline vs scenario."""
    if end <= start:
        raise ValidationFailed.for_field("to", "The range must end after it starts.")

    def prepare() -> Prepared:
        history = replay_mod.history_read(start=start, end=end)
        copies = replay_mod.state_rewind(history)
        events = [Event(at=run.at, order=i, lead_id=copies[run.original_id], key=run.original_id,
                        trigger=run.trigger) for i, run in enumerate(history.runs)]
        events += [Event(at=m.at, order=len(events) + i, provider_id=m.provider_id, amount_cents=m.amount_cents,
                         kind=m.kind, ledger_key=f"replay:{m.entry_id}") for i, m in enumerate(history.ledger)]
        events += [Event(at=s.at, order=len(events) + i, subscription=s)
                   for i, s in enumerate(history.new_subscriptions)]
        events.sort(key=lambda e: (e.at, e.order))
        provider_ids = list(Provider.objects.order_by("id").values_list("id", flat=True))
        labels = {pk: f"{name} (#{pk})" for pk, name in Provider.objects.values_list("id", "company_name")}
        rate = history.refunded / history.assignments if history.assignments else 0.0
        return Prepared(start=start, end=end, events=events, provider_ids=provider_ids, labels=labels,
                        return_rate=rate, meta={"from": start.isoformat(), "to": end.isoformat()})

    return _simulate(prepare, scenario, progress=progress)
