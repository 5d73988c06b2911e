"""Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with a `whsec_` secret.

Signed with the reference `standardwebhooks` package, so a receiver using any Standard Webhooks library
verifies our deliveries. During a rotation both secrets sign (space-separated signatures).
"""
from __future__ import annotations

import base64
import secrets as _secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "secret_generate", "signature_headers", "signature_verify"]

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    """A new secret: 32 random bytes, base64, with the `whsec_` prefix."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def signature_headers(*, msg_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def signature_verify(*, secret: str, body: bytes, headers: dict[str, str]) -> None:
    """Raise WebhookVerificationError unless the headers carry a valid, fresh (±5 min) signature of body."""
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError:
        raise
    except (ValueError, TypeError, UnicodeDecodeError) as exc:  # malformed header or secret
        raise WebhookVerificationError(f"Malformed signature headers: {type(exc).__name__}") from exc
