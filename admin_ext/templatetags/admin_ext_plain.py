"""Template filters for plain words in the console: money, dates in the site's time zone, audit actions."""
from __future__ import annotations

from django import template

from admin_ext import plain
from hotlead.core.money import money_format

register = template.Library()


@register.filter
def money(cents, currency=None):
    return money_format(None if cents == "" else cents, currency)


@register.filter
def signed_money(cents, currency=None):
    return money_format(None if cents == "" else cents, currency, signed=True)


@register.filter
def when(value):
    return plain.when(value)


@register.filter
def action_plain(action: str) -> str:
    return plain.action_plain(action)
