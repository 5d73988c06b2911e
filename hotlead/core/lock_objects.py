"""Row locks of core's own tables (rate-limit overrides); the global order itself: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.core.models import RateLimitOverride


def rate_limit_override_lock_or_create(*, scope: str, rule: str) -> tuple[RateLimitOverride, bool]:
    """The scope's override, locked; created with `rule` when there is none (then True)."""
    lock_taken("rate_limit_override")
    return RateLimitOverride.objects.select_for_update().get_or_create(scope=scope, defaults={"rule": rule})


def rate_limit_override_lock(*, override_id: int) -> RateLimitOverride | None:
    lock_taken("rate_limit_override", override_id)
    return RateLimitOverride.objects.select_for_update().filter(pk=override_id).first()
