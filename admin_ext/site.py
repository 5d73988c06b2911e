"""The console's admin site: unfold's look, two-factor's rule (no page without a verified device)."""
from __future__ import annotations

from two_factor.admin import AdminSiteOTPRequiredMixin
from unfold.sites import UnfoldAdminSite


class OTPAdminSite(AdminSiteOTPRequiredMixin, UnfoldAdminSite):
    site_header = "Hot Lead"
    site_title = "Hot Lead console"
    index_title = "Dashboard"

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff and getattr(user, "role", None) == "staff"):
            return False
        return super().has_permission(request)
