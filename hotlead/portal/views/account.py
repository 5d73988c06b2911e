"""The provider's own pages: profile, service areas, preferences, security (TOTP and password)."""
from __future__ import annotations

from decimal import Decimal

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.services import (
    totp_provisioning_uri,
    totp_secret_base32,
    totp_setup_confirm,
    totp_setup_start,
    user_password_change,
)
from hotlead.core.exceptions import ApplicationError
from hotlead.leads.models import Category
from hotlead.portal.decorators import portal_login_required
from hotlead.portal.forms import (
    PasswordChangeForm,
    PreferencesForm,
    ProfileForm,
    ServiceAreasForm,
    TotpConfirmForm,
    form_errors_apply,
)
from hotlead.portal.prg import form_restore, form_stash, post_only
from hotlead.providers.services import (
    provider_notification_preferences_update,
    provider_profile_update,
    provider_service_areas_set,
    service_areas_of,
)


@portal_login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    provider = request.provider
    choices = list(Category.objects.filter(active=True).order_by("name").values_list("slug", "name"))
    initial = {
        "company_name": provider.company_name, "contact_name": provider.contact_name, "phone": provider.phone,
        "timezone": provider.timezone, "webhook_url": provider.webhook_url,
        "categories": list(provider.categories.values_list("slug", flat=True)),
    }
    form = ProfileForm(request.POST or None, initial=initial, category_choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            provider_profile_update(
                provider_id=provider.pk, company_name=data["company_name"], contact_name=data["contact_name"],
                phone=data["phone"], categories=data["categories"], timezone_name=data["timezone"],
                webhook_url=data["webhook_url"], actor=request.user,
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, "Your profile has been saved.")
            return redirect("portal:profile")
    return render(request, "portal/account/profile.html", {"form": form})


@portal_login_required
@require_http_methods(["GET", "POST"])
def service_areas(request):
    provider = request.provider
    codes, prefixes = service_areas_of(provider_id=provider.pk)
    form = ServiceAreasForm(request.POST or None,
                            initial={"postal_codes": "\n".join(codes), "prefixes": "\n".join(prefixes)})
    if request.method == "POST" and form.is_valid():
        new_codes = ServiceAreasForm.split(form.cleaned_data["postal_codes"])
        new_prefixes = ServiceAreasForm.split(form.cleaned_data["prefixes"])
        try:
            provider_service_areas_set(provider_id=provider.pk, postal_codes=new_codes, prefixes=new_prefixes,
                                       actor=request.user)
        except ApplicationError as exc:
            _area_errors_apply(form, exc, codes=new_codes, prefixes=new_prefixes)
        else:
            messages.success(request, "Your service areas have been saved.")
            return redirect("portal:service_areas")
    return render(request, "portal/account/service_areas.html",
                  {"form": form, "codes": codes, "prefixes": prefixes})


def _area_errors_apply(form, exc: ApplicationError, *, codes: list[str], prefixes: list[str]) -> None:
    """Name the offending entry ("'9411O' is not a postal code") next to its box."""
    fields = (exc.details or {}).get("fields", []) if isinstance(exc.details, dict) else []
    if not fields:
        form.add_error(None, exc.message)
        return
    for item in fields:
        name = item["field"].split(".")[0]
        form.add_error(name if name in form.fields else None, item["message"])


@portal_login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    provider = request.provider
    form = PreferencesForm(request.POST or None, initial={
        "assignment_email": provider.notify_assignments,
        "low_balance_threshold": Decimal(provider.low_balance_threshold_cents) / 100,
    })
    if request.method == "POST" and form.is_valid():
        try:
            provider_notification_preferences_update(
                provider_id=provider.pk, assignment_email=form.cleaned_data["assignment_email"],
                low_balance_threshold_cents=int(form.cleaned_data["low_balance_threshold"] * 100),
                actor=request.user,
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc, field_map={"low_balance_threshold_cents": "low_balance_threshold"})
        else:
            messages.success(request, "Your preferences have been saved.")
            return redirect("portal:preferences")
    return render(request, "portal/account/preferences.html", {"form": form})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")


@portal_login_required(mfa_setup=True)
@require_http_methods(["GET"])
def security(request):
    user = request.user
    enabled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    pending = None if enabled else TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    context = {"mfa_enabled": enabled, "pending": pending, "confirm_form": TotpConfirmForm(),
               "password_form": form_restore(request, "password_change", PasswordChangeForm) or PasswordChangeForm()}
    if pending is not None:
        uri = totp_provisioning_uri(pending)
        # the SVG is produced by qrcode from our own otpauth URI: no user-controlled markup
        qr = mark_safe(_qr_svg(uri))  # noqa: S308
        context.update(qr_svg=qr, secret=totp_secret_base32(pending), otpauth_uri=uri)
    return render(request, "portal/account/security.html", context)


@portal_login_required(mfa_setup=True)
@post_only("portal:security")
def mfa_setup(request):
    try:
        totp_setup_start(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("portal:security")


@portal_login_required(mfa_setup=True)
@post_only("portal:security")
def mfa_confirm(request):
    form = TotpConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the 6-digit code shown by your authenticator app.")
        return redirect("portal:security")
    try:
        device = totp_setup_confirm(user=request.user, token=form.cleaned_data["otp"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:security")
    otp_login(request, device)  # this session has just proved the device
    messages.success(request, "Two-factor authentication is on. You will be asked for a code when you sign in.")
    return redirect("portal:security")


@portal_login_required(mfa_setup=True)
@post_only("portal:security")
def password_change(request):
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            user_password_change(user=request.user, old_password=form.cleaned_data["old_password"],
                                 new_password=form.cleaned_data["password"])
        except ApplicationError as exc:
            form_errors_apply(form, exc, field_map={"new_password": "password"})
        else:
            update_session_auth_hash(request, request.user)  # this session stays; all others end
            messages.success(request, "Your password has been changed. Other sessions and API tokens were signed out.")
            return redirect("portal:security")
    form_stash(request, "password_change", form)  # POST-redirect-GET: the security page shows the errors
    return redirect("portal:security")
