"""Row locks of sign-in credentials (tokens, authenticators); their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.models import OneTimeToken, RefreshToken
from hotlead.core.locks import lock_taken


def refresh_token_lock(*, token_hash: str) -> RefreshToken | None:
    lock_taken("refresh_token")
    return RefreshToken.objects.select_for_update().select_related("user").filter(token_hash=token_hash).first()


def one_time_token_lock(*, token_hash: str, purpose: str) -> OneTimeToken | None:
    lock_taken("one_time_token")
    return OneTimeToken.objects.select_for_update().select_related("user") \
        .filter(token_hash=token_hash, purpose=purpose).first()


def totp_devices_confirmed_lock(*, user) -> list[TOTPDevice]:
    """The user's confirmed authenticators, locked in id order (two requests with one code are serialised)."""
    lock_taken("totp_device")
    return list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"))


def totp_device_pending_lock(*, user) -> TOTPDevice | None:
    """The newest unconfirmed authenticator (the one being enrolled), locked."""
    lock_taken("totp_device")
    return TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()


def totp_device_lock(*, device_id: int, user) -> TOTPDevice | None:
    lock_taken("totp_device", device_id)
    return TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user).first()
