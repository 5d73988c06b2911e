"""Categories, with spreadsheet import/export (SPEC §9).

Every change goes through `hotlead.leads.services`; this module reports back.
"""
from __future__ import annotations

from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display

from admin_ext.base import ModelAdmin
from hotlead.core.services import audit_record
from hotlead.leads.models import Category
from hotlead.leads.services.categories import category_create, category_update
from hotlead.leads.validation import SLUG_RE


class CategoryResource(resources.ModelResource):
    """Spreadsheet columns: slug (the key), name, active."""

    class Meta:
        model = Category
        import_id_fields = ("slug",)
        fields = ("slug", "name", "active")
        export_order = ("slug", "name", "active")
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        slug = str(row.get("slug") or "").strip().lower()
        name = " ".join(str(row.get("name") or "").split())
        if not (len(slug) <= 64 and SLUG_RE.match(slug)):
            raise ValueError(f"Invalid slug {slug!r}: use lower-case letters, digits and single dashes.")
        if not 1 <= len(name) <= 120:
            raise ValueError(f"Category {slug!r} needs a name of at most 120 characters.")
        row["slug"], row["name"] = slug, name

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        totals = {key: value for key, value in result.totals.items() if value}
        audit_record(action="category.import", actor=kwargs.get("user"), object_type="leads.category",
                     changes={"totals": totals, "file": kwargs.get("file_name") or ""})


@admin.register(Category)
class CategoryAdmin(ModelAdmin, ImportExportModelAdmin):
    resource_classes = [CategoryResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ("name", "slug", "active_badge", "lead_count", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    fields = ("slug", "name", "active")

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # leads keep their category; deactivate instead

    @display(description="Active", label={"active": "success", "inactive": "danger"})
    def active_badge(self, obj):
        return "active" if obj.active else "inactive"

    @display(description="Leads")
    def lead_count(self, obj):
        return obj.leads.count()

    def save_model(self, request, obj, form, change):
        """Through the services, so the rules and the audit log are the API's."""
        if change:
            saved = category_update(slug=obj.slug, name=obj.name, active=obj.active, actor=request.user)
        else:
            saved = category_create(slug=obj.slug, name=obj.name, active=obj.active, actor=request.user)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
