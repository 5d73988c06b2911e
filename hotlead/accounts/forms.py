"""The TOTP step of two-factor's login wizard, made safe against two concurrent uses of one code."""
from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.forms import AuthenticationTokenForm

from hotlead.accounts.lock_objects import totp_device_lock


class LockingTOTPTokenForm(AuthenticationTokenForm):
    """two-factor's token form, but the device row is locked before the code is checked.

    django-otp refuses a code whose time step is not after the device's `last_t`; without the lock two
    requests could both read the old `last_t` and both succeed. `clean_otp` runs in transaction.atomic(),
    so the lock holds until the new `last_t` is saved.
    """

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if isinstance(device, TOTPDevice):
            device = totp_device_lock(device_id=device.pk, user=user)
        return device
