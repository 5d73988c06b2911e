"""The TOTP step of two-factor's login (console and portal) accepts a code once, even under concurrency."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.plugins.registry import registry

from hotlead.accounts.forms import LockingTOTPTokenForm
from tests.accounts.helpers import totp_code
from tests.factories.accounts import StaffFactory, totp_device_for


def test_two_factor_uses_the_locking_form_for_authenticator_apps():
    method = registry.method_from_device(TOTPDevice(name="default"))
    assert method.get_token_form_class() is LockingTOTPTokenForm


@pytest.mark.django_db(transaction=True)
def test_concurrent_token_steps_with_one_code_accept_it_once():
    # given
    staff = StaffFactory()
    device = totp_device_for(staff)
    code = totp_code(device)
    barrier = threading.Barrier(4)
    valid: list[bool] = []

    def attempt():
        try:
            form = LockingTOTPTokenForm(staff, TOTPDevice.objects.get(pk=device.pk), data={"otp_token": code})
            barrier.wait(timeout=10)
            valid.append(form.is_valid())
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert sorted(valid) == [False, False, False, True]
