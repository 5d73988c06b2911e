"""Reads of lead sources."""
from __future__ import annotations

from django.db.models import Count, QuerySet

from hotlead.core.pagination import keyset_page
from hotlead.sources.models import LeadSource


def lead_sources_list(*, include_revoked: bool = True) -> QuerySet[LeadSource]:
    qs = LeadSource.objects.annotate(leads_count=Count("leads")).order_by("name", "id")
    return qs if include_revoked else qs.filter(revoked_at__isnull=True)


def lead_sources_page(*, cursor: str | None, limit: int) -> tuple[list[LeadSource], str | None]:
    """One page of every lead source by id, and the next page's cursor."""
    return keyset_page(lead_sources_list(), order=("id",), cursor=cursor, limit=limit)


def lead_source_get(*, source_id: int) -> LeadSource | None:
    return lead_sources_list().filter(pk=source_id).first()
