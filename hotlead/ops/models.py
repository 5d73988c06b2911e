"""Operations: the dead-letter queue of jobs that failed after their last attempt (SPEC §11)."""
from __future__ import annotations

from django.db import models


class DeadLetterStatus(models.TextChoices):
    OPEN = "open", "Open"
    RETRIED = "retried", "Retried"
    RESOLVED = "resolved", "Resolved"


class DeadLetter(models.Model):
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    task_name = models.CharField(max_length=200, blank=True)
    func = models.CharField(max_length=300)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.OPEN,
                              db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        verbose_name = "failed job"
        verbose_name_plural = "failed jobs (dead letters)"

    def __str__(self) -> str:
        return f"{self.func} ({self.status})"
