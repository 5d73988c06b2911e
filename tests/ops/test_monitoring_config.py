"""deploy/prometheus/alerts.yml and deploy/grafana/hotlead.json: well-formed, about metrics that exist, runbooks
that exist, and every PromQL expression accepted by promtool (the rules' own unit tests run in scripts/test)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
ALERT_TESTS = ROOT / "deploy/prometheus/alerts_test.yml"
DASHBOARD = ROOT / "deploy/grafana/hotlead.json"
OPERATIONS = ROOT / "docs/operations.md"

SEED_ALERTS = {"HotleadDistributionDurationHigh", "HotleadBillingFailuresHigh", "HotleadQueueBacklogHigh",
               "HotleadDLQSizeHigh", "HotleadInboxQuerySlow", "HotleadJobFailureRateHigh", "HotleadHealthCheckFailing"}
MORE_ALERTS = {"HotleadReconciliationCorrections", "HotleadWorkerHeartbeatMissing", "HotleadWebhookFailureRatioHigh",
               "HotleadApiErrorRateHigh"}
# Served by /metrics but computed at scrape time (hotlead/ops/metrics.py QueueCollector), so not in the registry.
SCRAPE_TIME = {"hotlead_job_queue_depth", "hotlead_dlq_size", "hotlead_worker_heartbeat_age_seconds"}
# The provider-webhooks work adds this counter (deliveries by outcome); rules and panels are written against it.
PENDING = {"hotlead_webhook_deliveries_total"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def _rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def _panels() -> list[dict]:
    return [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in markdown.splitlines():
        match = re.match(r"^#{1,6}\s+(.*)$", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def _exported_names() -> set[str]:
    import hotlead.billing.metrics  # noqa: F401 - every app's metrics module registers its families
    import hotlead.core.metrics  # noqa: F401
    import hotlead.distribution.metrics  # noqa: F401
    import hotlead.leads.metrics  # noqa: F401
    import hotlead.ops.metrics  # noqa: F401
    import hotlead.portal.metrics  # noqa: F401
    import hotlead.refunds.metrics  # noqa: F401

    return set(REGISTRY._names_to_collectors) | SCRAPE_TIME


def _metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)  # job="hotlead_ready" is a label value, not a metric
    return set(re.findall(r"\bhotlead_[a-z0-9_]+", without_strings))


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; scripts/test installs it)")
    return path


# --- alert rules -------------------------------------------------------------------------------------

def test_every_alert_the_issue_asks_for_is_there_with_for_severity_summary_and_runbook():
    rules = _rules()
    names = {rule["alert"] for rule in rules}
    assert names >= SEED_ALERTS | MORE_ALERTS
    anchors = _anchors(OPERATIONS.read_text())
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert "{{ $value" in rule["annotations"]["summary"] or "{{ $labels" in rule["annotations"]["summary"]
        assert re.search(r"threshold|0 is down", rule["annotations"]["summary"]), rule["alert"]
        runbook = rule["annotations"]["runbook_url"]
        assert runbook.startswith("docs/operations.md#"), runbook
        assert runbook.split("#", 1)[1] in anchors, f"{rule['alert']}: no section {runbook} in docs/operations.md"
    severities = {rule["alert"]: rule["labels"]["severity"] for rule in rules}
    assert {severities[n] for n in ("HotleadBillingFailuresHigh", "HotleadDLQSizeHigh",
                                    "HotleadHealthCheckFailing")} == {"critical"}


def test_alert_rules_watch_metrics_the_application_exports():
    exported = _exported_names()
    for rule in _rules():
        unknown = _metric_names(rule["expr"]) - exported - PENDING
        assert not unknown, f"{rule['alert']} watches metrics nobody exports: {unknown}"


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired, quiet = set(), set()
    for group in tests:
        for case in group.get("alert_rule_test", []):
            (fired if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in _rules()}
    assert names <= fired, f"no firing test for {names - fired}"
    assert names <= quiet, f"no quiet test for {names - quiet}"


def test_promtool_accepts_and_passes_the_alert_rules():
    promtool = _promtool()
    check = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run([promtool, "test", "rules", str(ALERT_TESTS)], capture_output=True, text=True)
    assert unit.returncode == 0, unit.stdout + unit.stderr


# --- the Grafana dashboard ---------------------------------------------------------------------------

def test_dashboard_is_importable_with_a_prometheus_input():
    dashboard = json.loads(DASHBOARD.read_text())
    assert [(i["name"], i["type"], i["pluginId"]) for i in dashboard["__inputs"]] == [
        ("DS_PROMETHEUS", "datasource", "prometheus")]
    assert dashboard["title"] and dashboard["uid"] and dashboard["id"] is None
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_dashboard_covers_what_the_issue_lists():
    exprs = " ".join(t["expr"] for p in _panels() for t in p["targets"])
    titles = " ".join(p["title"].lower() for p in _panels())
    for needle in ("hotlead_http_request_duration_seconds_count", "histogram_quantile(0.99",
                   "hotlead_leads_approved_total", "hotlead_assignments_created_total",
                   "hotlead_assignments_skipped_total", "hotlead_deposited_cents_total", "hotlead_refunded_cents_total",
                   "hotlead_jobs_total", "hotlead_job_queue_depth", "hotlead_dlq_size",
                   "hotlead_billing_reconciliation_corrections_total"):
        assert needle in exprs, needle
    for word in ("route", "latency", "leads by state", "skips by reason", "refunds", "jobs", "queue depth",
                 "dead letters", "reconciliation"):
        assert word in titles, word


def test_dashboard_panels_use_metrics_the_application_exports():
    exported = _exported_names() | {"up"}
    for panel in _panels():
        for target in panel["targets"]:
            unknown = _metric_names(target["expr"]) - exported - PENDING
            assert not unknown, f"panel {panel['title']!r} reads metrics nobody exports: {unknown}"


def test_promtool_accepts_every_panel_expression(tmp_path):
    promtool = _promtool()
    rules = []
    for panel in _panels():
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            rules.append({"record": f"hotlead_dashboard:panel_{panel['id']}_{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    check = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{len(rules)} rules found" in check.stdout


def test_the_promtool_check_catches_a_broken_expression(tmp_path):
    """The dashboard check above is only worth something if promtool refuses bad PromQL."""
    promtool = _promtool()
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "d", "rules": [
        {"record": "hotlead_dashboard:broken", "expr": "sum by (route (rate(hotlead_jobs_total[5m]))"}]}]}))
    assert subprocess.run([promtool, "check", "rules", str(path)], capture_output=True).returncode != 0
