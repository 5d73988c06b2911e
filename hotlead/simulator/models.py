"""Past runs of the what-if simulator (SPEC §10.1): the inputs, progress and the comparison they produced."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class SimulationSource(models.TextChoices):
    SYNTHETIC = "synthetic", "Synthetic market"
    REPLAY = "replay", "Replay of a date range"


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SimulationRun(models.Model):
    """One simulation asked for in the console (or kept by the command): inputs in, report out.

    Nothing the simulation does to the market is kept: it runs in a transaction that is rolled back. This
    row is written outside that transaction.
    """

    source = models.CharField(max_length=20, choices=SimulationSource.choices)
    # synthetic: {"providers", "leads", "seed", "days"}; replay: {"from", "to"}
    params = models.JSONField(default=dict)
    scenario = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED,
                              db_index=True)
    leads_total = models.PositiveIntegerField(default=0)
    leads_done = models.PositiveIntegerField(default=0)
    # {"baseline": {...}, "scenario": {...}} as simulator.report.report_build returns
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Simulation #{self.pk} ({self.get_source_display()})"

    @property
    def progress_percent(self) -> int:
        if self.status == SimulationStatus.DONE:
            return 100
        if not self.leads_total:
            return 0
        return min(99, int(100 * self.leads_done / self.leads_total))
