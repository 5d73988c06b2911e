"""Links between console pages: one place that turns a page name (and an object id) into a URL or an <a>."""
from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html


def admin_url(url_name: str, *args, **query) -> str | None:
    """The URL of a console page ("admin:leads_lead_change", 7), with a query string; None if it is not registered."""
    try:
        url = reverse(url_name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def admin_link(url_name: str, *args, label) -> str:
    """An <a> to a console page, or the label alone (escaped where it is shown) when that page is not registered."""
    url = admin_url(url_name, *args)
    return format_html('<a href="{}">{}</a>', url, label) if url else str(label)
