"""Demo data for `scripts/run`: a staff user, categories, levels, funded providers, leads in every state.

Idempotent: every object has a natural key (slug, e-mail, idempotency key) and is only created when
missing, so running it twice changes nothing. Money moves through the ledger (`deposit_post`), the
levels, subscriptions, service areas, approvals, rejections and sales through the domain services.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from hotlead.accounts.models import Role, User
from hotlead.billing.models import LedgerEntry
from hotlead.billing.services.ledger import deposit_post
from hotlead.core.money import money_format
from hotlead.demo.market import demo_market_seed
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.enums import LeadStatus, Timeline
from hotlead.leads.models import Category, Lead
from hotlead.leads.services.lifecycle import lead_approve, lead_reject
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.levels import level_create
from hotlead.levels.services.subscriptions import subscription_create
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from hotlead.providers.services import provider_service_areas_set

DEMO_PASSWORD = "hotlead-demo-2026"
DEMO_STAFF_EMAIL = "admin@hotlead.local"

CATEGORIES = [
    ("roofing", "Roofing"),
    ("plumbing", "Plumbing"),
    ("electrical", "Electrical"),
    ("hvac", "Heating & cooling"),
    ("landscaping", "Landscaping"),
]

# SPEC §2: Exclusive ($120, 1), Semi-exclusive ($60, 3), Shared ($25, 5)
LEVELS = [
    ("Exclusive", "exclusive", 1, 12_000, 1),
    ("Semi-exclusive", "semi-exclusive", 2, 6_000, 3),
    ("Shared", "shared", 3, 2_500, 5),
]


@dataclass(frozen=True)
class DemoProvider:
    email: str
    company: str
    contact: str
    phone: str
    categories: list[str]
    postal_codes: list[str]
    prefixes: list[str]
    deposit_cents: int
    levels: list[str] = field(default_factory=list)


PROVIDERS = [
    DemoProvider("roofs@demo.hotlead.local", "Bay Roofing Co.", "Sam Ortiz", "+14155550101",
                 ["roofing"], ["94110", "94112"], ["941"], 60_000, ["exclusive", "shared"]),
    DemoProvider("pipes@demo.hotlead.local", "Mission Plumbing & Heat", "Ana Lee", "+14155550102",
                 ["plumbing", "hvac"], [], ["941", "940"], 40_000, ["semi-exclusive", "shared"]),
    DemoProvider("sparks@demo.hotlead.local", "Golden Gate Electric", "Ravi Patel", "+14155550103",
                 ["electrical", "roofing"], [], ["94"], 25_000, ["semi-exclusive", "shared"]),
    # funded below every price: its subscription shows as inactive_funds until a deposit
    DemoProvider("green@demo.hotlead.local", "Sunset Landscaping", "Jo Kim", "+14155550104",
                 ["landscaping"], ["94122"], [], 1_000, ["shared"]),
]


@dataclass(frozen=True)
class DemoLead:
    key: str
    name: str
    category: str
    postal_code: str
    description: str
    outcome: str  # a LeadStatus the seed drives the lead to (distributed/unsold come from the engine)
    budget_cents: int | None = None
    timeline: str = Timeline.FLEXIBLE


LEADS = [
    DemoLead("01", "Chris Doe", "roofing", "94110", "Leak over the kitchen after the last storm.", "approved",
             150_000, Timeline.ASAP),
    DemoLead("02", "Dana Roe", "plumbing", "94103", "Water heater is 15 years old and leaking.", "approved",
             200_000, Timeline.WITHIN_MONTH),
    DemoLead("03", "Eli Moss", "electrical", "94612", "Panel upgrade to 200A for an EV charger.", "approved",
             350_000, Timeline.WITHIN_MONTH),
    DemoLead("04", "Fay Wu", "landscaping", "94122", "Replace the lawn with drought-tolerant plants.", "approved"),
    DemoLead("05", "Gus Hale", "roofing", "94117", "Two missing shingles, small job.", "pending_review", 40_000),
    DemoLead("06", "Hana Ito", "hvac", "94110", "Furnace makes a banging noise when it starts.", "pending_review"),
    DemoLead("07", "Ivan Cruz", "plumbing", "94110", "Kitchen sink drains slowly.", "pending_review"),
    DemoLead("08", "Jude Fox", "roofing", "10001", "BUY CHEAP FOLLOWERS NOW", "rejected"),
    DemoLead("09", "Kai Lund", "electrical", "94110", "Add four outdoor outlets.", "pending_verification"),
    DemoLead("10", "Lia Stone", "plumbing", "94109", "Bathroom remodel, new fixtures.", "verified"),
]


def lead_email(key: str) -> str:
    return f"demo-lead-{key}@example.org"


class Command(BaseCommand):
    help = "Create demo data (idempotent): staff user, categories, levels, funded providers, leads."

    def add_arguments(self, parser):
        parser.add_argument("--market", choices=["synthetic"], default=None,
                            help="Also seed weeks of history from a small synthetic market "
                                 "(or set HOTLEAD_DEMO_MARKET=synthetic).")

    def handle(self, *args, **options):
        created: list[str] = []
        staff = self._staff(created)
        categories = self._categories(created)
        self._levels(staff, created)
        synthetic = (options.get("market") or os.environ.get("HOTLEAD_DEMO_MARKET", "")) == "synthetic"
        # first: its weeks of history happened before today's demo providers and leads
        if synthetic and (sold := demo_market_seed()):
            created.append(f"synthetic market: {sold} leads over the last weeks")
        for spec in PROVIDERS:
            self._provider(spec, categories, staff, created)
        for spec in LEADS:
            self._lead(spec, categories, staff, created)
        if created:
            self.stdout.write(self.style.SUCCESS(f"demo data: created {len(created)} objects"))
            for line in created:
                self.stdout.write(f"  + {line}")
        else:
            self.stdout.write("demo data: already present, nothing changed")

    # --- pieces -----------------------------------------------------------------------------

    def _staff(self, created: list[str]) -> User:
        staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
        if staff is None:
            staff = User.objects.create_superuser(DEMO_STAFF_EMAIL, DEMO_PASSWORD, full_name="Demo Admin")
            created.append(f"staff user {DEMO_STAFF_EMAIL}")
        return staff

    def _categories(self, created: list[str]) -> dict[str, Category]:
        result = {}
        for slug, name in CATEGORIES:
            category, was_created = Category.objects.get_or_create(slug=slug, defaults={"name": name})
            if was_created:
                created.append(f"category {slug}")
            result[slug] = category
        return result

    @transaction.atomic
    def _levels(self, staff: User, created: list[str]) -> None:
        for name, slug, rank, price_cents, max_recipients in LEVELS:
            if CompetitionLevel.objects.filter(slug=slug).exists():
                continue
            level_create(name=name, slug=slug, rank=rank, price_cents=price_cents, max_recipients=max_recipients,
                         actor=staff)
            created.append(f"level {slug}")

    @transaction.atomic
    def _provider(self, spec: DemoProvider, categories: dict[str, Category], staff: User,
                  created: list[str]) -> Provider:
        provider = Provider.objects.filter(user__email=spec.email).first()
        if provider is None:
            user = User.objects.create_user(spec.email, DEMO_PASSWORD, role=Role.PROVIDER, full_name=spec.contact)
            provider = Provider.objects.create(
                user=user, company_name=spec.company, contact_name=spec.contact, phone=spec.phone,
                timezone="America/Los_Angeles", status=ProviderStatus.ACTIVE, email_verified_at=timezone.now(),
            )
            provider.categories.set([categories[slug] for slug in spec.categories])
            provider_service_areas_set(provider_id=provider.pk, postal_codes=spec.postal_codes,
                                       prefixes=spec.prefixes, actor=staff)
            created.append(f"provider {spec.company}")
        entry_key = f"demo-seed:deposit:{spec.email}"

        if not LedgerEntry.objects.filter(idempotency_key=entry_key).exists():
            deposit_post(provider_id=provider.pk, amount_cents=spec.deposit_cents, key=entry_key, actor=staff,
                         memo="Demo opening deposit", reference="demo")
            created.append(f"deposit {money_format(spec.deposit_cents)} for {spec.company}")
        for level_slug in spec.levels:
            live = Subscription.objects.filter(provider=provider, level__slug=level_slug).exclude(
                status=SubscriptionStatus.CANCELLED)
            if not live.exists():
                subscription_create(provider=provider, level=level_slug, actor=staff)
                created.append(f"subscription {spec.company} @ {level_slug}")
        return provider

    def _lead(self, spec: DemoLead, categories: dict[str, Category], staff: User, created: list[str]) -> None:
        email = lead_email(spec.key)
        if Lead.objects.filter(email=email).exists():
            return
        now = timezone.now()
        in_review = spec.outcome not in (LeadStatus.PENDING_VERIFICATION, LeadStatus.VERIFIED)
        with transaction.atomic():
            lead = Lead.objects.create(
                name=spec.name, email=email, phone=f"+1415555{int(spec.key):04d}", postal_code=spec.postal_code,
                category=categories[spec.category], description=spec.description, budget_cents=spec.budget_cents,
                timeline=spec.timeline, consent_text_version="2026-01", consent_at=now - timedelta(minutes=30),
                consent_ip="127.0.0.1", consent_user_agent="demo_seed", source="demo", utm_source="demo",
                status=LeadStatus.PENDING_REVIEW if in_review else spec.outcome,
                status_changed_at=now,
                verified_at=now if spec.outcome != LeadStatus.PENDING_VERIFICATION else None,
                confirmed_at=now if in_review else None,
            )
            if spec.outcome == LeadStatus.APPROVED:
                lead_approve(lead_id=lead.pk, actor=staff, note="demo")
            elif spec.outcome == LeadStatus.REJECTED:
                lead_reject(lead_id=lead.pk, actor=staff, reason="spam", note="demo")
        if spec.outcome == LeadStatus.APPROVED:
            # sell it now so the demo opens with assignments; the queued job then finds nothing to do
            lead_distribute(lead_id=lead.pk, trigger=RunTrigger.APPROVAL)
        lead.refresh_from_db()
        created.append(f"lead {spec.key} ({lead.status})")
