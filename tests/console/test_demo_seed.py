"""`manage.py demo_seed`: the demo data scripts/run loads, and loading it twice changes nothing."""
from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from hotlead.accounts.models import User
from hotlead.billing.models import Account
from hotlead.billing.selectors import ledger_sum
from hotlead.demo.management.commands.demo_seed import DEMO_PASSWORD, DEMO_STAFF_EMAIL
from hotlead.leads.models import Lead
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.providers.models import Provider

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, int]:
    """Row counts of every project model, plus money."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in {"accounts", "leads", "providers", "levels", "billing", "distribution",
                                     "refunds", "core", "notifications"}
    }
    counts["balances"] = sum(Account.objects.values_list("balance_cents", flat=True))
    return counts


def seed() -> str:
    out = StringIO()
    call_command("demo_seed", stdout=out)
    return out.getvalue()


def test_demo_seed_creates_a_working_marketplace():
    seed()
    staff = User.objects.get(email=DEMO_STAFF_EMAIL)
    assert staff.is_ops_staff and staff.check_password(DEMO_PASSWORD)
    assert not staff.totpdevice_set.exists()  # MFA is enrolled on first login
    assert list(CompetitionLevel.objects.values_list("slug", "rank", "price_cents", "max_recipients")) == [
        ("exclusive", 1, 12_000, 1), ("semi-exclusive", 2, 6_000, 3), ("shared", 3, 2_500, 5),
    ]
    providers = Provider.objects.all()
    assert providers.count() == 4 and all(p.status == "active" for p in providers)
    for provider in providers:
        assert provider.account.balance_cents == ledger_sum(provider_id=provider.pk)
        assert provider.service_areas.exists() and provider.categories.exists()
    assert Subscription.objects.filter(status="inactive_funds").count() == 1  # the underfunded one
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert {"pending_verification", "verified", "pending_review", "rejected", "distributed"} <= statuses
    assert Lead.objects.filter(status="distributed", assignments__isnull=False).exists()


def test_demo_seed_twice_changes_nothing():
    first_output = seed()
    before = snapshot()
    second_output = seed()
    assert snapshot() == before
    assert "created" in first_output and "nothing changed" in second_output
