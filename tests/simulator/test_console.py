"""The console page: a run asked in a form, run as a job, its comparison shown and kept (SPEC §10.1)."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hotlead.core.models import AuditLog
from hotlead.simulator.models import SimulationRun, SimulationStatus

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {"source": "synthetic", "providers": "15", "leads": "40", "seed": "3", "days": "3",
            "date_from": "", "date_to": "", "balance_scale": "1.0",
            "price_exclusive": "12000", "max_exclusive": "1", "active_exclusive": "on",
            "price_semi-exclusive": "6000", "max_semi-exclusive": "3", "active_semi-exclusive": "on",
            "price_shared": "2500", "max_shared": "1", "active_shared": "on"}
    data.update(overrides)
    return data


def test_a_run_from_the_form_is_kept_with_its_inputs_and_compared(staff_console, exclusive, semi, shared,
                                                                   django_capture_on_commit_callbacks):
    page = staff_console.get(reverse("admin:simulator_simulationrun_add"))
    assert page.status_code == 200 and b"price_shared" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_console.post(reverse("admin:simulator_simulationrun_add"), _form())
    run = SimulationRun.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{run.pk}/change/")
    assert run.scenario == {"levels": {"shared": {"max_recipients": 1}}}  # only what was changed
    assert run.params == {"providers": 15, "leads": 40, "seed": 3, "days": 3}
    assert run.status == SimulationStatus.DONE and run.leads_done == run.leads_total == 80
    assert AuditLog.objects.filter(action="simulation.run", object_id=str(run.pk)).exists()
    assert run.result["scenario"]["assignments"] == run.result["scenario"]["sold"]
    detail = staff_console.get(response["Location"])
    assert b"Baseline and scenario" in detail.content and b"Revenue by level" in detail.content
    listing = staff_console.get(reverse("admin:simulator_simulationrun_changelist"))
    assert b"max_recipients" in listing.content
    xlsx = staff_console.get(reverse("admin:simulator_simulationrun_xlsx", args=[run.pk]))
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb["Summary"]["B2"].value == 40


def test_replay_needs_its_dates(staff_console, exclusive, semi, shared):
    response = staff_console.post(reverse("admin:simulator_simulationrun_add"), _form(source="replay"))
    assert response.status_code == 200 and b"Required for a replay." in response.content
    assert not SimulationRun.objects.exists()


def test_providers_cannot_open_the_simulator(client, provider):
    client.force_login(provider.user)
    response = client.get(reverse("admin:simulator_simulationrun_changelist"))
    assert response.status_code in (302, 403)


def test_a_running_simulation_shows_its_progress_and_refreshes(staff_console):
    run = SimulationRun.objects.create(source="synthetic", params={"providers": 10, "leads": 20, "seed": 1},
                                       status=SimulationStatus.RUNNING, leads_total=40, leads_done=10)
    page = staff_console.get(reverse("admin:simulator_simulationrun_change", args=[run.pk]))
    assert b"10 of 40 leads simulated (25%)" in page.content
    assert b'http-equiv="refresh"' in page.content


def test_a_job_runs_a_simulation_once(exclusive, semi, shared):
    from hotlead.simulator.services.runs import simulation_run_execute

    run = SimulationRun.objects.create(source="synthetic", params={"providers": 5, "leads": 5, "seed": 1, "days": 1})
    assert simulation_run_execute(run_id=run.pk) == "done"
    assert simulation_run_execute(run_id=run.pk) == "nothing_to_do"  # a redelivered job does not run it again
    run.refresh_from_db()
    assert run.status == SimulationStatus.DONE and run.result["baseline"]["leads"] == 5


def test_console_refuses_what_a_job_cannot_finish(staff_console, exclusive, semi, shared, monkeypatch):
    from hotlead.simulator.services import runs
    from tests.distribution.conftest import approved_lead

    monkeypatch.setattr(runs, "JOB_MAX_LEADS", 2)
    for _ in range(3):
        approved_lead()
    today = timezone.now().date().isoformat()
    response = staff_console.post(reverse("admin:simulator_simulationrun_add"),
                                  _form(source="replay", date_from=today, date_to=today))
    assert response.status_code == 200 and b"The range holds 3 leads" in response.content
    assert not SimulationRun.objects.exists()
