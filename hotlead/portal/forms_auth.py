"""Forms of the portal's sign-in flow (two-factor's wizard: password, then the TOTP code)."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from hotlead.accounts.forms import LockingTOTPTokenForm
from hotlead.accounts.models import Role
from hotlead.accounts.services import login_allowed_check, login_failure_record, login_throttle, password_check
from hotlead.core.exceptions import ApplicationError, RateLimited

CHANNEL = "portal"


class PortalAuthenticationForm(AuthenticationForm):
    """Step 1: e-mail and password, throttled per IP and per account, every refusal audited."""

    username = forms.EmailField(
        label="E-mail", max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        try:
            login_throttle(email=email)
        except RateLimited as exc:
            login_failure_record(email=email, reason="rate_limited", channel=CHANNEL)
            minutes = max(1, round(exc.retry_after / 60))
            raise forms.ValidationError(
                f"Too many sign-in attempts. Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                code="rate_limited",
            )
        user = password_check(email=email, password=password)
        if user is None:
            login_failure_record(email=email, reason="invalid_credentials", channel=CHANNEL)
            raise forms.ValidationError("The e-mail or password is not correct.", code="invalid_login")
        if user.role != Role.PROVIDER:
            login_failure_record(email=email, reason="not_a_provider", user=user, channel=CHANNEL)
            raise forms.ValidationError("Staff accounts sign in to the console at /admin/.", code="not_a_provider")
        try:
            login_allowed_check(user=user)
        except ApplicationError as exc:
            login_failure_record(email=email, reason=exc.code, user=user, channel=CHANNEL)
            raise forms.ValidationError(exc.message, code=exc.code)
        self.user_cache = user
        return self.cleaned_data


class PortalTokenForm(LockingTOTPTokenForm):
    """Step 2: the TOTP code, verified on a row-locked device so a code is accepted only once; failures audited."""

    def __init__(self, user, initial_device, request=None, **kwargs):
        super().__init__(user, initial_device, **kwargs)
        self.request = request
        self.fields["otp_token"].label = "Authentication code"
        self.fields["otp_token"].help_text = "The 6-digit code shown by your authenticator app."
        self.fields["otp_token"].widget.attrs.update({"inputmode": "numeric"})

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            login_failure_record(email=self.user.email, reason="invalid_otp", user=self.user, channel=CHANNEL)
            raise
