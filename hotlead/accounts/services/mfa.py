"""TOTP (RFC 6238) through django-otp's TOTPDevice, shared by the API, the portal and the console."""
from __future__ import annotations

import re
from base64 import b32encode
from typing import TYPE_CHECKING

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.lock_objects import totp_device_pending_lock, totp_devices_confirmed_lock
from hotlead.accounts.services.revocation import user_token_version_bump
from hotlead.core.exceptions import InvalidOtp, MfaAlreadyEnabled, MfaSetupNotStarted
from hotlead.core.logging import mask_email
from hotlead.core.services import audit_record

if TYPE_CHECKING:
    from hotlead.accounts.models import User

_CODE = re.compile(r"^\d{6,8}$")


def totp_confirmed_device_exists(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def totp_verify(*, user: User, token: str | None) -> TOTPDevice | None:
    """The confirmed device that accepts `token` now, or None. A code is accepted once.

    The devices are row-locked, so two requests with the same code are serialised: the first moves the
    device's `last_t` forward and the second sees it and is refused (django-otp refuses t <= last_t).
    """
    if not token or not _CODE.match(str(token)):
        return None
    for device in totp_devices_confirmed_lock(user=user):
        if device.verify_token(token):
            return device
    return None


@transaction.atomic
def totp_setup_start(*, user: User) -> TOTPDevice:
    """A fresh unconfirmed device (the secret is shown once for enrolment); earlier unconfirmed ones are dropped."""
    if totp_confirmed_device_exists(user=user):
        raise MfaAlreadyEnabled("Two-factor authentication is already enabled on this account.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    # two-factor finds the login device by this name
    device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    audit_record(action="mfa.setup_started", actor=user, obj=device)
    return device


@transaction.atomic
def totp_setup_confirm(*, user: User, token: str | None) -> TOTPDevice:
    """Confirm the pending device with its first code; raise InvalidOtp when the code does not match."""
    device = totp_device_pending_lock(user=user)
    if device is None:
        if totp_confirmed_device_exists(user=user):
            raise MfaAlreadyEnabled()
        raise MfaSetupNotStarted()
    if not token or not _CODE.match(str(token)) or not device.verify_token(token):
        raise InvalidOtp()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # Tokens issued without a second factor stop working: from now on every sign-in proves the device.
    user_token_version_bump(user=user)
    audit_record(action="mfa.enabled", actor=user, obj=device)
    return device


@transaction.atomic
def mfa_device_revoke(*, device: TOTPDevice | StaticDevice, actor: User | None) -> None:
    """Staff revoke a user's device (a lost phone) or backup codes: the device goes, and so do the API tokens
    proved with it (audited)."""
    user_token_version_bump(user=device.user)
    action = "mfa.backup_codes_revoked" if isinstance(device, StaticDevice) else "mfa.device_revoked"
    audit_record(action=action, actor=actor, obj=device,
                 changes={"user": mask_email(device.user.email), "device": device.name,
                          "kind": device._meta.model_name, "tokens_revoked": True})
    device.delete()


def totp_provisioning_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return device.config_url


def totp_secret_base32(device: TOTPDevice) -> str:
    return b32encode(device.bin_key).decode().rstrip("=")
