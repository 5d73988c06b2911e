"""The console's look and navigation; callbacks by dotted path into admin_ext."""
from django.urls import reverse_lazy


def _link(title, icon, url_name, **kwargs):
    return {"title": title, "icon": icon, "link": reverse_lazy(url_name), **kwargs}


UNFOLD = {
    "SITE_TITLE": "Hot Lead console",
    "SITE_HEADER": "Hot Lead",
    "SITE_SYMBOL": "local_fire_department",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "admin_ext.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "admin_ext.navigation.sidebar",
    },
}
