"""Console logins in the audit log (SPEC §11): two-factor's login wizard reports through Django's signals.

Only requests to two-factor's pages are recorded here; the API and the portal record their own logins
(channel "api" / "portal") through the same accounts services.
"""
from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed

from hotlead.accounts.services.login import login_failure_record, login_success_record

CHANNEL = "console"


def _is_console_login(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.namespace == "two_factor"


def on_logged_in(sender, request, user, **kwargs) -> None:
    if not _is_console_login(request):
        return

    # django-otp puts the verified device on the user during the token step
    login_success_record(user=user, mfa=getattr(user, "otp_device", None) is not None, channel=CHANNEL)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    if request is None or not _is_console_login(request):
        return

    login_failure_record(email=str(credentials.get("username") or credentials.get("email") or ""),
                         reason="invalid_credentials", channel=CHANNEL)


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="admin_ext.audit.logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="admin_ext.audit.login_failed")
