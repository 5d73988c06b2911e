from django.contrib import admin
from django.urls import include, path, re_path
from two_factor.urls import urlpatterns as two_factor_urls

from admin_ext.login import ConsoleLoginView
from api import api
from api.errors import api_not_found
from hotlead.core import views as core_views


def _two_factor_patterns() -> list:
    """two-factor's URLs, with its login replaced by ours (same URL and name, password step throttled)."""
    patterns, _namespace = two_factor_urls
    login = path("account/login/", ConsoleLoginView.as_view(), name="login")
    return [login if getattr(p, "name", None) == "login" else p for p in patterns]


urlpatterns = [
    path("health/live", core_views.health_live, name="health-live"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api_not_found),
    path("", include((_two_factor_patterns(), "two_factor"))),
    path("admin/", admin.site.urls),
    path("portal/", include("hotlead.portal.urls")),
    path("", include("hotlead.leads.urls")),
]
