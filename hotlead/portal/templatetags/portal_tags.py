"""Template helpers of the portal shell."""
from __future__ import annotations

from django import template
from django.utils.formats import date_format

from hotlead.core.money import money_format
from hotlead.portal.forms_money import TIMELINE_LABELS
from hotlead.portal.navigation import nav_items

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_nav(context) -> list[dict]:
    return nav_items(context.get("request"))


@register.filter
def money(cents) -> str:
    """Integer cents as "$12.34" (one currency, SPEC §5)."""
    return "" if cents in (None, "") else money_format(cents)


# "Dec 3, 2026, 6:46 AM": ends in a letter, so a sentence may follow it with its own period (never "a.m..").
WHEN_FORMAT = "M j, Y, g:i A"


@register.filter(expects_localtime=True)
def when(value) -> str:
    """A moment for the provider: in the time zone of the enclosing {% timezone %} block (theirs)."""
    if not value:
        return ""
    return date_format(value, WHEN_FORMAT)


@register.filter
def timeline_label(value) -> str:
    """The homeowner's timeline in the buyer's words."""
    return TIMELINE_LABELS.get(value, "Not given") if value else "Not given"
