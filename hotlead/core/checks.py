"""System checks of the signing keys (issue 15): `check --deploy`, and every start-up with DEBUG=0.

The development SECRET_KEY is written in hotlead/settings/base.py, so anyone can sign a staff JWT with
it. Outside the test settings it is refused, as is any SECRET_KEY or JWT_SIGNING_KEY shorter than 32
bytes (PyJWT's own minimum for HS256) and HOTLEAD_ALLOW_DEV_SECRET in production.
"""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_BYTES = 32


def signing_key_errors() -> list[Error]:
    if getattr(settings, "HOTLEAD_TEST_SETTINGS", False):
        return []
    errors: list[Error] = []
    dev_key = getattr(settings, "DEV_SECRET_KEY", None)
    keys = (("SECRET_KEY", settings.SECRET_KEY), ("JWT_SIGNING_KEY", getattr(settings, "JWT_SIGNING_KEY", "")))
    for number, (name, value) in enumerate(keys):
        if dev_key and value == dev_key:
            errors.append(Error(
                f"{name} is the development key written in hotlead/settings/base.py: anyone can sign tokens "
                f"and sessions with it.", hint=f"Set {name} to a long random value (e.g. `python -c "
                "\"import secrets; print(secrets.token_urlsafe(48))\"`).", id=f"hotlead.E00{1 + number * 2}"))
        elif len(str(value).encode()) < MIN_KEY_BYTES:
            errors.append(Error(
                f"{name} is shorter than {MIN_KEY_BYTES} bytes.", hint=f"Set {name} to a random value of at "
                f"least {MIN_KEY_BYTES} bytes.", id=f"hotlead.E00{2 + number * 2}"))
    if getattr(settings, "HOTLEAD_ALLOW_DEV_SECRET", False) and not settings.DEBUG:
        errors.append(Error(
            "HOTLEAD_ALLOW_DEV_SECRET is set with DEBUG off: only the test settings may use the development key.",
            hint="Unset HOTLEAD_ALLOW_DEV_SECRET and set SECRET_KEY.", id="hotlead.E005"))
    return errors


@register(Tags.security, deploy=True)
def check_signing_keys_deploy(app_configs=None, **kwargs):
    """`check --deploy` with DEBUG=1 (with DEBUG=0 the check below already reports them)."""
    return signing_key_errors() if settings.DEBUG else []


@register(Tags.security)
def check_signing_keys(app_configs=None, **kwargs):
    """Every `manage.py` command with DEBUG=0 (migrate, runserver…), not only `check --deploy`."""
    return [] if settings.DEBUG else signing_key_errors()


def signing_keys_enforce() -> None:
    """Called by hotlead/wsgi.py and asgi.py: gunicorn runs no system checks, so a server with DEBUG=0
    refuses to start here with a known or short key."""
    if settings.DEBUG:
        return
    if errors := signing_key_errors():
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
