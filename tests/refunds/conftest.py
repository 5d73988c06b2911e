"""Helpers of the bad-lead tests: a sold lead, the rule switches, the books check."""
from __future__ import annotations

import pytest

from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule


def assert_books_balance(*providers) -> None:
    """Every provider's cached balance equals the sum of its ledger."""
    for provider in providers:
        assert balance_cents(provider_id=provider.pk) == ledger_sum(provider_id=provider.pk), provider


@pytest.fixture
def rules(db) -> dict[str, AutoApprovalRule]:
    """The three rules, switched on (transactional tests flush the seeded rows)."""
    return {
        code: AutoApprovalRule.objects.update_or_create(code=code, defaults={"enabled": True})[0]
        for code in AutoRule.values
    }


def report_url(assignment_id: int) -> str:
    return f"/api/v1/provider/leads/{assignment_id}/bad-lead"


def api_post(client, url: str, headers: dict | None = None, data: dict | None = None):
    """POST a JSON body (an empty object unless `data`) the way an API client does."""
    return client.post(url, data or {}, content_type="application/json", **(headers or {}))
