"""A seeded synthetic market for the what-if simulator (and the demo's history): providers, areas, deposits,
subscriptions, and approved leads arriving by hour of day. Same seed, same market.

Set-based: a thousand providers are a handful of bulk inserts, not a thousand service calls. Balances are
deposits in the ledger (the cached balance equals the ledger sum, as everywhere else).
"""
from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import F

from hotlead.accounts.models import Role, User
from hotlead.billing.models import Account, LedgerEntry
from hotlead.distribution.models import LevelCursor
from hotlead.leads.enums import LeadStatus, Timeline
from hotlead.leads.models import Category, Lead
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.providers.enums import AreaKind, ProviderStatus
from hotlead.providers.models import Provider, ServiceArea

CATEGORIES = [("roofing", "Roofing"), ("plumbing", "Plumbing"), ("electrical", "Electrical"),
              ("hvac", "Heating & cooling"), ("landscaping", "Landscaping")]
# SPEC §2's example levels, used when the database has no live level
DEFAULT_LEVELS = [("Exclusive", "exclusive", 1, 12_000, 1), ("Semi-exclusive", "semi-exclusive", 2, 6_000, 3),
                  ("Shared", "shared", 3, 2_500, 5)]
REGIONS = ["940", "941", "945", "946", "947", "950", "951", "100", "112", "606"]
TIMEZONES = ["America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York"]
# leads per hour of day (UTC), a working-day curve: few at night, most around midday in the Americas
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 9, 9, 8, 7, 6, 4, 3]
DEPOSIT_SIZES = [5_000, 20_000, 60_000, 150_000, 400_000]
BUDGETS = [None, 20_000, 100_000, 500_000]
SOURCES = ["web", "web", "web", "api", "partner"]
DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: simulated time, fixed so a seed is a market


@dataclass(frozen=True)
class MarketSpec:
    providers: int
    leads: int
    seed: int
    days: int = 14
    start: datetime = DEFAULT_START
    tag: str = "sim"  # e-mails and ledger keys carry it: two markets never collide
    top_ups: bool = True  # four in ten providers top up weekly (events the caller applies at their times)


@dataclass(frozen=True)
class DepositEvent:
    at: datetime
    provider_id: int
    amount_cents: int
    key: str


@dataclass
class Market:
    start: datetime
    end: datetime
    provider_ids: list[int]
    labels: dict[int, str]  # provider id → a stable name (ids differ between runs, names do not)
    lead_ids: list[int]  # in arrival order
    lead_times: list[datetime]
    deposits: list[DepositEvent] = field(default_factory=list)


def levels_ensure() -> list[CompetitionLevel]:
    """The live levels; SPEC §2's three when there are none (a fresh database)."""
    levels = list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank", "id"))
    if levels:
        return levels
    return CompetitionLevel.objects.bulk_create([
        CompetitionLevel(name=name, slug=slug, rank=rank, price_cents=price, max_recipients=max_recipients)
        for name, slug, rank, price, max_recipients in DEFAULT_LEVELS])


def market_isolate() -> None:
    """Take the real providers out of the market (inside the simulation's rolled-back transaction only)."""
    Subscription.objects.exclude(status=SubscriptionStatus.CANCELLED).update(status=SubscriptionStatus.CANCELLED)
    LevelCursor.objects.all().delete()


def _arrivals(rng: random.Random, spec: MarketSpec) -> list[datetime]:
    hours = list(range(24))
    times = []
    for _ in range(spec.leads):
        day = rng.randrange(spec.days)
        hour = rng.choices(hours, weights=HOUR_WEIGHTS)[0]
        times.append(spec.start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600)))
    return sorted(times)


def _entries_insert(entries: list[LedgerEntry], *, at: datetime) -> None:
    """The opening deposits, dated when the market opens (a replay of its history sums the ledger by date);
    the ORM would stamp them with the wall clock, and the ledger cannot be updated afterwards."""
    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (account_id, kind, amount_cents, balance_after_cents, idempotency_key, "  # noqa: S608
            "memo, reference, related_type, related_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, '', '', '', %s)",
            [(e.account_id, e.kind, e.amount_cents, e.balance_after_cents, e.idempotency_key, e.memo, at)
             for e in entries])


def market_build(spec: MarketSpec) -> Market:
    """Create the market's rows (call inside a transaction). Deterministic for spec.seed."""
    rng = random.Random(spec.seed)
    tag = f"{spec.tag}{spec.seed}"
    categories = {c.slug: c for c in Category.objects.filter(slug__in=[slug for slug, _ in CATEGORIES])}
    missing = [Category(slug=slug, name=name) for slug, name in CATEGORIES if slug not in categories]
    for category in Category.objects.bulk_create(missing):
        categories[category.slug] = category
    category_list = [categories[slug] for slug, _ in CATEGORIES]
    levels = levels_ensure()
    password = make_password(None)
    users = User.objects.bulk_create([
        User(email=f"{tag}-pro{i:05d}@sim.hotlead.test", role=Role.PROVIDER, password=password)
        for i in range(spec.providers)])
    labels = {}
    providers = Provider.objects.bulk_create([
        Provider(user=user, company_name=f"Sim Pro {i + 1:04d}", contact_name="Simulated", phone="+14155550100",
                 timezone=rng.choice(TIMEZONES), status=ProviderStatus.ACTIVE, email_verified_at=spec.start,
                 notify_assignments="off")
        for i, user in enumerate(users)])
    through = Provider.categories.through
    links, areas, accounts, entries, subscriptions, deposits = [], [], [], [], [], []
    for provider in providers:
        labels[provider.pk] = provider.company_name
        for category in rng.sample(category_list, rng.choice([1, 1, 2, 3])):
            links.append(through(provider_id=provider.pk, category_id=category.pk))
        areas.append(ServiceArea(provider=provider, kind=AreaKind.PREFIX, value=rng.choice(REGIONS)))
        for _ in range(3):
            areas.append(ServiceArea(provider=provider, kind=AreaKind.CODE,
                                     value=f"{rng.choice(REGIONS)}{rng.randrange(100):02d}"))
        balance = rng.choice(DEPOSIT_SIZES)
        accounts.append(Account(provider=provider, balance_cents=balance))
        entries.append(LedgerEntry(account_id=provider.pk, kind="deposit", amount_cents=balance,
                                   balance_after_cents=balance, idempotency_key=f"{tag}:deposit:{provider.pk}:0",
                                   memo="Synthetic market: opening deposit"))
        if rng.random() < 0.4 and spec.top_ups:  # deposit behaviour: four in ten top up weekly with their usual amount
            for week in range(1, (spec.days + 6) // 7):
                deposits.append(DepositEvent(at=spec.start + timedelta(days=7 * week, hours=rng.randrange(8, 18)),
                                             provider_id=provider.pk, amount_cents=balance,
                                             key=f"{tag}:deposit:{provider.pk}:{week}"))
        for level, share in zip(levels, (0.3, 0.5, 0.7, 0.5, 0.5, 0.5), strict=False):
            if rng.random() > share:
                continue
            fields = {}
            roll = rng.random()
            if roll < 0.10:
                fields["filters"] = [{"field": "budget_cents", "op": "gte", "value": rng.choice([20_000, 100_000])}]
            elif roll < 0.18:
                fields["filters"] = [{"field": "timeline", "op": "in", "value": ["asap", "within_month"]}]
            if rng.random() < 0.2:
                fields["daily_cap"] = rng.choice([1, 2, 5])
            if rng.random() < 0.1:
                fields["monthly_budget_cents"] = rng.choice([25_000, 100_000])
            if rng.random() < 0.12:
                fields["schedule"] = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}
            status = SubscriptionStatus.PAUSED if rng.random() < 0.03 else SubscriptionStatus.ACTIVE
            if status == SubscriptionStatus.ACTIVE and balance < level.price_cents:
                status = SubscriptionStatus.INACTIVE_FUNDS
            subscriptions.append(Subscription(provider=provider, level=level, status=status, **fields))
    through.objects.bulk_create(links)
    ServiceArea.objects.bulk_create(areas, ignore_conflicts=True)
    Account.objects.bulk_create(accounts)
    _entries_insert(entries, at=spec.start)
    Subscription.objects.bulk_create(subscriptions)
    # the market opened at its start (a replay of its history takes a subscription created later as absent)
    Subscription.objects.filter(pk__in=[sub.pk for sub in subscriptions]).update(created_at=spec.start)
    Provider.objects.filter(pk__in=[p.pk for p in providers]).update(created_at=spec.start)
    times = _arrivals(rng, spec)
    leads = Lead.objects.bulk_create([
        Lead(name=f"Simulated submitter {i + 1}", email=f"{tag}-lead{i:06d}@sim.example", reference=_reference(tag, i),
             phone="+14155550111", postal_code=f"{rng.choice(REGIONS)}{rng.randrange(100):02d}",
             category=rng.choice(category_list), description="A synthetic lead of the what-if simulator.",
             budget_cents=rng.choice(BUDGETS), timeline=rng.choice(["", *Timeline.values]),
             source=rng.choice(SOURCES), consent_text_version="simulated", consent_at=at,
             status=LeadStatus.APPROVED, approved_at=at, status_changed_at=at)
        for i, at in enumerate(times)])
    lead_ids = [lead.pk for lead in leads]
    # TimeStampedModel stamps "now": the leads were submitted when they arrived
    Lead.objects.filter(pk__in=lead_ids).update(created_at=F("approved_at"), updated_at=F("approved_at"))
    end = spec.start + timedelta(days=spec.days)
    return Market(start=spec.start, end=end, provider_ids=[p.pk for p in providers], labels=labels,
                  lead_ids=lead_ids, lead_times=times, deposits=sorted(deposits, key=lambda d: (d.at, d.key)))


def _reference(tag: str, index: int) -> str:
    """A simulated lead's reference: unique by construction (random HL- ones collide in a 10,000-lead batch,
    ~2 expected), and never an HL- reference a real lead could have."""
    digest = base64.b32encode(hashlib.sha256(f"{tag}:{index}".encode()).digest()).decode()
    return "S" + digest[:11]
