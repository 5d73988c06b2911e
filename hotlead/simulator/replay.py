"""Replay a date range: put the market back as it stood at the range's start, then offer the range's leads again.

Runs only inside the simulator's rolled-back transaction. What is reconstructed, and from what:
- balances: every account's ledger summed up to the start — a charge counts at its sale time (the assignment's
  `assigned_at`, the engine's clock), every other entry at its `created_at`; then the subscriptions are matched
  to those balances by the real funds sync (inactive_funds / active);
- caps and "last served": the assignments made from the start on are removed (so they count neither against
  a cap nor as an earlier sale), and each subscription's last-served time is its latest remaining sale;
- the levels' rotation cursors: the last provider served at each level before the start (from the run traces);
- what happened during the range besides sales — deposits, refunds, adjustments — is replayed at its time
  through the billing services (a deposit reactivates subscriptions there as it did here);
- the leads: a copy of each lead approved in the range, offered at the times its runs were made (the first at
  approval when it never ran), with their triggers.
Providers, areas, categories, filters, caps, schedules and level settings are as they are now (their changes
are not versioned); a change made inside the range makes the replay differ from history there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Max, OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from hotlead.billing.models import Account, LedgerEntry
from hotlead.distribution.enums import AssignmentStatus, RunTrigger
from hotlead.distribution.models import Assignment, DistributionRun, LevelCursor
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.funds import subscriptions_sync_funds
from hotlead.refunds.models import BadLeadReport


@dataclass(frozen=True)
class LeadRun:
    at: datetime
    original_id: int
    trigger: str
    order: int


@dataclass(frozen=True)
class LedgerEvent:
    at: datetime
    provider_id: int
    amount_cents: int
    kind: str
    entry_id: int


@dataclass(frozen=True)
class SubscriptionEvent:
    """A subscription created during the range: absent (cancelled) until then, its own status from then on."""

    at: datetime
    subscription_id: int
    provider_id: int
    status: str


@dataclass
class History:
    """What the range holds, read before anything is changed."""

    start: datetime
    end: datetime
    lead_ids: list[int]  # the range's leads, in approval order
    runs: list[LeadRun]
    ledger: list[LedgerEvent]
    opening_balances: dict[int, int]
    assignments: int
    refunded: int
    new_subscriptions: list[SubscriptionEvent]
    later_subscriptions: list[int]  # created after the range: never part of it


def _run_time(run: dict) -> datetime | None:
    at = (run["trace"] or {}).get("at")
    return parse_datetime(at) if at else None


def history_read(*, start: datetime, end: datetime) -> History:
    """The range's leads and runs, its non-sale ledger movements and the balances at its start."""
    leads = list(Lead.objects.filter(approved_at__gte=start, approved_at__lt=end)
                 .order_by("approved_at", "id").values_list("id", "approved_at"))
    lead_ids = [pk for pk, _ in leads]
    runs: list[LeadRun] = []
    ran: set[int] = set()
    order = 0
    for run in DistributionRun.objects.filter(lead_id__in=lead_ids).order_by("id").values("lead_id", "trigger",
                                                                                         "trace"):
        at = _run_time(run)
        if at is None or not (start <= at < end):
            continue
        runs.append(LeadRun(at=at, original_id=run["lead_id"], trigger=run["trigger"], order=order))
        ran.add(run["lead_id"])
        order += 1
    for pk, approved_at in leads:  # approved, never run (still queued): offered at approval
        if pk not in ran:
            runs.append(LeadRun(at=approved_at, original_id=pk, trigger=RunTrigger.APPROVAL, order=order))
            order += 1
    runs.sort(key=lambda r: (r.at, r.order))
    asg, ledger = Assignment._meta.db_table, LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.account_id, COALESCE(SUM(e.amount_cents), 0) FROM {ledger} e "  # noqa: S608 - table names
            f"LEFT JOIN {asg} a ON a.charge_entry_id = e.id "
            f"WHERE COALESCE(a.assigned_at, e.created_at) < %s GROUP BY e.account_id", [start])
        opening = {account_id: int(total) for account_id, total in cursor.fetchall()}
    movements = [
        LedgerEvent(at=created_at, provider_id=account_id, amount_cents=amount, kind=kind, entry_id=pk)
        for pk, account_id, amount, kind, created_at in
        LedgerEntry.objects.filter(created_at__gte=start, created_at__lt=end, assignment__isnull=True)
        .exclude(kind="charge").order_by("created_at", "id")
        .values_list("id", "account_id", "amount_cents", "kind", "created_at")
    ]
    real = Assignment.objects.filter(lead_id__in=lead_ids)
    new = [SubscriptionEvent(at=created_at, subscription_id=pk, provider_id=provider_id, status=status)
           for pk, provider_id, status, created_at in
           Subscription.objects.filter(created_at__gte=start, created_at__lt=end)
           .exclude(status=SubscriptionStatus.CANCELLED).order_by("created_at", "id")
           .values_list("id", "provider_id", "status", "created_at")]
    later = list(Subscription.objects.filter(created_at__gte=end).values_list("id", flat=True))
    return History(start=start, end=end, lead_ids=lead_ids, runs=runs, ledger=movements, opening_balances=opening,
                   assignments=real.count(), refunded=real.filter(status=AssignmentStatus.REFUNDED).count(),
                   new_subscriptions=new, later_subscriptions=later)


def subscription_appear(event: SubscriptionEvent) -> None:
    """A subscription created during the range takes effect at its creation time (then matched to funds)."""
    Subscription.objects.filter(pk=event.subscription_id).update(status=event.status)
    subscriptions_sync_funds(provider_id=event.provider_id)


def _cursor_at_start(level_id: int, start: datetime) -> int:
    last = (Assignment.objects.filter(level_id=level_id, assigned_at__lt=start)
            .order_by("-assigned_at", "-id").values("lead_id", "provider_id", "assigned_at").first())
    if last is None:
        return 0
    at = last["assigned_at"]
    for run in DistributionRun.objects.filter(lead_id=last["lead_id"]).order_by("-id").values("trace"):
        trace = run["trace"] or {}
        if _run_time(run) == at and trace.get("levels"):
            chosen = trace["levels"][-1].get("chosen") or []
            if chosen:
                return int(chosen[-1])
    return last["provider_id"]


def state_rewind(history: History) -> dict[int, int]:
    """Put the market back to the range's start. Returns {original lead id: copy's id}, copies not yet run."""
    start = history.start
    cursors = {level_id: _cursor_at_start(level_id, start)
               for level_id in CompetitionLevel.objects.values_list("id", flat=True)}
    future = Assignment.objects.filter(assigned_at__gte=start)
    BadLeadReport.objects.filter(assignment__in=future).delete()
    future.delete()
    LevelCursor.objects.all().delete()
    LevelCursor.objects.bulk_create([LevelCursor(level_id=level_id, last_provider_id=provider_id)
                                     for level_id, provider_id in cursors.items() if provider_id])
    latest = (Assignment.objects.filter(subscription_id=OuterRef("pk")).values("subscription_id")
              .annotate(at=Max("assigned_at")).values("at"))
    Subscription.objects.update(last_served_at=Subquery(latest))
    not_yet = [e.subscription_id for e in history.new_subscriptions] + history.later_subscriptions
    Subscription.objects.filter(pk__in=not_yet).update(status=SubscriptionStatus.CANCELLED)
    for provider_id, balance in Account.objects.values_list("provider_id", "balance_cents"):
        opening = history.opening_balances.get(provider_id, 0)
        if opening != balance:
            Account.objects.filter(provider_id=provider_id).update(balance_cents=max(opening, 0))
    providers = Subscription.objects.exclude(status=SubscriptionStatus.CANCELLED) \
        .values_list("provider_id", flat=True).distinct()
    for provider_id in sorted(set(providers)):
        subscriptions_sync_funds(provider_id=provider_id)
    first_trigger: dict[int, str] = {}
    for run in history.runs:
        first_trigger.setdefault(run.original_id, run.trigger)
    originals = list(Lead.objects.filter(pk__in=history.lead_ids).order_by("approved_at", "id"))
    skip = {"id", "public_id", "reference"}
    copies = []
    for index, lead in enumerate(originals):
        values = {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields if f.attname not in skip}
        values.update(status=(LeadStatus.UNSOLD if first_trigger.get(lead.pk) == RunTrigger.SCHEDULE
                              else LeadStatus.APPROVED),
                      buyers_count=0, distributed_at=None, duplicate_of_id=None,
                      reference=f"SIM-{index:08d}")  # unique, never an HL- reference (rolled back anyway)
        copies.append(Lead(**values))
    Lead.objects.bulk_create(copies)
    for lead, copy in zip(originals, copies, strict=True):  # keep the submission time (freshness counts from it)
        copy.created_at = lead.created_at
    Lead.objects.bulk_update(copies, ["created_at"], batch_size=1000)
    return {lead.pk: copy.pk for lead, copy in zip(originals, copies, strict=True)}
