"""Export jobs (SPEC §10): one spreadsheet built in the background for whoever asked (the seed's
`report_export_jobs`). A provider's export carries its provider and only ever holds that provider's rows."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from reports.enums import ExportFormat, ExportReport, ExportStatus


class ExportJob(models.Model):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("providers.Provider", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", help_text="Set on a provider's export: its rows only")
    report = models.CharField(max_length=20, choices=ExportReport.choices)
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    date_from = models.DateField()
    date_to = models.DateField()
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED,
                              db_index=True)
    progress = models.FloatField(default=0.0)
    rows = models.BigIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True, help_text="Under EXPORTS_ROOT")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the running job")
    expires_at = models.DateTimeField(db_index=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "report_export_jobs"
        ordering = ["-created_at", "-id"]
        verbose_name = "export"
        verbose_name_plural = "my exports"
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_requester_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__gte=0) & models.Q(progress__lte=1),
                                   name="export_progress_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.get_report_display()} {self.date_from}–{self.date_to} ({self.format})"

    @property
    def download_name(self) -> str:
        return f"hotlead-{self.report}-{self.date_from.isoformat()}-{self.date_to.isoformat()}.{self.format}"
