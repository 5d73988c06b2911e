"""Liveness and readiness: 503 with a JSON body naming what failed."""
from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.ops.models import WorkerHeartbeat
from hotlead.ops.services import worker_heartbeat_beat

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
}


def test_live_answers_without_checking_dependencies(client, settings):
    settings.CACHES = UNREACHABLE_REDIS
    response = client.get("/health/live")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_ready_when_database_migrations_and_cache_are_fine(client):
    # given: a job worker wrote its heartbeat
    worker_heartbeat_beat()
    # when
    response = client.get("/health/ready")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert set(body["checks"]) == {"database", "migrations", "cache"}
    assert body["checks"]["migrations"] == {"ok": True, "pending": 0}
    assert body["worker"]["ok"] is True and body["worker"]["last_seen_seconds"] <= 5


def test_a_missing_worker_does_not_take_the_web_servers_out_of_the_load_balancer(client):
    # given: no job worker was ever seen (a load balancer probing every web server would drop them all)
    # when
    ready = client.get("/health/ready")
    worker = client.get("/health/worker")
    # then: the web process is ready; the worker's own probe fails, with the hint
    assert ready.status_code == 200 and ready.json()["failed"] == []
    assert ready.json()["worker"]["ok"] is False and ready.json()["worker"]["last_seen_seconds"] is None
    assert worker.status_code == 503
    assert worker.json()["status"] == "unavailable" and "qcluster" in worker.json()["worker"]["hint"]


def test_the_worker_probe_fails_when_the_heartbeat_is_stale(client, settings):
    # given: the newest heartbeat is older than the allowed age
    settings.HOTLEAD = {**settings.HOTLEAD, "WORKER_HEARTBEAT_MAX_AGE_SECONDS": 180}
    WorkerHeartbeat.objects.create(name="old-host:hotlead", seen_at=timezone.now() - timedelta(seconds=181))
    # when
    response = client.get("/health/worker")
    # then
    assert response.status_code == 503
    assert response.json()["worker"]["last_seen_seconds"] >= 181
    assert client.get("/health/ready").status_code == 200
    # and a fresh heartbeat from any host makes it healthy again
    worker_heartbeat_beat()
    assert client.get("/health/worker").status_code == 200


def test_not_ready_when_the_cache_is_down(client, settings):
    # given
    worker_heartbeat_beat()
    settings.CACHES = UNREACHABLE_REDIS
    # when
    response = client.get("/health/ready")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}


@pytest.mark.django_db(transaction=True)
def test_not_ready_when_the_database_is_down(client):
    # given: a worker was seen, then the database stops answering (nothing listens on port 1)
    from django.db import connection

    worker_heartbeat_beat()
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        # when
        response = client.get("/health/ready")
        live = client.get("/health/live")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    # then: 503 naming the database (and what needs it), without the server's address; live stays up
    assert response.status_code == 503
    body = response.json()
    assert {"database", "migrations"} <= set(body["failed"])
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "127.0.0.1" not in response.content.decode()
    assert live.status_code == 200


def test_a_worker_process_start_writes_a_heartbeat():
    # given: what django-q2 sends when it spawns a worker process
    from django_q.signals import post_spawn

    # when
    post_spawn.send(sender="django_q", proc_name="Process-1")
    # then
    beat = WorkerHeartbeat.objects.get()
    assert (timezone.now() - beat.seen_at).total_seconds() < 5 and beat.name.endswith(":hotlead")


def test_the_heartbeat_is_one_row_per_host_and_cluster():
    worker_heartbeat_beat()
    first = WorkerHeartbeat.objects.get().seen_at
    worker_heartbeat_beat()
    assert WorkerHeartbeat.objects.count() == 1 and WorkerHeartbeat.objects.get().seen_at >= first


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_health_endpoints_answer_get_only(client, method):
    assert getattr(client, method)("/health/ready").status_code == 405
    assert getattr(client, method)("/health/worker").status_code == 405
