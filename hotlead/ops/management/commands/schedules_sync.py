"""Register the recurring jobs of hotlead/ops/schedules.py in django-q2 (idempotent)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hotlead.ops.services import schedules_sync


class Command(BaseCommand):
    help = "Create, update and remove django-q2 schedules so they match hotlead/ops/schedules.py."

    def handle(self, *args, **options):
        try:
            result = schedules_sync()
        except ValueError as exc:
            raise CommandError(str(exc))
        for label, names in (("created", result.created), ("updated", result.updated),
                             ("removed", result.removed), ("unchanged", result.unchanged)):
            for name in names:
                self.stdout.write(f"{label:9} {name}")
        self.stdout.write(self.style.SUCCESS(
            f"schedules: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.removed)} removed, {len(result.unchanged)} unchanged"
        ))
