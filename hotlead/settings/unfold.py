"""The console's look and navigation; callbacks by dotted path into admin_ext."""
from django.templatetags.static import static
from django.urls import reverse_lazy

UNFOLD = {
    "SITE_TITLE": "Hot Lead console",
    "SITE_HEADER": "Hot Lead",
    "SITE_SUBHEADER": "Operations console",
    "SITE_SYMBOL": "local_fire_department",
    "SITE_URL": "/",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "admin_ext.dashboard.dashboard_callback",
    # our few extra styles, self-hosted (no CDN anywhere in the console)
    "STYLES": [lambda request: static("console/console.css")],
    "ACCOUNT": {
        "navigation": [
            {"title": "Two-factor authentication", "link": reverse_lazy("two_factor:profile")},
        ],
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "admin_ext.navigation.sidebar",
    },
}
