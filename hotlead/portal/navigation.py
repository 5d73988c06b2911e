"""The portal's main navigation. Pages added by later issues appear as soon as their URL name exists."""
from __future__ import annotations

from django.urls import NoReverseMatch, reverse

# (label, URL name). Later issues register `portal:inbox`, `portal:subscriptions`, `portal:billing`
# in hotlead/portal/urls.py; until then their links are simply not shown.
PORTAL_NAV: list[tuple[str, str]] = [
    ("Home", "portal:home"),
    ("Inbox", "portal:inbox"),
    ("Subscriptions", "portal:subscriptions"),
    ("Billing", "portal:billing"),
    ("Reports", "portal:reports"),
    ("Profile", "portal:profile"),
    ("Service areas", "portal:service_areas"),
    ("Preferences", "portal:preferences"),
    ("Webhook", "portal:webhook"),
    ("Security", "portal:security"),
]


def nav_items(request) -> list[dict]:
    """Links that resolve, with `current` set on the page being viewed (longest matching prefix wins)."""
    items = []
    for label, url_name in PORTAL_NAV:
        try:
            link = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "link": link, "current": False})
    path = getattr(request, "path", "") if request is not None else ""
    home = reverse("portal:home")
    best = None
    for item in items:
        link = item["link"]
        matches = path == link if link == home else path.startswith(link)
        if matches and (best is None or len(link) > len(best["link"])):
            best = item
    if best is not None:
        best["current"] = True
    return items
