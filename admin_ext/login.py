"""The console's sign-in: two-factor's wizard with the password step throttled per IP and per account."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from two_factor.views.core import LoginView

from hotlead.accounts.services import login_throttle
from hotlead.core.exceptions import RateLimited


class ConsoleAuthenticationForm(AuthenticationForm):
    """Step 1 of the console login; the same login limits as the API and the portal (SPEC §8)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.cleaned_data.get("password"):
            try:
                login_throttle(email=username, request=self.request)
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
