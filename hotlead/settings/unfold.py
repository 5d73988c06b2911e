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
    # our few extra styles and scripts, self-hosted (no CDN anywhere in the console)
    "STYLES": [lambda request: static("console/console.css")],
    "SCRIPTS": [lambda request: static("console/console.js")],
    # one brand with the form and the portal: their orange (#c2410c is 700) and the flame favicon
    "SITE_FAVICONS": [
        {"rel": "icon", "sizes": "any", "type": "image/svg+xml", "href": lambda request: static("brand/favicon.svg")},
    ],
    "COLORS": {
        "primary": {
            "50": "oklch(98% .016 73.684)", "100": "oklch(95.4% .038 75.164)", "200": "oklch(90.1% .076 70.697)",
            "300": "oklch(83.7% .128 66.29)", "400": "oklch(75% .183 55.934)", "500": "oklch(70.5% .213 47.604)",
            "600": "oklch(64.6% .222 41.116)", "700": "oklch(55.3% .195 38.402)", "800": "oklch(47% .157 37.304)",
            "900": "oklch(40.8% .123 38.172)", "950": "oklch(26.6% .079 36.259)",
        },
    },
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
