"""Core: the audit log (read-only) and users."""
from __future__ import annotations

from django.contrib import admin

from admin_ext.base import ModelAdmin
from admin_ext.mixins import ReadOnlyAdminMixin
from hotlead.core.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id", "ip", "request_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "action", "object_id", "request_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]

