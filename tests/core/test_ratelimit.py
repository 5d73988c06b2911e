"""Rate limits shared by every process, counted atomically (hotlead.core.ratelimit)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hotlead.core.exceptions import RateLimited
from hotlead.core.models import RateLimitCounter
from hotlead.core.ratelimit import rate_limit_counters_prune, rate_limit_hit, rate_limit_reset
from hotlead.ops.schedules import SCHEDULES


def _allowed(scope: str, key: str, rule: str, times: int) -> int:
    allowed = 0
    for _ in range(times):
        try:
            rate_limit_hit(scope=scope, key=key, rule=rule)
        except RateLimited:
            continue
        allowed += 1
    return allowed


@pytest.mark.django_db
def test_the_attempt_over_the_limit_is_refused_with_retry_after():
    assert _allowed("probe", "203.0.113.1", "3/900", 3) == 3
    with pytest.raises(RateLimited) as refused:
        rate_limit_hit(scope="probe", key="203.0.113.1", rule="3/900")
    assert 1 <= refused.value.retry_after <= 900
    assert refused.value.details == {"retry_after": refused.value.retry_after}
    # other keys and other scopes keep their own counts
    assert _allowed("probe", "203.0.113.2", "3/900", 1) == 1
    assert _allowed("other", "203.0.113.1", "3/900", 1) == 1


@pytest.mark.django_db
def test_the_count_lives_in_the_database_not_in_a_per_process_cache():
    # given: the test settings use a per-process (local-memory) cache, as a misconfigured server would
    _allowed("probe", "198.51.100.5", "2/900", 2)
    # then: the counter is in the shared table, so another process sees it
    [counter] = RateLimitCounter.objects.all()
    assert counter.count == 2 and counter.expires_at > timezone.now()
    assert "198.51.100.5" not in counter.key  # keys are hashed: no IP or e-mail stored in clear


@pytest.mark.django_db
def test_reset_clears_the_current_window():
    _allowed("probe", "k", "1/900", 2)
    rate_limit_reset(scope="probe", key="k", rule="1/900")
    assert _allowed("probe", "k", "1/900", 1) == 1


@pytest.mark.django_db
def test_the_hourly_job_removes_the_counters_of_ended_windows_only():
    ended = RateLimitCounter.objects.create(key="rl:probe:ended:1", count=9,
                                            expires_at=timezone.now() - timedelta(seconds=1))
    rate_limit_hit(scope="probe", key="current", rule="5/900")
    assert rate_limit_counters_prune() == 1
    assert not RateLimitCounter.objects.filter(pk=ended.pk).exists()
    assert RateLimitCounter.objects.get().count == 1  # the current window is kept
    # and the job is scheduled
    assert any(entry["func"] == "hotlead.core.ratelimit.rate_limit_counters_prune" for entry in SCHEDULES)


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_burst_never_passes_more_than_the_limit():
    # given: 16 clients sending 5 attempts each at the same moment, against a limit of 20
    barrier = threading.Barrier(16)
    allowed: list[int] = []
    errors: list[Exception] = []

    def client():
        try:
            barrier.wait()
            allowed.append(_allowed("probe", "one-key", "20/3600", 5))
        except Exception as exc:  # surfaced below: a thread must not fail silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(16)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: exactly the limit got through (the database cache's read-then-write let all 80 through)
    assert errors == []
    assert sum(allowed) == 20
    assert RateLimitCounter.objects.get().count == 80


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "198.51.100.7", "10.0.0.2"),                      # no proxy configured: the header is the client's word
    (1, "198.51.100.7", "198.51.100.7"),                  # our proxy appended the address it saw
    (1, "6.6.6.6, 198.51.100.7", "198.51.100.7"),         # the client's own entry (left) is not trusted
    (2, "6.6.6.6, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
    (1, "", "10.0.0.2"),                                  # no header: the direct peer
    (2, "198.51.100.7", "10.0.0.2"),                      # fewer entries than proxies: the direct peer
    (1, "not-an-ip", "10.0.0.2"),
])
def test_client_ip_trusts_only_the_entries_our_proxies_added(rf, settings, proxies, forwarded, expected):
    from hotlead.core.middleware import client_ip

    settings.HOTLEAD_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_behind_a_proxy_each_visitor_has_their_own_submission_limit(client, settings):
    from tests.factories.leads import CategoryFactory
    from tests.leads.conftest import valid_payload

    # given: one proxy in front; 10 submissions an hour per address (refused ones count too)
    settings.HOTLEAD_PROXY_COUNT = 1
    CategoryFactory(slug="roofing")

    def submit(visitor: str):
        return client.post("/api/v1/leads", valid_payload(category="no-such-category"), content_type="application/json",
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=visitor)

    for _ in range(10):
        assert submit("198.51.100.7").status_code == 422
    # when / then: that visitor is limited; another one behind the same proxy is not
    assert submit("198.51.100.7").status_code == 429
    assert submit("198.51.100.8").status_code == 422
