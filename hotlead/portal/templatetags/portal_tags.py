"""Template helpers of the portal shell."""
from __future__ import annotations

from django import template

from hotlead.portal.navigation import nav_items

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_nav(context) -> list[dict]:
    return nav_items(context.get("request"))


@register.filter
def money(cents) -> str:
    """Integer cents as "$12.34" (one currency, SPEC §5)."""
    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"
