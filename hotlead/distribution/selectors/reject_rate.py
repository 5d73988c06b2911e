"""A provider's reject rate (SPEC §6 "flagged providers"): rejections on its last N assignments, over N.

Like the return rate (`hotlead.refunds.selectors.ReturnRate`) the denominator is the window itself, so a new
provider's first rejection is 1 of 50, not 1 of 1. Window and maximum are settings:
HOTLEAD["REJECT_RATE_WINDOW"] (default 50) and HOTLEAD["REJECT_RATE_MAX_PERCENT"] (default 40).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q

from hotlead.core.rates import window_over_cap, window_percent
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.models import Assignment


@dataclass(frozen=True)
class RejectRate:
    rejects: int
    assignments: int
    window: int
    max_percent: int

    @property
    def percent(self) -> Decimal:
        return window_percent(self.rejects, self.window)

    @property
    def over_cap(self) -> bool:
        return window_over_cap(self.rejects, self.window, self.max_percent)


def reject_rate_policy() -> tuple[int, int]:
    return (int(settings.HOTLEAD.get("REJECT_RATE_WINDOW", 50)),
            int(settings.HOTLEAD.get("REJECT_RATE_MAX_PERCENT", 40)))


def reject_rate_for_provider(*, provider_id: int) -> RejectRate:
    window, max_percent = reject_rate_policy()
    last_ids = Assignment.objects.filter(provider_id=provider_id).order_by("-assigned_at", "-id").values("id")[:window]
    figures = Assignment.objects.filter(id__in=last_ids).aggregate(
        assignments=Count("id"),
        rejects=Count("id", filter=Q(status=AssignmentStatus.REJECTED) | Q(rejected_at__isnull=False)),
    )
    return RejectRate(rejects=figures["rejects"], assignments=figures["assignments"], window=window,
                      max_percent=max_percent)
