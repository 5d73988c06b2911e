"""Signing in and out, registration, e-mail verification, password reset."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.forms import BackupTokenForm
from two_factor.views.core import LoginView

from hotlead.accounts.models import OneTimeTokenPurpose
from hotlead.accounts.services import (
    InvalidToken,
    login_success_record,
    one_time_token_peek,
    password_reset_complete,
    password_reset_request,
)
from hotlead.core.exceptions import ApplicationError
from hotlead.core.services import audit_record
from hotlead.portal.decorators import signed_in_provider
from hotlead.portal.forms import EmailForm, NewPasswordForm, RegistrationForm, form_errors_apply
from hotlead.portal.forms_auth import PortalAuthenticationForm, PortalTokenForm
from hotlead.portal.prg import post_only
from hotlead.providers.services import (
    provider_email_verify,
    provider_register,
    provider_verification_resend,
)

# The same words whether or not the account exists (no enumeration).
FORGOT_PASSWORD_MESSAGE = "If an account exists for that address, we have sent it a link to reset the password."


class PortalLoginView(LoginView):
    """two-factor's login wizard with the portal's forms and look: password, then TOTP when enrolled."""

    template_name = "portal/login.html"
    form_list = (
        (LoginView.AUTH_STEP, PortalAuthenticationForm),
        (LoginView.TOKEN_STEP, PortalTokenForm),
        (LoginView.BACKUP_STEP, BackupTokenForm),
    )

    def _portal_has_token_step(self):
        # Any confirmed authenticator counts, whatever its name (two-factor only looks for one named "default").
        return self.get_user() and self.get_device() is not None

    def _portal_has_backup_step(self):
        return False  # the portal issues no backup codes

    condition_dict = {LoginView.TOKEN_STEP: _portal_has_token_step, LoginView.BACKUP_STEP: _portal_has_backup_step}

    def get_device(self, step=None):
        if not self.device_cache and self.get_user():
            self.device_cache = (
                TOTPDevice.objects.filter(user=self.get_user(), confirmed=True).order_by("id").first()
            )
        return self.device_cache

    def get_form(self, step=None, **kwargs):
        if (step or self.steps.current) == self.TOKEN_STEP:
            # two-factor swaps in its own token form per device type; the portal keeps its locking one.
            self.form_list[self.TOKEN_STEP] = PortalTokenForm
            return super(LoginView, self).get_form(step=step, **kwargs)
        return super().get_form(step=step, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and signed_in_provider(request) is not None:
            return redirect(self.get_redirect_url() or "portal:home")  # already signed in: nothing to do here
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self):
        return self.get_redirect_url() or resolve_url("portal:home")

    def done(self, form_list, **kwargs):
        user = self.get_user()
        response = super().done(form_list, **kwargs)
        login_success_record(user=user, mfa=bool(getattr(user, "otp_device", None)), channel="portal")
        return response


@post_only("portal:home", same_args=False)
def logout_view(request):
    if request.user.is_authenticated:
        audit_record(action="auth.logout", actor=request.user, obj=request.user,
                     changes={"channel": "portal"})
    logout(request)
    messages.success(request, "You have been signed out.")
    return redirect("portal:login")


@require_http_methods(["GET"])
def check_email(request):
    return render(request, "portal/check_email.html")


@require_http_methods(["GET", "POST"])
def register(request):
    if signed_in_provider(request) is not None:
        messages.info(request, "You are already signed in.")
        return redirect("portal:home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider_register(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"],
                company_name=form.cleaned_data["company_name"], contact_name=form.cleaned_data["contact_name"],
                phone=form.cleaned_data["phone"],
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            return redirect("portal:check_email")
    return render(request, "portal/register.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify_email(request, token: str):
    """GET shows a confirm button (mail scanners prefetch links); POST spends the single-use token."""
    if request.method == "POST":
        try:
            provider_email_verify(token=token)
        except ApplicationError as exc:
            return render(request, "portal/verify_email.html", {"error": exc.message}, status=400)
        messages.success(request, "Your e-mail address is verified. Welcome to Hot Lead: please sign in.")
        return redirect("portal:login")
    valid = one_time_token_peek(raw=token, purpose=OneTimeTokenPurpose.EMAIL_VERIFY) is not None
    return render(request, "portal/verify_email.html",
                  {"error": None if valid else InvalidToken.default_message}, status=200 if valid else 400)


@require_http_methods(["GET", "POST"])
def resend_verification(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider_verification_resend(email=form.cleaned_data["email"])
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            return redirect("portal:check_email")
    return render(request, "portal/email_form.html", {
        "form": form, "title": "Resend the verification link",
        "intro": "Enter the e-mail address you registered with; if it is waiting for verification we send a new "
                 "link.",
        "submit": "Send a new link",
    })


@require_http_methods(["GET", "POST"])
def forgot_password(request):
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_request(email=form.cleaned_data["email"])
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.info(request, FORGOT_PASSWORD_MESSAGE)
            return redirect("portal:login")
    return render(request, "portal/email_form.html", {
        "form": form, "title": "Reset your password",
        "intro": "Enter your e-mail address and we will send you a link to choose a new password.",
        "submit": "Send the link",
    })


@require_http_methods(["GET", "POST"])
def reset_password(request, token: str):
    if one_time_token_peek(raw=token, purpose=OneTimeTokenPurpose.PASSWORD_RESET) is None:
        return render(request, "portal/verify_email.html",
                      {"error": InvalidToken.default_message, "title": "Reset your password"}, status=400)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset_complete(token=token, password=form.cleaned_data["password"])
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            logout(request)
            messages.success(request, "Your password has been changed. Please sign in with the new one.")
            return redirect("portal:login")
    return render(request, "portal/reset_password.html", {"form": form})
