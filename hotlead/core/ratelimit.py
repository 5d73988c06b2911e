"""Fixed-window rate limits that every process shares, counted atomically.

With Redis (REDIS_URL) the counters live in the cache, where INCR is atomic. Without it they live in
the `core_ratelimitcounter` table, counted by one upsert: the database cache cannot be used for this,
its `incr` reads then writes, so concurrent requests lose counts and a burst passes the limit many
times over. The count is written on the caller's connection: called inside a transaction that later
rolls back, the attempt is not counted — call it before opening one, or (lead intake) inside the
transaction whose commit is the attempt, counting refused attempts on their own.
"""
from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone

from hotlead.core.exceptions import RateLimited
from hotlead.core.models import RateLimitCounter, RateLimitOverride
from hotlead.core.origin import current_origin
from hotlead.core.rows import Gate

_UPSERT = (
    "INSERT INTO core_ratelimitcounter (key, count, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET count = core_ratelimitcounter.count + 1 RETURNING count"
)


RULE_RE = re.compile(r"^[1-9]\d{0,8}/[1-9]\d{0,7}$")
_overrides: dict = {"at": 0.0, "rules": {}}


def _parse(rule: str) -> tuple[int, int]:
    count, seconds = rule.split("/")
    return int(count), int(seconds)


def rate_limit_overrides_clear() -> None:
    """Forget this process's copy of the console overrides (after a change; others refresh within 10 s)."""
    _overrides["at"] = 0.0


def _console_overrides() -> dict[str, str]:
    now = time.monotonic()
    # Read at most every 10 s per process (tests: every time, so no override outlives its test).
    if now - _overrides["at"] >= getattr(settings, "HOTLEAD_RATE_LIMIT_OVERRIDES_TTL", 10):
        _overrides["rules"] = dict(RateLimitOverride.objects.values_list("scope", "rule"))
        _overrides["at"] = now
    return _overrides["rules"]


def rate_limit_rule(scope: str) -> str:
    """The rule in force: a console override, else HOTLEAD["RATE_LIMITS"] (settings + HOTLEAD_RATE_LIMITS)."""
    return _console_overrides().get(scope) or settings.HOTLEAD["RATE_LIMITS"][scope]


def _counter_key(scope: str, key: str, window_start: int) -> str:
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    return f"rl:{scope[:60]}:{digest}:{window_start}"


def _count_in_cache(counter_key: str, window: int) -> int:
    if cache.add(counter_key, 1, timeout=window + 5):
        return 1
    try:
        return cache.incr(counter_key)
    except ValueError:  # expired between add and incr
        cache.add(counter_key, 1, timeout=window + 5)
        return 1


def _count_in_table(counter_key: str, expires_at: datetime) -> int:
    # One statement whatever the outcome: the same work for every caller (no timing differences).
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A counter lost in a crash is one attempt not counted: its commit need not wait for the disk
        # (the intake path's commits are its cost, docs/performance.md "Lead intake").
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(_UPSERT, [counter_key, expires_at])
            return cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [counter_key, expires_at])
        return cursor.fetchone()[0]


def rate_limit_counters_prune() -> int:
    """Delete the counters of windows that have ended (an hourly job, see hotlead/ops/schedules.py)."""
    deleted, _ = RateLimitCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted


@dataclass(frozen=True)
class _Window:
    limit: int
    seconds: int
    counter_key: str
    expires_at: datetime
    retry_after: int


def _window(scope: str, key: str, rule: str | None) -> _Window:
    """The rule in force for (scope, key) and the fixed window this moment falls in."""
    limit, seconds = _parse(rule or rate_limit_rule(scope))
    now = int(time.time())
    start = now - now % seconds
    return _Window(limit=limit, seconds=seconds, counter_key=_counter_key(scope, key, start),
                   expires_at=datetime.fromtimestamp(start + seconds, tz=UTC), retry_after=start + seconds - now)


def rate_limit_hit(*, scope: str, key: str, rule: str | None = None) -> None:
    """Count one attempt for (scope, key); raise RateLimited with Retry-After when over the limit."""
    window = _window(scope, key, rule)
    if isinstance(caches["default"], RedisCache):
        count = _count_in_cache(window.counter_key, window.seconds)
    else:
        count = _count_in_table(window.counter_key, window.expires_at)
    if count > window.limit:
        raise RateLimited(retry_after=window.retry_after)


@dataclass(frozen=True)
class RateLimitCount:
    """One attempt of `rate_limit_count`, to be counted by the caller's own statement: run `sql` with `params`
    (one row, the count) — e.g. `rows_insert(rows, gate=count.gate)`, which writes nothing over the limit — then
    `check` the count."""

    sql: str
    params: list
    limit: int
    retry_after: int

    @property
    def gate(self) -> Gate:
        return Gate(sql=self.sql, params=self.params, most=self.limit)

    def check(self, count: int) -> None:
        if count > self.limit:
            raise RateLimited(retry_after=self.retry_after)


def rate_limit_count(*, scope: str, key: str, rule: str | None = None) -> RateLimitCount | None:
    """`rate_limit_hit` for a caller that sends the count with its own writes, in one statement (lead intake); None
    when the counters live in Redis — then call `rate_limit_hit`. Rolled back with the caller's statement."""
    if isinstance(caches["default"], RedisCache):
        return None
    window = _window(scope, key, rule)
    return RateLimitCount(sql=_UPSERT, params=[window.counter_key, window.expires_at], limit=window.limit,
                          retry_after=window.retry_after)


def rate_limit_reset(*, scope: str, key: str, rule: str | None = None) -> None:
    counter_key = _window(scope, key, rule).counter_key
    cache.delete(counter_key)
    RateLimitCounter.objects.filter(key=counter_key).delete()


def client_ip_key() -> str:
    """The per-address key of a rate limit: the client address of the bound Origin ("unknown" outside a request)."""
    return current_origin().client_ip or "unknown"
