"""Fixed-window rate limits in the shared cache (every process sees the same counters)."""
from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from hotlead.core.exceptions import RateLimited


def _parse(rule: str) -> tuple[int, int]:
    count, seconds = rule.split("/")
    return int(count), int(seconds)


def rate_limit_hit(*, scope: str, key: str, rule: str | None = None) -> None:
    """Count one attempt for (scope, key); raise RateLimited with Retry-After when over the limit."""
    limit, window = _parse(rule or settings.HOTLEAD["RATE_LIMITS"][scope])
    now = int(time.time())
    window_start = now - now % window
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{window_start}"
    if cache.add(cache_key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 5)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=window_start + window - now)


def rate_limit_reset(*, scope: str, key: str, rule: str | None = None) -> None:
    _limit, window = _parse(rule or settings.HOTLEAD["RATE_LIMITS"][scope])
    now = int(time.time())
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache.delete(f"rl:{scope}:{digest}:{now - now % window}")


def client_ip(request) -> str:
    """The client address; X-Forwarded-For is trusted only from the configured proxy count."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and getattr(settings, "HOTLEAD_TRUST_X_FORWARDED_FOR", False):
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"
