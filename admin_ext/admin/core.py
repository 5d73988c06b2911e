"""Core: the audit log (read-only) and users."""
from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from unfold.decorators import display

from admin_ext.base import ModelAdmin
from admin_ext.mixins import ReadOnlyAdminMixin
from admin_ext.plain import action_plain, model_name_plain, when
from hotlead.core.models import AuditLog


class AboutFilter(admin.SimpleListFilter):
    """Filter by the kind of object, named as people say it ("Lead", "Provider"), without a DISTINCT scan."""

    title = "about"
    parameter_name = "object_type__exact"

    def lookups(self, request, model_admin):
        models = [m for m in apps.get_models() if m._meta.app_label in {
            "leads", "providers", "levels", "distribution", "billing", "refunds", "notifications", "ops", "accounts",
            "core"} and not m._meta.proxy]
        return sorted(((m._meta.label_lower, model_name_plain(m._meta.label_lower)) for m in models),
                      key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(object_type=self.value()) if self.value() else queryset


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("when_text", "actor_label", "what", "object_text", "ip")
    list_filter = ("action", AboutFilter)
    search_fields = ("actor_label", "action", "object_id", "request_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]

    @display(description="When", ordering="created_at")
    def when_text(self, obj):
        return when(obj.created_at)

    @display(description="What", ordering="action")
    def what(self, obj):
        return action_plain(obj.action)

    @display(description="About", ordering="object_type")
    def object_text(self, obj):
        """The model's name ("Lead", not "leads.lead") and its id."""
        if not obj.object_type:
            return "—"
        name = model_name_plain(obj.object_type)
        return f"{name} #{obj.object_id}" if obj.object_id else name
