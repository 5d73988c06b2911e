"""Spreadsheet import/export of service areas (django-import-export), with row-level errors in the preview.

Columns: provider_id, postal_code (or value), kind ("code" or "prefix"; "941*" is a prefix too).
Rows are normalised like the API does (upper-case, no spaces); a bad row is reported, not imported.
Re-importing the same rows changes nothing (they are matched on provider, kind and value).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from hotlead.core.services import audit_record
from hotlead.providers.enums import AreaKind
from hotlead.providers.models import Provider, ServiceArea
from hotlead.providers.validators import postal_code_clean, postal_prefix_clean


class ServiceAreaResource(resources.ModelResource):
    provider = fields.Field(attribute="provider", column_name="provider_id",
                            widget=widgets.ForeignKeyWidget(Provider, "pk"))
    kind = fields.Field(attribute="kind", column_name="kind")
    value = fields.Field(attribute="value", column_name="value")

    class Meta:
        model = ServiceArea
        fields = ("provider", "kind", "value")
        import_id_fields = ("provider", "kind", "value")
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        """Accept either a `postal_code` or a `value` column, and an optional `kind` column."""
        dataset.headers = [str(h or "").strip().lower() for h in dataset.headers]
        for header in ("value", "kind"):
            if header not in dataset.headers:
                dataset.append_col([""] * len(dataset), header=header)
        super().before_import(dataset, **kwargs)

    def before_import_row(self, row, **kwargs):
        errors: dict[str, str] = {}
        raw_provider = str(row.get("provider_id") or "").strip()
        if not raw_provider.isdigit() or not Provider.objects.filter(pk=int(raw_provider)).exists():
            errors["provider_id"] = f"No provider with id '{raw_provider[:20]}'."
        raw = str(row.get("postal_code") or row.get("value") or "").strip()
        kind = str(row.get("kind") or "").strip().lower() or (AreaKind.PREFIX if raw.endswith("*") else AreaKind.CODE)
        if kind not in AreaKind.values:
            errors["kind"] = "Kind must be 'code' or 'prefix'."
        else:
            try:
                row["value"] = postal_prefix_clean(raw) if kind == AreaKind.PREFIX else postal_code_clean(raw)
            except ValueError as exc:
                errors["postal_code"] = str(exc)
        if errors:
            raise ValidationError(errors)
        row["provider_id"] = int(raw_provider)
        row["kind"] = kind

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        audit_record(
            action="provider.service_areas_imported", actor=kwargs.get("user"), object_type="providers.servicearea",
            changes={kind: count for kind, count in result.totals.items() if count},
        )
