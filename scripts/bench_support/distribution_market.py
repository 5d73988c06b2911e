"""The distribution benchmark's market (`scripts/bench distribution`): 1,000 providers, 3 levels, the leads.

Nothing here imports Django at module level: the benchmark sets up its environment first.
"""
from __future__ import annotations

import random

CATEGORIES = ["roofing", "plumbing", "electrical", "hvac", "painting", "landscaping", "flooring", "windows"]
REGIONS = [f"{n:03d}" for n in (100, 101, 112, 191, 200, 303, 331, 441, 481, 554,
                                606, 631, 752, 770, 802, 850, 900, 941, 972, 981)]
TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix"]
LEVELS = [("Exclusive", "exclusive", 1, 12_000, 1), ("Semi-exclusive", "semi-exclusive", 2, 6_000, 3),
          ("Shared", "shared", 3, 2_500, 5)]


def seed(args) -> list[int]:
    """1,000 providers, 3 levels, areas, filters, caps, schedules, balances; the leads to sell. Returns lead ids."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from hotlead.accounts.models import Role, User
    from hotlead.billing.models import Account, LedgerEntry
    from hotlead.leads.enums import LeadStatus, Timeline
    from hotlead.leads.models import Category, Lead
    from hotlead.levels.models import CompetitionLevel, Subscription
    from hotlead.providers.enums import AreaKind, ProviderStatus
    from hotlead.providers.models import Provider, ServiceArea

    rng = random.Random(args.seed)
    now = timezone.now()
    with transaction.atomic():
        categories = Category.objects.bulk_create(
            [Category(slug=slug, name=slug.title()) for slug in CATEGORIES])
        levels = CompetitionLevel.objects.bulk_create([
            CompetitionLevel(name=name, slug=slug, rank=rank, price_cents=price, max_recipients=max_recipients)
            for name, slug, rank, price, max_recipients in LEVELS])
        password = make_password(None)
        users = User.objects.bulk_create([
            User(email=f"pro{i}@bench.hotlead.test", role=Role.PROVIDER, password=password)
            for i in range(args.providers)])
        providers = Provider.objects.bulk_create([
            Provider(user=user, company_name=f"Bench Pro {i}", contact_name="Bench", phone="+14155550100",
                     timezone=rng.choice(TIMEZONES), status=ProviderStatus.ACTIVE, email_verified_at=now,
                     notify_assignments=rng.choice(["instant", "instant", "daily_digest", "off"]))
            for i, user in enumerate(users)])
        through = Provider.categories.through
        links, areas, accounts, deposits, subscriptions = [], [], [], [], []
        for provider in providers:
            for category in rng.sample(categories, rng.choice([1, 1, 2, 3])):
                links.append(through(provider_id=provider.pk, category_id=category.pk))
            home = rng.choice(REGIONS)
            areas.append(ServiceArea(provider=provider, kind=AreaKind.PREFIX, value=home))
            for _ in range(5):
                areas.append(ServiceArea(provider=provider, kind=AreaKind.CODE,
                                         value=f"{rng.choice(REGIONS)}{rng.randrange(100):02d}"))
            balance = rng.choice([3_000, 20_000, 60_000, 150_000, 400_000])
            accounts.append(Account(provider=provider, balance_cents=balance))
            deposits.append(LedgerEntry(account_id=provider.pk, kind="deposit", amount_cents=balance,
                                        balance_after_cents=balance, idempotency_key=f"bench-deposit:{provider.pk}"))
            for level, share in zip(levels, (0.25, 0.5, 0.7), strict=True):
                if rng.random() > share:
                    continue
                fields = {}
                roll = rng.random()
                if roll < 0.10:
                    fields["filters"] = [{"field": "budget_cents", "op": "gte", "value": rng.choice([5_000, 50_000])}]
                elif roll < 0.18:
                    fields["filters"] = [{"field": "timeline", "op": "in", "value": ["asap", "within_month"]}]
                elif roll < 0.22:
                    fields["filters"] = [{"field": "source", "op": "ne", "value": "partner"}]
                if rng.random() < 0.2:
                    fields["daily_cap"] = rng.choice([1, 2, 5])
                if rng.random() < 0.1:
                    fields["monthly_budget_cents"] = rng.choice([25_000, 100_000])
                if rng.random() < 0.12:
                    fields["schedule"] = {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}
                status = "paused" if rng.random() < 0.05 else "active"
                if status == "active" and balance < level.price_cents:
                    status = "inactive_funds"
                subscriptions.append(Subscription(provider=provider, level=level, status=status, **fields))
        through.objects.bulk_create(links)
        ServiceArea.objects.bulk_create(areas, ignore_conflicts=True)
        Account.objects.bulk_create(accounts)
        LedgerEntry.objects.bulk_create(deposits)
        Subscription.objects.bulk_create(subscriptions)
        leads = Lead.objects.bulk_create([
            Lead(name="Bench Submitter", email=f"submitter{i}@bench.example", phone="+14155550111",
                 reference=f"HL-B{i:07d}",  # unique by construction (random ones could collide in one batch)
                 postal_code=f"{rng.choice(REGIONS)}{rng.randrange(100):02d}", category=rng.choice(categories),
                 description="Benchmark lead.", budget_cents=rng.choice([None, 2_000, 10_000, 80_000]),
                 timeline=rng.choice(["", *Timeline.values]), source=rng.choice(["web", "web", "api", "partner"]),
                 consent_text_version="2026-01", consent_at=now, status=LeadStatus.APPROVED, approved_at=now)
            for i in range(args.leads + 20)])
    with connection_cursor() as cursor:
        cursor.execute("ANALYZE")
    return [lead.pk for lead in leads]


def connection_cursor():
    from django.db import connection

    return connection.cursor()
