"""Plug the locking TOTP form into two-factor, so the console's login gets the same once-only guarantee."""
from __future__ import annotations

from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.plugins.registry import GeneratorMethod, registry

from hotlead.accounts.forms import LockingTOTPTokenForm


class LockingGeneratorMethod(GeneratorMethod):
    def recognize_device(self, device) -> bool:
        return isinstance(device, TOTPDevice)

    def get_token_form_class(self):
        return LockingTOTPTokenForm


def two_factor_install() -> None:
    registry.unregister(GeneratorMethod.code)
    registry.register(LockingGeneratorMethod())
