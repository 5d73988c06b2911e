"""Who may see a portal page: a logged-in, active provider, verified by TOTP when MFA applies.

Use `@portal_login_required` on function views or `PortalLoginRequiredMixin` on class-based views;
the view then finds the provider on `request.provider`.
"""
from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider


def _refuse(request, message: str):
    """Log the session out (it may not stay half-authenticated) and go back to the login page."""
    logout(request)
    messages.error(request, message)
    return redirect("portal:login")


def portal_access_check(request, *, mfa_setup: bool = False):
    """None when the request may proceed (request.provider is set), else the response to return.

    `mfa_setup=True` is for the enrolment page itself: a provider who must enrol (HOTLEAD_REQUIRE_PROVIDER_MFA)
    and has no device yet may reach it.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("portal:login"))
    provider = Provider.objects.filter(user=user).first() if getattr(user, "role", None) == "provider" else None
    if provider is None:
        return _refuse(request, "The provider portal is for provider accounts.")
    if provider.status == ProviderStatus.SUSPENDED:
        return _refuse(request, "This account is suspended. Please contact support.")
    if provider.status != ProviderStatus.ACTIVE:
        return _refuse(request, "Please verify your e-mail address first: follow the link we sent you.")
    if not user.is_verified():
        if user_has_device(user, confirmed=True):
            # A device was enrolled after this session signed in: the session must prove it.
            return _refuse(request, "Please sign in again with your authenticator code.")
        if settings.HOTLEAD_REQUIRE_PROVIDER_MFA and not mfa_setup:
            messages.warning(request, "Two-factor authentication is required: set up your authenticator app.")
            return redirect("portal:security")
    request.provider = provider
    return None


def signed_in_provider(request) -> Provider | None:
    """The provider whose session may use the portal now, or None; no side effect (nobody is logged out)."""
    user = request.user
    if not user.is_authenticated or getattr(user, "role", None) != "provider":
        return None
    provider = Provider.objects.filter(user=user, status=ProviderStatus.ACTIVE).first()
    if provider is None or (not user.is_verified() and user_has_device(user, confirmed=True)):
        return None
    return provider


def portal_login_required(view=None, *, mfa_setup: bool = False):
    """Decorator: `@portal_login_required` or `@portal_login_required(mfa_setup=True)`."""

    def decorate(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            refusal = portal_access_check(request, mfa_setup=mfa_setup)
            if refusal is not None:
                return refusal
            return func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


class PortalLoginRequiredMixin:
    """Class-based views: put first in the bases. Set `portal_mfa_setup = True` for the enrolment page."""

    portal_mfa_setup = False

    def dispatch(self, request, *args, **kwargs):
        refusal = portal_access_check(request, mfa_setup=self.portal_mfa_setup)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)
