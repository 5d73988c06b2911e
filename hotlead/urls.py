from django.contrib import admin
from django.urls import include, path, re_path
from two_factor.urls import urlpatterns as two_factor_urls

from api import api
from api.errors import api_not_found
from hotlead.core import views as core_views

urlpatterns = [
    path("health/live", core_views.health_live, name="health-live"),
    path("health/ready", core_views.health_ready, name="health-ready"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api_not_found),
    path("", include(two_factor_urls)),
    path("admin/", admin.site.urls),
    path("portal/", include("hotlead.portal.urls")),
    path("", include("hotlead.leads.urls")),
]
