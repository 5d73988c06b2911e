"""Template filters for plain words in the console: money, dates in the site's time zone, audit actions."""
from __future__ import annotations

from django import template
from django.conf import settings

from admin_ext import plain
from hotlead.billing.formatting import money_format

register = template.Library()


@register.filter
def money(cents, currency=None):
    if cents is None or cents == "":
        return "—"
    return money_format(int(cents), currency or settings.HOTLEAD["CURRENCY"])


@register.filter
def signed_money(cents, currency=None):
    text = money(cents, currency)
    return f"+{text}" if cents and int(cents) > 0 else text


@register.filter
def when(value):
    return plain.when(value)


@register.filter
def action_plain(action: str) -> str:
    return plain.action_plain(action)
