"""Providers with what they bought: the console and admin API lists, the portal home (annotated, no N+1)."""
from __future__ import annotations

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.core.pagination import keyset_page
from hotlead.distribution.models import Assignment
from hotlead.providers.models import Provider, ServiceArea


def provider_list_annotated() -> QuerySet[Provider]:
    """Providers with balance_cents, areas_count and last_assigned_at, and their user and categories prefetched."""
    last_assigned = (
        Assignment.objects.filter(provider=OuterRef("pk")).order_by("-assigned_at").values("assigned_at")[:1]
    )
    areas = (
        ServiceArea.objects.filter(provider=OuterRef("pk")).order_by().values("provider")
        .annotate(n=Count("id")).values("n")
    )
    return (
        Provider.objects.select_related("user")
        .prefetch_related("categories")
        .annotate(
            balance_cents=Coalesce(F("account__balance_cents"), Value(0)),
            areas_count=Coalesce(Subquery(areas), Value(0)),
            last_assigned_at=Subquery(last_assigned),
        )
    )


def provider_list_for_admin(*, status: str | None = None, category: str | None = None, q: str | None = None,
                            flagged: bool | None = None, cursor: str | None = None,
                            limit: int = 50) -> tuple[list[Provider], str | None]:
    """One page, newest first (keyset on id), and the next page's cursor."""
    qs = provider_list_annotated()
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(categories__slug=category)
    if flagged is not None:
        qs = qs.filter(flagged=flagged)
    if q:
        qs = qs.filter(Q(company_name__icontains=q) | Q(user__email__icontains=q) | Q(contact_name__icontains=q))
    return keyset_page(qs.distinct(), order=("-id",), cursor=cursor, limit=limit)


def provider_detail_for_admin(*, provider_id: int) -> Provider | None:
    return provider_list_annotated().filter(pk=provider_id).first()


def provider_home_summary(*, provider_id: int) -> dict:
    provider = provider_list_annotated().get(pk=provider_id)
    return {
        "provider": provider,
        "balance_cents": provider.balance_cents,
        "low_balance": provider.balance_cents < provider.low_balance_threshold_cents,
        "categories": [c.name for c in provider.categories.all()],
        "areas_count": provider.areas_count,
        "last_assigned_at": provider.last_assigned_at,
        "mfa_enabled": TOTPDevice.objects.filter(user_id=provider.user_id, confirmed=True).exists(),
    }
