from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from two_factor.urls import urlpatterns as two_factor_urls

from admin_ext.login import ConsoleDisableView, ConsoleLoginView, ConsoleSetupView
from api.errors import api_not_found
from api.v1 import api
from hotlead.ops import views as ops_views


def _two_factor_patterns() -> list:
    """two-factor's URLs with three views replaced by ours (same URLs and names): login throttled,
    enrolment and disabling audited."""
    patterns, _namespace = two_factor_urls
    ours = {"login": ConsoleLoginView, "setup": ConsoleSetupView, "disable": ConsoleDisableView}
    return [
        path(str(p.pattern), ours[p.name].as_view(), name=p.name) if getattr(p, "name", None) in ours else p
        for p in patterns
    ]


def favicon(request):
    """Browsers ask for /favicon.ico on every page that names none: the brand's icon."""
    return redirect(static("brand/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("health/live", ops_views.health_live, name="health-live"),
    path("health/ready", ops_views.health_ready, name="health-ready"),
    path("health/worker", ops_views.health_worker, name="health-worker"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api_not_found),
    path("", include((_two_factor_patterns(), "two_factor"))),
    path("admin/", admin.site.urls),
    path("portal/", include("hotlead.portal.urls")),
    path("", include("hotlead.leads.urls")),
]
