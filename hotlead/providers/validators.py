"""Normalisation and validation of provider input. Each returns the clean value or raises FieldError."""
from __future__ import annotations

import ipaddress
import re
import socket
import zoneinfo
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings

from hotlead.core.exceptions import ValidationFailed
from hotlead.core.text import name_clean

MAX_AREAS = 2000
# The webhook URL column (Provider.webhook_url, WebhookEndpoint.url) holds 200 characters; the API documents it.
WEBHOOK_URL_MAX = 200
# Postal codes are stored upper-case without spaces (SPEC §3): letters, digits and an inner hyphen (ZIP+4).
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,10}[A-Z0-9]$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,11}$")


class FieldErrors:
    """Collects every bad field so one 422 lists them all."""

    def __init__(self) -> None:
        self.fields: list[dict] = []

    def add(self, field: str, message: str) -> None:
        self.fields.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.fields:
            raise ValidationFailed(details={"fields": self.fields})


def phone_normalise(value: str) -> str:
    """E.164, parsed in the default region; raise ValueError with a readable message."""
    raw = (value or "").strip()
    if not raw:
        raise ValueError("A phone number is required.")
    try:
        number = phonenumbers.parse(raw, settings.HOTLEAD["PHONE_DEFAULT_REGION"])
    except phonenumbers.NumberParseException:
        raise ValueError("This is not a phone number.")
    if not phonenumbers.is_valid_number(number):
        raise ValueError("This phone number is not valid.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_validate(value: str) -> str:
    value = (value or "").strip()
    if value not in _zones():
        raise ValueError("Unknown time zone; use an IANA name such as America/New_York.")
    return value


def postal_code_clean(value: str) -> str:
    """Upper-case, spaces removed; letters, digits and an inner hyphen, 2-12 characters."""
    clean = re.sub(r"\s+", "", str(value or "")).upper()
    if not _CODE.match(clean):
        raise ValueError(f"'{str(value)[:20]}' is not a postal code (letters, digits and '-', 2-12 characters).")
    return clean


def postal_prefix_clean(value: str) -> str:
    """A prefix: upper-case letters and digits, 1-11 characters; a trailing '*' is accepted and dropped."""
    clean = re.sub(r"\s+", "", str(value or "")).upper()
    if clean.endswith("*"):
        clean = clean[:-1]
    if not _PREFIX.match(clean):
        raise ValueError(f"'{str(value)[:20]}' is not a postal code prefix (letters and digits, 1-11 characters).")
    return clean


def areas_clean(*, postal_codes: list[str], prefixes: list[str], errors: FieldErrors) -> tuple[list[str], list[str]]:
    """Clean, de-duplicated and sorted lists; bad entries are reported as postal_codes[i] / prefixes[i]."""
    codes: set[str] = set()
    for index, value in enumerate(postal_codes):
        try:
            codes.add(postal_code_clean(value))
        except ValueError as exc:
            errors.add(f"postal_codes.{index}", str(exc))
    prefs: set[str] = set()
    for index, value in enumerate(prefixes):
        try:
            prefs.add(postal_prefix_clean(value))
        except ValueError as exc:
            errors.add(f"prefixes.{index}", str(exc))
    if len(codes) + len(prefs) > MAX_AREAS:
        errors.add("postal_codes", f"At most {MAX_AREAS} postal codes and prefixes in total.")
    return sorted(codes), sorted(prefs)


def webhook_url_validate(value: str) -> str:
    """An https URL with a public host (the secret-signed deliveries must not travel in clear text).

    Hosts that name this machine or a private network (localhost, 127.0.0.1, 10.x, 169.254.169.254, ::1 …)
    are refused, so the delivery job cannot be pointed at internal services. A host name is resolved only
    when delivering; the delivery must check the resolved address too.
    """
    value = (value or "").strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme, (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 — a malformed port raises ValueError here
    except ValueError:
        scheme, host = "", ""
    if scheme != "https" or not host or len(value) > WEBHOOK_URL_MAX:
        raise ValueError(f"The webhook URL must be an https:// URL (at most {WEBHOOK_URL_MAX} characters).")
    if host == "localhost" or host.endswith(".localhost") or _is_internal_address(host):
        raise ValueError("The webhook URL must point to a public host, not a local or private address.")
    return value


def _is_internal_address(host: str) -> bool:
    """True for an IP literal that is not a global address, including shorthand forms (127.1, 2130706433)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def text_clean(value: str, *, label: str, max_length: int) -> str:
    value = name_clean(value)  # no bidi controls or zero-width characters (one name disguised as another)
    if not value:
        raise ValueError(f"{label} is required.")
    if len(value) > max_length:
        raise ValueError(f"{label} must be at most {max_length} characters.")
    return value
