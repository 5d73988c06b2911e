"""Reads for the console's provider page: everything about one provider in one place, each part a few rows
with the total, read off indexes (a provider page costs the same with 10 or 10 million leads in the system)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from hotlead.billing.models import Account, LedgerEntry
from hotlead.core.models import AuditLog
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.models import Assignment
from hotlead.distribution.selectors.plain import MISSED_RUNS_SCANNED, provider_missed_for_funds
from hotlead.levels.models import Subscription
from hotlead.refunds.models import BadLeadReport

SHOWN = 10
RATE_WINDOW_DEFAULT = 50


@dataclass(frozen=True)
class Rate:
    """`hits` of the provider's last `of` assignments (at most `window`)."""

    hits: int
    of: int
    window: int

    @property
    def percent_text(self) -> str:
        if not self.of:
            return "no leads yet"
        return f"{self.hits * 100 / self.of:.1f}% ({self.hits} of the last {self.of} leads)"


@dataclass
class ProviderOverview:
    provider_id: int
    balance_cents: int
    currency: str
    ledger: list = field(default_factory=list)
    subscriptions: list = field(default_factory=list)
    subscriptions_total: int = 0
    purchases: list = field(default_factory=list)
    purchases_total: int = 0
    reports: list = field(default_factory=list)
    reports_total: int = 0
    return_rate: Rate | None = None
    reject_rate: Rate | None = None
    return_rate_max_percent: int = 20
    missed_total: int = 0
    missed: list = field(default_factory=list)
    missed_scanned: int = 0
    audit: list = field(default_factory=list)


def provider_overview(*, provider_id: int, shown: int = SHOWN) -> ProviderOverview:
    account = Account.objects.filter(provider_id=provider_id).values_list("balance_cents", "currency").first()
    balance, currency = account or (0, settings.HOTLEAD["CURRENCY"])
    overview = ProviderOverview(provider_id=provider_id, balance_cents=balance, currency=currency)
    overview.ledger = list(LedgerEntry.objects.filter(account_id=provider_id).select_related("actor")
                           .order_by("-created_at", "-id")[:shown])
    subs = Subscription.objects.filter(provider_id=provider_id)
    overview.subscriptions = list(subs.select_related("level").order_by("level__rank", "id")[:shown])
    overview.subscriptions_total = len(overview.subscriptions) if len(overview.subscriptions) < shown \
        else subs.count()
    purchases = Assignment.objects.filter(provider_id=provider_id)
    overview.purchases = list(purchases.select_related("lead", "level", "category")
                              .order_by("-assigned_at", "-id")[:shown])
    overview.purchases_total = len(overview.purchases) if len(overview.purchases) < shown else purchases.count()
    reports = BadLeadReport.objects.filter(provider_id=provider_id)
    overview.reports = list(reports.select_related("assignment__lead").order_by("-created_at", "-id")[:shown])
    overview.reports_total = len(overview.reports) if len(overview.reports) < shown else reports.count()

    # return and reject rates over the same window of latest assignments (the refunds rule's window)
    window = int(settings.HOTLEAD.get("RETURN_RATE_WINDOW", RATE_WINDOW_DEFAULT))
    overview.return_rate_max_percent = int(settings.HOTLEAD.get("RETURN_RATE_MAX_PERCENT", 20))
    last = purchases.order_by("-assigned_at", "-id").values("id")[:window]
    figures = Assignment.objects.filter(id__in=last).aggregate(
        n=Count("id"), reports=Count("bad_lead_report"),
        rejected=Count("id", filter=Q(status=AssignmentStatus.REJECTED)))
    overview.return_rate = Rate(hits=figures["reports"], of=figures["n"], window=window)
    overview.reject_rate = Rate(hits=figures["rejected"], of=figures["n"], window=window)

    overview.missed_total, overview.missed = provider_missed_for_funds(provider_id=provider_id, limit=shown)
    overview.missed_scanned = MISSED_RUNS_SCANNED
    overview.audit = list(AuditLog.objects.filter(
        Q(object_type="providers.provider") | Q(object_type="billing.account"), object_id=str(provider_id))
        .order_by("-created_at", "-id")[:shown])
    return overview
