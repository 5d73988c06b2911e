"""Brief caching of report figures (SPEC §10), in Django's cache (database, or Redis when REDIS_URL is set).

Every key carries its audience: "admin" for staff-wide figures, "provider:<id>" for one provider's own,
so one provider's figures can never be served to another (or an admin's to a provider).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

KEY_VERSION = 1


def report_cache_seconds() -> int:
    return int(settings.HOTLEAD.get("REPORT_CACHE_SECONDS", 60))


def cache_key(*, audience: str, report: str, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return f"reports:v{KEY_VERSION}:{audience}:{report}:{digest}"


def cached_report(*, audience: str, report: str, params: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """The cached value of `compute()` for this audience, report and parameters."""
    if not audience or audience == "provider:None":
        raise ValueError("A report cache key needs an audience.")
    seconds = report_cache_seconds()
    if seconds <= 0:
        return compute()
    key = cache_key(audience=audience, report=report, params=params)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value
