"""Plain words for the console: dates in the site's time zone, audit actions."""
from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.utils import timezone


def when(value: datetime | None) -> str:
    """"3 Dec 2026, 14:40 UTC" in the site's time zone (settings.TIME_ZONE); "—" for none."""
    if value is None:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".strip()


def action_plain(action: str) -> str:
    """"provider.flag_cleared" → "Provider: flag cleared"."""
    subject, _, verb = (action or "").partition(".")
    if not verb:
        return subject.replace("_", " ").capitalize()
    return f"{subject.replace('_', ' ').capitalize()}: {verb.replace('_', ' ').replace('.', ' ')}"


def model_name_plain(label: str) -> str:
    """"leads.lead" → "Lead" (the model's verbose name); an unknown label is shown as it is."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name).capitalize()
