"""The console's admin site: unfold's look, two-factor's rule (no page without a verified device).

Who gets what when a console page is refused (`login` below):
- anonymous visitors go to two-factor's login wizard (password, then the TOTP code);
- ops staff without a confirmed device go to the enrolment wizard, then back to the page they asked for;
- ops staff with a device whose session was not verified log in again (password + code);
- anyone else (providers) gets a 403 page: the console is not for them, whatever they try.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST
from two_factor.admin import AdminSiteOTPRequiredMixin
from two_factor.utils import default_device
from unfold.sites import UnfoldAdminSite

from admin_ext import views
from admin_ext.reports_views import report_urls
from hotlead.accounts.models import Role


def is_console_user(user) -> bool:
    """Ops staff only: an active staff-role account flagged is_staff. Providers never qualify."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and getattr(user, "role", None) == Role.STAFF
    )


@never_cache
@csrf_protect
@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    """Log out from any state (also half-enrolled), then back to the login page."""
    auth_logout(request)
    return HttpResponseRedirect(reverse("two_factor:login"))


class OTPAdminSite(AdminSiteOTPRequiredMixin, UnfoldAdminSite):
    site_header = "Hot Lead"
    site_title = "Hot Lead console"
    index_title = "Dashboard"
    # unfold's own admin/index.html comes first on the app template path, so ours has its own name
    index_template = "admin_ext/index.html"

    def has_permission(self, request) -> bool:
        if not is_console_user(request.user):
            return False
        return super().has_permission(request)  # is_active, is_staff, and a verified OTP device

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Where a refused console request is sent (see the module docstring)."""
        next_url = self._safe_next(request)
        user = request.user
        if user.is_authenticated:
            if not is_console_user(user):
                return TemplateResponse(
                    request, "admin_ext/console_refused.html", {**self.each_context(request), "title": "No access"},
                    status=403,
                )
            if not user.is_verified() and default_device(user) is None:
                query = urlencode({"next": next_url})
                return HttpResponseRedirect(f"{reverse('two_factor:setup')}?{query}")
        return redirect_to_login(next_url)

    def extra_urls(self) -> list:
        """Console pages that are not a model's (unfold puts these before the model URLs)."""
        return [
            path("reports/", self.admin_view(views.reports_index), name="reports_index"),
            *report_urls(self),
            # reachable while unverified, so a half-enrolled user can always leave
            path("signout/", signout, name="signout"),
        ]

    @staticmethod
    def _safe_next(request: HttpRequest) -> str:
        candidate = request.POST.get("next") or request.GET.get("next") or ""
        if candidate and url_has_allowed_host_and_scheme(
            url=candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return resolve_url(settings.LOGIN_REDIRECT_URL)
