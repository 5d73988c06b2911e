"""The console's simulations (SPEC §10.1): recorded with their inputs, run as a background job with progress."""
from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connections, transaction
from django.utils import timezone

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.leads.models import Lead
from hotlead.levels.models import CompetitionLevel
from hotlead.ops.jobs import job_enqueue
from hotlead.simulator import market as market_mod
from hotlead.simulator.models import SimulationRun, SimulationSource, SimulationStatus
from hotlead.simulator.scenario import scenario_parse
from hotlead.simulator.services.simulate import Progress, simulate_replay, simulate_synthetic

if TYPE_CHECKING:
    from hotlead.accounts.models import User

# A console run is one background job, and a job must finish inside django-q2's timeout (60 s) or it is killed
# and handed out again: bigger markets and ranges are for `manage.py simulate`.
JOB_MAX_LEADS = 1_000
JOB_MAX_PROVIDERS = 1_000


def simulation_run_create(*, source: str, params: dict, scenario: dict, actor: User | None = None) -> SimulationRun:
    """Record a simulation to run as a background job (queued after commit)."""
    if source not in SimulationSource.values:
        raise ValidationFailed.for_field("source", "Choose synthetic or replay.")
    slugs = set(CompetitionLevel.objects.filter(archived_at__isnull=True).values_list("slug", flat=True))
    if not slugs and source == SimulationSource.SYNTHETIC:  # a synthetic market brings SPEC §2's levels
        slugs = {slug for _, slug, *_ in market_mod.DEFAULT_LEVELS}
    scenario_parse(scenario, level_slugs=slugs)  # refuse a bad scenario now, not in the job
    if source == SimulationSource.SYNTHETIC:
        for name, top in (("providers", JOB_MAX_PROVIDERS), ("leads", JOB_MAX_LEADS)):
            value = params.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                raise ValidationFailed.for_field(name, f"Must be from 1 to {top:,} here; use manage.py simulate "
                                                       "for a bigger market.")
    else:
        try:
            start, end = datetime.fromisoformat(params["from"]), datetime.fromisoformat(params["to"])
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed.for_field("from", "A replay needs a range (from, to).") from None
        leads = Lead.objects.filter(approved_at__gte=start, approved_at__lt=end).count()
        if leads > JOB_MAX_LEADS:
            raise ValidationFailed.for_field(
                "to", f"The range holds {leads:,} leads; here at most {JOB_MAX_LEADS:,}. Use a shorter range, or "
                      "manage.py simulate replay for this one.")
    with transaction.atomic():
        run = SimulationRun.objects.create(source=source, params=params, scenario=scenario or {},
                                           created_by=actor if getattr(actor, "pk", None) else None)
        audit_record(action="simulation.run", actor=actor, obj=run,
                     changes={"source": source, "params": params, "scenario": scenario or {}})
        job_enqueue("hotlead.simulator.tasks.simulation_run_job", run.pk)
    return run


def _progress_writer(run_id: int) -> Progress:
    """Progress must be visible while the simulation's transaction is open: write it on another connection
    (Django's connections are per thread), in autocommit."""
    def write(done: int, total: int) -> None:
        def work() -> None:
            try:
                SimulationRun.objects.filter(pk=run_id).update(leads_done=done, leads_total=total)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join()

    return write


def simulation_run_execute(*, run_id: int) -> str:
    """Run a recorded simulation (the job's body). Idempotent: a finished run is left as it is."""
    claimed = SimulationRun.objects.filter(pk=run_id, status=SimulationStatus.QUEUED) \
        .update(status=SimulationStatus.RUNNING, started_at=timezone.now(), error="")
    run = SimulationRun.objects.filter(pk=run_id).first()
    if not claimed or run is None:  # already run, or running in another worker (a redelivered job)
        return "nothing_to_do"
    progress = _progress_writer(run_id)
    try:
        if run.source == SimulationSource.SYNTHETIC:
            p = run.params
            result = simulate_synthetic(providers=int(p["providers"]), leads=int(p["leads"]), seed=int(p["seed"]),
                                        days=int(p.get("days", 14)), scenario=run.scenario, progress=progress)
        else:
            result = simulate_replay(start=datetime.fromisoformat(run.params["from"]),
                                     end=datetime.fromisoformat(run.params["to"]), scenario=run.scenario,
                                     progress=progress)
    except ApplicationError as exc:
        SimulationRun.objects.filter(pk=run_id).update(status=SimulationStatus.FAILED, error=exc.message,
                                                       finished_at=timezone.now())
        return "failed"
    except Exception as exc:  # a bug: the page says so, and the job's failure lands in the dead-letter table
        SimulationRun.objects.filter(pk=run_id).update(status=SimulationStatus.FAILED, finished_at=timezone.now(),
                                                       error=f"Unexpected error: {exc.__class__.__name__}")
        raise
    SimulationRun.objects.filter(pk=run_id).update(
        status=SimulationStatus.DONE, result=result.report, finished_at=timezone.now(),
        leads_done=result.lead_runs, leads_total=result.lead_runs)
    return "done"
