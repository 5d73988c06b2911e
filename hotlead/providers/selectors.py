"""Reads about providers: their service areas (lists annotated with sales: distribution.selectors.providers)."""
from __future__ import annotations

from hotlead.providers.enums import AreaKind
from hotlead.providers.models import ServiceArea


def provider_areas(*, provider_id: int) -> tuple[list[str], list[str]]:
    codes, prefixes = [], []
    for kind, value in ServiceArea.objects.filter(provider_id=provider_id).order_by("value").values_list(
            "kind", "value"):
        (codes if kind == AreaKind.CODE else prefixes).append(value)
    return codes, prefixes
