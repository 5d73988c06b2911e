"""Provider accounts (SPEC §7): registration, e-mail verification, profile, areas, preferences, suspension."""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from hotlead.accounts.models import OneTimeTokenPurpose, Role, User
from hotlead.accounts.seal import account_seal
from hotlead.accounts.services import (
    email_normalize,
    one_time_token_consume,
    one_time_token_create,
    password_validate,
    refresh_tokens_revoke_all,
)
from hotlead.core.exceptions import (
    AccountSuspended,
    Conflict,
    EmailNotVerified,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from hotlead.core.ratelimit import client_ip_key, rate_limit_hit
from hotlead.core.services import audit_record
from hotlead.leads.models import Category
from hotlead.notifications.services import email_queue
from hotlead.providers.enums import AreaKind, AssignmentNotify, ProviderStatus
from hotlead.providers.lock_objects import provider_lock
from hotlead.providers.models import Provider, ServiceArea
from hotlead.providers.selectors import provider_areas
from hotlead.providers.signals import provider_registered, provider_webhook_url_changed
from hotlead.providers.validators import (
    FieldErrors,
    areas_clean,
    phone_normalise,
    text_clean,
    timezone_validate,
    webhook_url_validate,
)

_UNSET = object()


def _public_url(path: str) -> str:
    return f"{settings.HOTLEAD_PUBLIC_URL.rstrip('/')}{path}"


def email_verify_ttl() -> timedelta:
    return timedelta(hours=settings.HOTLEAD.get("EMAIL_VERIFY_TTL_HOURS", 48))


def _email_field_check(email: str, errors: FieldErrors) -> str:
    email = email_normalize(email)
    try:
        validate_email(email)
    except ValidationError:
        errors.add("email", "Enter a valid e-mail address.")
        return email
    if len(email) > 254:
        errors.add("email", "The e-mail address is too long.")
    elif User.objects.filter(email__iexact=email).exists():
        errors.add("email", "An account with this e-mail address already exists.")
    return email


def provider_register(*, email: str, password: str, company_name: str, contact_name: str, phone: str,
                      timezone_name: str | None = None) -> Provider:
    """Create the user, the provider (pending e-mail verification) and its billing account; send the link."""
    rate_limit_hit(scope="register_ip", key=client_ip_key())
    errors = FieldErrors()
    email = _email_field_check(email, errors)
    values: dict = {}
    for field, label, raw, limit in (
        ("company_name", "Company name", company_name, 200),
        ("contact_name", "Contact name", contact_name, 200),
    ):
        try:
            values[field] = text_clean(raw, label=label, max_length=limit)
        except ValueError as exc:
            errors.add(field, str(exc))
    try:
        values["phone"] = phone_normalise(phone)
    except ValueError as exc:
        errors.add("phone", str(exc))
    if timezone_name:
        try:
            values["timezone"] = timezone_validate(timezone_name)
        except ValueError as exc:
            errors.add("timezone", str(exc))
    try:
        password_validate(password=password, user=User(email=email))
    except ValidationFailed as exc:
        errors.fields.extend(exc.details["fields"])
    errors.raise_if_any()
    try:
        return _provider_create(email=email, password=password, values=values)
    except IntegrityError:
        # a concurrent registration of the same e-mail won the unique constraint
        raise ValidationFailed.for_field("email", "An account with this e-mail address already exists.")


@transaction.atomic
def _provider_create(*, email: str, password: str, values: dict) -> Provider:
    user = User.objects.create_user(email=email, password=password, role=Role.PROVIDER,
                                    full_name=values["contact_name"])
    provider = Provider.objects.create(user=user, status=ProviderStatus.PENDING_VERIFICATION, **values)
    provider_registered.send(sender=Provider, provider=provider)  # billing opens the account
    audit_record(action="provider.registered", actor=user, obj=provider)
    provider_verification_email_send(provider=provider)
    return provider


def provider_verification_email_send(*, provider: Provider) -> None:
    """A fresh single-use link (earlier ones stop working)."""
    raw = one_time_token_create(user=provider.user, purpose=OneTimeTokenPurpose.EMAIL_VERIFY, ttl=email_verify_ttl())
    email_queue(
        template="provider_verify_email",
        to=provider.user.email,
        context={
            "contact_name": provider.contact_name,
            "company_name": provider.company_name,
            "verify_url_sealed": account_seal(_public_url(f"/portal/verify-email/{raw}/")),
            "ttl_hours": int(email_verify_ttl().total_seconds() // 3600),
        },
        related=provider,
        dedupe_key=f"provider_verify_email:{provider.pk}:{secrets.token_hex(8)}",
    )


@transaction.atomic
def provider_verification_resend(*, email: str) -> None:
    """Send a new link to a provider still pending verification; say nothing about other e-mails."""
    rate_limit_hit(scope="forgot_password_ip", key=client_ip_key())
    rate_limit_hit(scope="forgot_password_account", key=email_normalize(email))
    provider = (
        Provider.objects.select_related("user")
        .filter(user__email__iexact=email_normalize(email), status=ProviderStatus.PENDING_VERIFICATION).first()
    )
    if provider is not None:
        provider_verification_email_send(provider=provider)


@transaction.atomic
def provider_email_verify(*, token: str) -> Provider:
    """Spend the link; a pending provider becomes active and is welcomed (once)."""
    row = one_time_token_consume(raw=token, purpose=OneTimeTokenPurpose.EMAIL_VERIFY)
    provider = provider_lock(user=row.user)
    if provider.email_verified_at is None:
        provider.email_verified_at = timezone.now()
    if provider.status == ProviderStatus.PENDING_VERIFICATION:
        provider.status = ProviderStatus.ACTIVE
    provider.save(update_fields=["email_verified_at", "status", "updated_at"])
    audit_record(action="provider.email_verified", actor=provider.user, obj=provider)
    email_queue(
        template="welcome",
        to=provider.user.email,
        context={
            "contact_name": provider.contact_name,
            "company_name": provider.company_name,
            "portal_url": _public_url("/portal/"),
        },
        related=provider,
        dedupe_key=f"welcome:{provider.pk}",
    )
    return provider


def categories_resolve(slugs: list[str], errors: FieldErrors, field: str = "categories") -> list[Category]:
    """Active categories for the slugs; unknown or inactive slugs are reported by position."""
    wanted = [str(s).strip().lower() for s in slugs]
    found = {c.slug: c for c in Category.objects.filter(slug__in=wanted, active=True)}
    for index, slug in enumerate(wanted):
        if slug not in found:
            errors.add(f"{field}.{index}", f"Unknown category '{slug[:64]}'.")
    return list({slug: found[slug] for slug in wanted if slug in found}.values())


@transaction.atomic
def provider_profile_update(*, provider_id: int, company_name: str, contact_name: str, phone: str,
                            categories: list[str], timezone_name: str, webhook_url=_UNSET,
                            actor: User | None = None) -> Provider:
    """Replace the profile fields; the webhook URL only changes when given. All fields checked before any write."""
    provider = _locked(provider_id)
    errors = FieldErrors()
    values: dict = {}
    for field, label, raw in (("company_name", "Company name", company_name),
                              ("contact_name", "Contact name", contact_name)):
        try:
            values[field] = text_clean(raw, label=label, max_length=200)
        except ValueError as exc:
            errors.add(field, str(exc))
    for field, func, raw in (("phone", phone_normalise, phone), ("timezone", timezone_validate, timezone_name)):
        try:
            values[field] = func(raw)
        except ValueError as exc:
            errors.add(field, str(exc))
    if webhook_url is not _UNSET:
        try:
            values["webhook_url"] = webhook_url_validate(webhook_url or "")
        except ValueError as exc:
            errors.add("webhook_url", str(exc))
    resolved = categories_resolve(categories, errors)
    errors.raise_if_any()
    before = _profile_snapshot(provider)
    for field, value in values.items():
        setattr(provider, field, value)
    provider.save(update_fields=[*values, "updated_at"])
    provider.categories.set(resolved)
    after = _profile_snapshot(provider)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit_record(action="provider.profile_updated", actor=actor, obj=provider, changes=changes)
    if "webhook_url" in changes:  # the webhook endpoint keeps the URL it delivers to (and its secret)
        provider_webhook_url_changed.send(sender=Provider, provider=provider, actor=actor)
    return provider


def _profile_snapshot(provider: Provider) -> dict:
    return {
        "company_name": provider.company_name,
        "contact_name": provider.contact_name,
        "phone": "changed" if provider.phone else "",
        "timezone": provider.timezone,
        "webhook_url": provider.webhook_url,
        "categories": sorted(provider.categories.values_list("slug", flat=True)),
    }


@transaction.atomic
def provider_service_areas_set(*, provider_id: int, postal_codes: list[str], prefixes: list[str],
                               actor: User | None = None) -> tuple[list[str], list[str]]:
    """Replace the provider's areas with these exact codes and prefixes (validated first, then one swap)."""
    provider = _locked(provider_id)
    errors = FieldErrors()
    codes, prefs = areas_clean(postal_codes=postal_codes, prefixes=prefixes, errors=errors)
    errors.raise_if_any()
    before = service_areas_of(provider_id=provider.pk)
    ServiceArea.objects.filter(provider=provider).delete()
    ServiceArea.objects.bulk_create(
        [ServiceArea(provider=provider, kind=AreaKind.CODE, value=v) for v in codes]
        + [ServiceArea(provider=provider, kind=AreaKind.PREFIX, value=v) for v in prefs]
    )
    if before != (codes, prefs):
        audit_record(
            action="provider.service_areas_updated", actor=actor, obj=provider,
            changes={"postal_codes": len(codes), "prefixes": len(prefs)},
        )
    return codes, prefs


def service_areas_of(*, provider_id: int) -> tuple[list[str], list[str]]:
    return provider_areas(provider_id=provider_id)


@transaction.atomic
def provider_notification_preferences_update(*, provider_id: int, assignment_email: str,
                                             low_balance_threshold_cents: int, actor: User | None = None) -> Provider:
    errors = FieldErrors()
    if assignment_email not in AssignmentNotify.values:
        errors.add("assignment_email", f"Choose one of: {', '.join(AssignmentNotify.values)}.")
    if not isinstance(low_balance_threshold_cents, int) or not 0 <= low_balance_threshold_cents <= 100_000_000:
        errors.add("low_balance_threshold_cents", "A whole number of cents between 0 and 100000000.")
    errors.raise_if_any()
    provider = _locked(provider_id)
    provider.notify_assignments = assignment_email
    provider.low_balance_threshold_cents = low_balance_threshold_cents
    provider.save(update_fields=["notify_assignments", "low_balance_threshold_cents", "updated_at"])
    audit_record(action="provider.preferences_updated", actor=actor, obj=provider,
                 changes={"assignment_email": assignment_email,
                          "low_balance_threshold_cents": low_balance_threshold_cents})
    return provider


def _locked(provider_id: int) -> Provider:
    provider = provider_lock(provider_id=provider_id)
    if provider is None:
        raise NotFound()
    return provider


@transaction.atomic
def provider_suspend(*, provider_id: int, reason: str, actor: User | None) -> Provider:
    """Stop the provider: no leads, no API access (every refresh token is revoked too)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed.for_field("reason", "A reason is required.")
    provider = _locked(provider_id)
    if provider.status == ProviderStatus.SUSPENDED:
        raise Conflict("The provider is already suspended.")
    previous = provider.status
    provider.status = ProviderStatus.SUSPENDED
    provider.suspended_reason = reason[:2000]
    provider.suspended_at = timezone.now()
    provider.save(update_fields=["status", "suspended_reason", "suspended_at", "updated_at"])
    refresh_tokens_revoke_all(user=provider.user)
    audit_record(action="provider.suspended", actor=actor, obj=provider,
                 changes={"status": [previous, provider.status], "reason": provider.suspended_reason})
    return provider


@transaction.atomic
def provider_reinstate(*, provider_id: int, reason: str, actor: User | None) -> Provider:
    """Lift a suspension: active again, or pending verification if the e-mail was never verified."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed.for_field("reason", "A reason is required.")
    provider = _locked(provider_id)
    if provider.status != ProviderStatus.SUSPENDED:
        raise Conflict("Only a suspended provider can be reinstated.")
    provider.status = ProviderStatus.ACTIVE if provider.email_verified_at else ProviderStatus.PENDING_VERIFICATION
    provider.suspended_reason = ""
    provider.suspended_at = None
    provider.save(update_fields=["status", "suspended_reason", "suspended_at", "updated_at"])
    audit_record(action="provider.reinstated", actor=actor, obj=provider,
                 changes={"status": [ProviderStatus.SUSPENDED, provider.status], "reason": reason[:2000]})
    return provider


@transaction.atomic
def provider_admin_update(*, provider_id: int, company_name: str, contact_name: str, phone: str,
                          categories: list[str], timezone_name: str, webhook_url=_UNSET,
                          postal_codes: list[str] | None = None, prefixes: list[str] | None = None,
                          assignment_email: str | None = None, low_balance_threshold_cents: int | None = None,
                          actor: User | None) -> Provider:
    """Staff edit: the profile, and the areas and preferences when given, all or nothing."""
    provider = provider_profile_update(
        provider_id=provider_id, company_name=company_name, contact_name=contact_name, phone=phone,
        categories=categories, timezone_name=timezone_name, webhook_url=webhook_url, actor=actor,
    )
    if postal_codes is not None or prefixes is not None:
        provider_service_areas_set(provider_id=provider_id, postal_codes=postal_codes or [], prefixes=prefixes or [],
                                   actor=actor)
    if assignment_email is not None and low_balance_threshold_cents is not None:
        provider_notification_preferences_update(
            provider_id=provider_id, assignment_email=assignment_email,
            low_balance_threshold_cents=low_balance_threshold_cents, actor=actor,
        )
    return provider


def provider_login_check(user: User) -> None:
    """May this provider account sign in (accounts asks, see ProvidersConfig.ready)? Raise the reason otherwise."""
    provider = Provider.objects.filter(user=user).only("status").first()
    if provider is None:
        raise Forbidden("This account has no provider profile.")
    if provider.status == ProviderStatus.SUSPENDED:
        raise AccountSuspended()
    if provider.status == ProviderStatus.PENDING_VERIFICATION:
        raise EmailNotVerified("Verify your e-mail address first: follow the link we sent you.")


def provider_webhook_url_mirror(*, provider_id: int, url: str) -> None:
    """The profile shows the webhook URL too; the webhook endpoint (webhooks) is where it is kept and used."""
    Provider.objects.filter(pk=provider_id).exclude(webhook_url=url).update(webhook_url=url)


FLAG_NOTE_MAX = 2000


def provider_flag(*, provider: Provider, reason: str, replace_reason: bool, actor: User | None,
                  details: dict) -> bool:
    """Flag a provider whose return or reject rate crossed its threshold (SPEC §6), audited; False if unchanged.

    A provider already flagged keeps its reason unless `replace_reason`; `details` join the audit entry.
    """
    providers = Provider.objects.filter(pk=provider.pk)
    providers = (providers.exclude(flagged=True, flagged_reason=reason) if replace_reason
                 else providers.filter(flagged=False))
    if not providers.update(flagged=True, flagged_reason=reason[:200]):
        return False
    audit_record(action="provider.flag", actor=actor, obj=provider,
                 changes={"flagged": True, "reason": reason, **details})
    return True


@transaction.atomic
def provider_flag_clear(*, provider_id: int, actor: User | None, note: str) -> Provider:
    """Staff looked into a flagged provider (return or reject rate above its threshold) and clear the flag.

    The note says why (required, audit-logged with the reason the flag had). A later report or rejection
    that crosses the threshold again flags the provider again.
    """
    note = " ".join((note or "").split())
    if not note:
        raise ValidationFailed.for_field("note", "Say why the flag is cleared.")
    if len(note) > FLAG_NOTE_MAX:
        raise ValidationFailed.for_field("note", f"Use at most {FLAG_NOTE_MAX} characters.")
    provider = _locked(provider_id)
    if not provider.flagged:
        raise Conflict("The provider is not flagged.")
    previous_reason = provider.flagged_reason
    provider.flagged = False
    provider.flagged_reason = ""
    provider.save(update_fields=["flagged", "flagged_reason", "updated_at"])
    audit_record(action="provider.flag_cleared", actor=actor, obj=provider,
                 changes={"flagged": [True, False], "flag_reason": previous_reason, "note": note})
    return provider
