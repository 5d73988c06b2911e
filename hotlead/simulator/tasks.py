"""Background jobs of the simulator. Thin: fetch by id, call one service."""
from __future__ import annotations

from hotlead.simulator.services.runs import simulation_run_execute


def simulation_run_job(run_id: int) -> str:
    """Run a simulation recorded in the console; a finished run is not run again."""
    return simulation_run_execute(run_id=run_id)
