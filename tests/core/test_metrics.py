"""/metrics: Prometheus text, figures added up across processes, HTTP durations by route template."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotlead.core import metrics as core_metrics
from hotlead.ops.models import DeadLetterStatus
from tests.factories.ops import DeadLetterFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


def _count(samples, **labels) -> float:
    return sum(s.value for s in samples if s.name.endswith("_count") and all(s.labels.get(k) == v
                                                                                for k, v in labels.items()))


def test_http_durations_are_labelled_by_route_template_not_raw_path(client, staff_headers):
    # given
    route = "api/v1/admin/queues/dlq/<dead_letter_id>"
    before = _count(scrape(client).get("hotlead_http_request_duration_seconds", []), route=route, method="GET",
                    status="404")
    # when: two different objects, two different raw paths
    assert client.get("/api/v1/admin/queues/dlq/918273", **staff_headers).status_code == 404
    assert client.get("/api/v1/admin/queues/dlq/564738", **staff_headers).status_code == 404
    # then: one series, the template, counted twice; no raw id anywhere
    samples = scrape(client)["hotlead_http_request_duration_seconds"]
    assert _count(samples, route=route, method="GET", status="404") - before == 2
    series = {tuple(sorted(s.labels.items())) for s in samples if s.name.endswith("_count")
              and s.labels["route"] == route and s.labels["status"] == "404"}
    assert len(series) == 1
    assert not any("918273" in s.labels.get("route", "") or "564738" in s.labels.get("route", "") for s in samples)


def test_unknown_paths_share_one_series(client):
    client.get("/api/v1/zz-first-unknown")
    client.get("/api/v1/zz-second-unknown")
    samples = scrape(client)["hotlead_http_request_duration_seconds"]
    assert not any("zz-" in s.labels.get("route", "") for s in samples)
    assert _count(samples, route="^api/v1/(?P<path>.*)$", status="404") >= 2


def test_figures_add_up_across_two_processes(client, settings, tmp_path):
    # given: two separate OS processes, like two gunicorn workers, counting into one directory
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    code = ("import sys; from hotlead.ops.metrics import JOBS, JOB_DURATION; "
            "JOBS.labels(event='completed', task='two_processes').inc(int(sys.argv[1])); "
            "JOB_DURATION.labels(task='two_processes', outcome='success').observe(0.2)")
    workers = [subprocess.Popen([sys.executable, "-c", code, str(n)], cwd=ROOT, env=env) for n in (2, 3)]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    # when: the web process scrapes that directory
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    families = scrape(client)
    # then
    [total] = [s for s in families["hotlead_jobs"] if s.name == "hotlead_jobs_total"]
    assert total.labels == {"event": "completed", "task": "two_processes"} and total.value == 5.0
    assert _count(families["hotlead_job_duration_seconds"], task="two_processes") == 2.0


def test_queue_depth_and_dlq_size_are_read_at_scrape_time(client):
    # given
    from django_q.brokers import get_broker

    DeadLetterFactory.create_batch(3)
    DeadLetterFactory(status=DeadLetterStatus.RESOLVED)
    DeadLetterFactory(status=DeadLetterStatus.RETRIED)
    broker = get_broker()
    broker.enqueue("waiting-1")
    broker.enqueue("waiting-2")
    # when
    families = scrape(client)
    # then
    assert [s.value for s in families["hotlead_dlq_size"]] == [3.0]
    assert [s.value for s in families["hotlead_job_queue_depth"]] == [2.0]


def test_a_failing_scrape_time_collector_drops_only_its_own_figures(client):
    # given
    from prometheus_client.registry import Collector

    class Broken(Collector):
        def collect(self):
            raise ConnectionError("the broker is away")

    core_metrics.scrape_collector_add(Broken())
    try:
        # when
        families = scrape(client)
    finally:
        core_metrics._SCRAPE_COLLECTORS[:] = [c for c in core_metrics._SCRAPE_COLLECTORS if type(c) is not Broken]
    # then
    assert "hotlead_dlq_size" in families and "hotlead_http_request_duration_seconds" in families
