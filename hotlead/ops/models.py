"""Operations: the dead-letter queue of jobs that failed after their last attempt (SPEC §11),
and the heartbeat job workers write so readiness can tell whether one is alive."""
from __future__ import annotations

from django.db import models

from hotlead.ops.enums import DeadLetterStatus

__all__ = ["DeadLetter", "DeadLetterStatus", "WorkerHeartbeat"]


class DeadLetter(models.Model):
    """One job that still failed after its last attempt.

    open → retried (re-enqueued by staff) → resolved when the retried run succeeds, or open again
    when it fails through all its attempts; open/retried → resolved by staff.
    """

    task_id = models.CharField(max_length=64, blank=True, db_index=True, help_text="The job id shared by its attempts")
    task_name = models.CharField(max_length=200, blank=True)
    func = models.CharField(max_length=300)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Attempts made, over every retry")
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.OPEN,
                              db_index=True)
    retry_count = models.PositiveIntegerField(default=0, help_text="Times staff re-enqueued it")
    retried_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        verbose_name = "failed job"
        verbose_name_plural = "failed jobs (dead letters)"
        indexes = [models.Index(fields=["status", "resolved_at"], name="ops_dl_status_resolved")]

    def __str__(self) -> str:
        return f"{self.func} ({self.status})"


class WorkerHeartbeat(models.Model):
    """The last time a job worker on one host proved it runs jobs (readiness reads the newest)."""

    name = models.CharField(max_length=200, unique=True, help_text="host:cluster")
    pid = models.PositiveIntegerField(default=0)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
