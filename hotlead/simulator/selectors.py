"""Reads of the simulator's past runs."""
from __future__ import annotations

from django.db.models import QuerySet

from hotlead.simulator.models import SimulationRun


def simulation_runs_recent(*, limit: int = 50) -> QuerySet[SimulationRun]:
    return SimulationRun.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]


def simulation_run_get(*, run_id: int) -> SimulationRun | None:
    return SimulationRun.objects.select_related("created_by").filter(pk=run_id).first()
