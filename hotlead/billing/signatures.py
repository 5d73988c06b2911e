"""The payment provider's webhook signature (SPEC §5): HMAC-SHA256 over the raw body, timestamped.

Header: ``X-Hotlead-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = hex(HMAC-SHA256(PAYMENTS_WEBHOOK_SECRET, f"{t}.".encode() + raw_body))``. Several ``v1=`` entries
may be sent (the sender rotating its secret); one matching is enough. ``t`` must be within 5 minutes
of our clock, either way. Comparison is constant-time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

from hotlead.core.exceptions import ApplicationError, WebhookNotConfigured

SIGNATURE_HEADER = "X-Hotlead-Signature"
TOLERANCE_SECONDS = 300
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# ASCII digits only (str.isdigit() also accepts "²" and other digits int() refuses), and a sane length.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class InvalidSignature(ApplicationError):
    code = "invalid_signature"
    http_status = 401
    default_message = "The webhook signature is missing or does not match."


class StaleSignature(InvalidSignature):
    code = "stale_signature"
    default_message = "The webhook timestamp is more than 5 minutes away from our clock."


class PaymentsWebhookNotConfigured(WebhookNotConfigured):
    default_message = "Payment webhooks are not configured on this server."


def signature_compute(*, secret: str, timestamp: int, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()


def signature_verify(*, header: str | None, raw_body: bytes, secret: str, now: float | None = None) -> int:
    """Raise InvalidSignature / StaleSignature unless the header signs this body; return its timestamp."""
    if not secret:
        raise PaymentsWebhookNotConfigured()
    timestamps, signatures = [], []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value.lower())
    if len(timestamps) != 1 or not _UNIX_SECONDS.fullmatch(timestamps[0]) or not signatures:
        raise InvalidSignature(f"Expected the header {SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256>.")
    timestamp = int(timestamps[0])
    expected = signature_compute(secret=secret, timestamp=timestamp, raw_body=raw_body)
    # Every candidate is compared (no early exit), each in constant time.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate if _HEX64.match(candidate) else "0" * 64)
    if not matched:
        raise InvalidSignature()
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise StaleSignature()
    return timestamp
