"""The console's two-factor views: login with a throttled password step; enrolment and disabling audited."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.views.core import LoginView, SetupView
from two_factor.views.profile import DisableView

from hotlead.accounts.services import login_throttle
from hotlead.core.exceptions import RateLimited
from hotlead.core.services import audit_record


class ConsoleAuthenticationForm(AuthenticationForm):
    """Step 1 of the console login; the same login limits as the API and the portal (SPEC §8)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password"):
            try:
                login_throttle(email=username)
            except RateLimited as exc:
                minutes = max(1, round(exc.retry_after / 60))
                raise forms.ValidationError(
                    f"Too many sign-in attempts. Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                    code="rate_limited",
                )
        return super().clean()


class ConsoleLoginView(LoginView):
    def get_prefix(self, request, *args, **kwargs):
        return "login_view"  # the wizard's field prefix stays two-factor's own

    form_list = (
        (LoginView.AUTH_STEP, ConsoleAuthenticationForm),
        *[(step, form) for step, form in LoginView.form_list if step != LoginView.AUTH_STEP],
    )


class ConsoleSetupView(SetupView):
    """two-factor's enrolment, audited (SPEC §11: MFA changes are critical actions)."""

    def get_prefix(self, request, *args, **kwargs):
        return "setup_view"

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        device = TOTPDevice.objects.filter(user=self.request.user, confirmed=True).order_by("-id").first()
        audit_record(action="mfa.enabled", actor=self.request.user, obj=device,
                     changes={"channel": "console"})
        return response


class ConsoleDisableView(DisableView):
    """two-factor's "disable", audited."""

    def form_valid(self, form):
        user = self.request.user
        response = super().form_valid(form)
        audit_record(action="mfa.disabled", actor=user, obj=user,
                     changes={"channel": "console"})
        return response
