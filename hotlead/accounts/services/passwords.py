"""Password change and reset: Django's validators apply; both revoke every token issued before."""
from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from hotlead.accounts.models import OneTimeTokenPurpose, User
from hotlead.accounts.seal import account_seal
from hotlead.accounts.services.login import email_normalize
from hotlead.accounts.services.one_time import one_time_token_consume, one_time_token_create
from hotlead.accounts.services.revocation import user_token_version_bump
from hotlead.core.exceptions import InvalidCredentials, ValidationFailed
from hotlead.core.ratelimit import client_ip_key, rate_limit_hit
from hotlead.core.services import audit_record
from hotlead.notifications.models import EmailEvent
from hotlead.notifications.services import email_queue
from hotlead.ops.jobs import job_enqueue


def password_validate(*, password: str, user: User | None = None, field: str = "password") -> None:
    """Django's validators (12 characters minimum, not common, not all digits, not like the e-mail) → 422."""
    try:
        password_validation.validate_password(password or "", user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"fields": [{"field": field, "message": m} for m in exc.messages]})


def _password_set(*, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    user_token_version_bump(user=user)


@transaction.atomic
def user_password_set_by_staff(*, user: User) -> User:
    """Save the password a staff member set in the console: every API token of the user stops working (audited)."""
    user.save()
    user_token_version_bump(user=user)
    audit_record(action="auth.password_set_by_staff", obj=user, changes={"email": user.email})
    return user


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password or ""):
        raise InvalidCredentials("The current password is not correct.")
    password_validate(password=new_password, user=user, field="new_password")
    _password_set(user=user, password=new_password)
    audit_record(action="auth.password_changed", actor=user, obj=user)


def password_reset_ttl() -> timedelta:
    return timedelta(minutes=settings.HOTLEAD.get("PASSWORD_RESET_TTL_MINUTES", 60))


def password_reset_request(*, email: str) -> None:
    """Always the same work whatever the e-mail: one lookup, one job (which sends only to a real account).

    Nothing about the account is revealed by the answer or its timing; the reset link goes out by a job.
    """
    rate_limit_hit(scope="forgot_password_ip", key=client_ip_key())
    rate_limit_hit(scope="forgot_password_account", key=email_normalize(email))
    user_id = (
        User.objects.filter(email__iexact=email_normalize(email), is_active=True).values_list("pk", flat=True).first()
    )
    job_enqueue("hotlead.accounts.tasks.password_reset_send", user_id, secrets.token_hex(16))


@transaction.atomic
def password_reset_send(*, user_id: int | None, nonce: str) -> None:
    """Create the reset token and queue the e-mail (idempotent per request nonce)."""
    if user_id is None:
        return
    user = User.objects.filter(pk=user_id, is_active=True).first()
    dedupe_key = f"password_reset:{nonce}"
    if user is None or EmailEvent.objects.filter(dedupe_key=dedupe_key).exists():
        return
    raw = one_time_token_create(user=user, purpose=OneTimeTokenPurpose.PASSWORD_RESET, ttl=password_reset_ttl())
    email_queue(
        template="password_reset",
        to=user.email,
        context={
            "reset_url_sealed": account_seal(f"{settings.HOTLEAD_PUBLIC_URL.rstrip('/')}/portal/reset-password/{raw}/"),
            "ttl_minutes": int(password_reset_ttl().total_seconds() // 60),
        },
        related=user,
        dedupe_key=dedupe_key,
    )


@transaction.atomic
def password_reset_complete(*, token: str, password: str) -> User:
    """Spend the token, set the password, revoke every session and token of the account."""
    row = one_time_token_consume(raw=token, purpose=OneTimeTokenPurpose.PASSWORD_RESET)
    user = row.user
    password_validate(password=password, user=user)
    _password_set(user=user, password=password)
    audit_record(action="auth.password_reset", actor=user, obj=user)
    return user
