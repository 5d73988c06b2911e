"""My exports: the staff user's own export jobs, with their status and a download link (SPEC §10).

Exports are made from the report pages (or the API), never edited here. Staff see their own list; an export
asked for by someone else is reached through its report page or the API (admins: any)."""
from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.mixins import ReadOnlyAdminMixin
from reports.enums import ExportStatus
from reports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "report", "format", "dates", "status_badge", "progress_percent", "rows", "size", "download",
                    "created_at", "expires_at")
    list_filter = ("status", "report", "format")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    fields = ("report", "format", "date_from", "date_to", "params", "status", "progress", "rows", "size_bytes",
              "error", "created_at", "started_at", "finished_at", "expires_at", "file_deleted_at", "download")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(requested_by_id=request.user.pk)

    @display(description="Status", label={ExportStatus.QUEUED: "info", ExportStatus.RUNNING: "warning",
                                          ExportStatus.DONE: "success", ExportStatus.FAILED: "danger"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="Dates")
    def dates(self, obj):
        return f"{obj.date_from:%Y-%m-%d} – {obj.date_to:%Y-%m-%d}"

    @display(description="Progress")
    def progress_percent(self, obj):
        return f"{obj.progress * 100:.0f}%"

    @display(description="Size")
    def size(self, obj):
        return f"{obj.size_bytes / 1024:,.1f} KB" if obj.size_bytes else "—"

    @display(description="File")
    def download(self, obj):
        if obj.status != ExportStatus.DONE or obj.file_deleted_at:
            return "expired" if obj.file_deleted_at else "—"
        url = reverse("admin:reports_export_download", args=[obj.pk])
        return format_html('<a class="text-primary-600 underline" href="{}" data-download>Download</a>', url)
