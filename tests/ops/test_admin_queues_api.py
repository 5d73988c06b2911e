"""Admin API of the queues: overview, DLQ list (cursor pagination), detail, retry, resolve — staff with MFA only."""
import json

import pytest
from django.utils import timezone

from hotlead.core.models import AuditLog
from hotlead.ops.models import DeadLetterStatus
from hotlead.ops.services import schedules_sync, worker_heartbeat_beat
from tests.factories.ops import DeadLetterFactory
from tests.ops import jobs

pytestmark = pytest.mark.django_db
API = "/api/v1/admin/queues"


def test_overview_counts_queue_dead_letters_and_lists_schedules(client, staff_headers):
    # given
    open_letters = DeadLetterFactory.create_batch(2)
    DeadLetterFactory(status=DeadLetterStatus.RETRIED)
    DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now())
    schedules_sync(entries=[{"name": "ops.worker_heartbeat", "func": "hotlead.ops.tasks.worker_heartbeat",
                             "minutes": 1, "retry": False}])
    worker_heartbeat_beat()
    # when
    response = client.get(API, **staff_headers)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["queue_depth"] == 0
    assert body["dead_letters_open"] == 2 and body["dead_letters_retried"] == 1
    assert 0 <= body["worker_last_seen_seconds"] < 5
    assert {item["id"] for item in body["recent_failures"]} >= {d.pk for d in open_letters}
    assert len(body["recent_failures"]) == 3  # resolved ones are not "recent failures"
    assert [s["name"] for s in body["schedules"]] == ["hotlead.ops.worker_heartbeat"]
    assert body["schedules"][0]["schedule_type"] == "I" and body["schedules"][0]["minutes"] == 1


def test_dlq_list_pages_with_a_cursor_newest_first(client, staff_headers):
    # given
    letters = DeadLetterFactory.create_batch(5)
    ids_newest_first = [d.pk for d in reversed(letters)]
    # when
    first = client.get(f"{API}/dlq", {"limit": 2}, **staff_headers).json()
    second = client.get(f"{API}/dlq", {"limit": 2, "cursor": first["next_cursor"]}, **staff_headers).json()
    third = client.get(f"{API}/dlq", {"limit": 2, "cursor": second["next_cursor"]}, **staff_headers).json()
    # then
    assert [i["id"] for i in first["items"]] == ids_newest_first[:2]
    assert [i["id"] for i in second["items"]] == ids_newest_first[2:4]
    assert [i["id"] for i in third["items"]] == ids_newest_first[4:]
    assert third["next_cursor"] is None
    item = first["items"][0]
    assert set(item) == {"id", "job_id", "func", "task_name", "status", "attempts", "retry_count",
                         "first_failed_at", "last_failed_at", "error_summary"}
    assert item["error_summary"] == "RuntimeError: the peer did not answer"


def test_dlq_list_filters_by_status(client, staff_headers):
    DeadLetterFactory()
    resolved = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now())
    body = client.get(f"{API}/dlq", {"status": "resolved"}, **staff_headers).json()
    assert [i["id"] for i in body["items"]] == [resolved.pk] and body["next_cursor"] is None


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"status": "lost"}, "status"),
    ({"cursor": "not-a-cursor"}, "cursor"),
])
def test_dlq_list_refuses_bad_parameters(client, staff_headers, params, field):
    response = client.get(f"{API}/dlq", params, **staff_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == [field]


def test_dlq_detail_shows_the_whole_error_and_arguments(client, staff_headers):
    dead = DeadLetterFactory(args=[7, "x"], kwargs={"k": 1})
    body = client.get(f"{API}/dlq/{dead.pk}", **staff_headers).json()
    assert body["id"] == dead.pk and body["job_id"] == dead.task_id
    assert body["args"] == [7, "x"] and body["kwargs"] == {"k": 1}
    assert body["error"] == dead.error and body["status"] == "open" and body["resolved_at"] is None


def test_retry_through_the_api_runs_the_job_and_audits(client, staff_headers, staff_user):
    # given
    dead = DeadLetterFactory(args=["again"])
    # when (jobs run inline once the request's transaction commits)
    with_callbacks = client.post(f"{API}/dlq/{dead.pk}/retry", **staff_headers)
    # then
    assert with_callbacks.status_code == 200
    assert with_callbacks.json()["status"] == "retried" and with_callbacks.json()["retry_count"] == 1
    audit = AuditLog.objects.get(action="dead_letter.retried")
    assert audit.actor == staff_user and audit.request_id == with_callbacks["X-Request-ID"]


def test_resolve_through_the_api_with_a_note(client, staff_headers):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/dlq/{dead.pk}/resolve", json.dumps({"note": "Duplicate of #12"}),
                           content_type="application/json", **staff_headers)
    assert response.status_code == 200
    assert response.json()["status"] == "resolved" and response.json()["note"] == "Duplicate of #12"
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.RESOLVED


def test_resolve_without_a_body(client, staff_headers):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/dlq/{dead.pk}/resolve", **staff_headers)
    assert response.status_code == 200 and response.json()["status"] == "resolved"


def test_resolve_refuses_fields_a_client_may_not_set(client, staff_headers):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/dlq/{dead.pk}/resolve", json.dumps({"status": "open", "note": ""}),
                           content_type="application/json", **staff_headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "status"
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN


@pytest.mark.parametrize("method, path", [
    ("get", ""), ("get", "/dlq"), ("get", "/dlq/1"), ("post", "/dlq/1/retry"), ("post", "/dlq/1/resolve"),
])
def test_queues_api_is_for_staff_only(client, provider_headers, method, path):
    dead = DeadLetterFactory()
    url = f"{API}{path}".replace("/1", f"/{dead.pk}")
    anonymous = getattr(client, method)(url)
    as_provider = getattr(client, method)(url, **provider_headers)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"
    assert as_provider.status_code == 403 and as_provider.json()["error"]["code"] == "forbidden"
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN and jobs.calls == []
