"""Spreadsheet export of competition levels (django-import-export). Export only: levels change through the
console's form or the admin API, where ranks, price confirmations and the audit log are enforced."""
from __future__ import annotations

from import_export import resources

from hotlead.levels.models import CompetitionLevel


class CompetitionLevelResource(resources.ModelResource):
    class Meta:
        model = CompetitionLevel
        fields = ("id", "rank", "name", "slug", "price_cents", "max_recipients", "active", "archived_at",
                  "created_at", "updated_at")
        export_order = fields
