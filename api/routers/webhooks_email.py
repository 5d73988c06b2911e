"""Inbound e-mail events (bounces) from the e-mail provider, signed the Standard Webhooks way.

Registered at /webhooks next to the payment webhook (api/routers/webhooks.py); authenticated by signature.
"""
from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from api.errors import MalformedJsonBody
from api.schemas.webhooks import EmailEventOut
from hotlead.billing.signatures import InvalidSignature
from hotlead.core.exceptions import ValidationFailed
from hotlead.leads.bounces import email_bounce_record
from hotlead.notifications.bounces import EmailEventsNotConfigured
from hotlead.webhooks.signing import WebhookVerificationError, signature_verify

router = Router()

EMAIL_EVENTS_DESCRIPTION = """
Called by the e-mail provider when a message we sent bounces. The body has the shape of Resend's
`email.bounced` event (Resend signs with Svix, which is Standard Webhooks):

    {"type": "email.bounced", "created_at": "2026-11-22T23:41:12.126Z",
     "data": {"email_id": "56761188-…", "to": ["lead@example.com"], "subject": "…",
              "created_at": "…", "bounce": {"type": "Permanent", "subType": "General", "message": "…"},
              "tags": {"hotlead_email_event": "123"}}}

A **Permanent** bounce marks the e-mail we sent (the one named by the optional `hotlead_email_event` tag,
else the newest sent to the address) as `bounced`, and every lead with that address as `email_bounced`
(the signal of the bad-lead auto-approval rule). Transient bounces and other event types are acknowledged
and change nothing. Repeats are harmless.

**Signature** ([Standard Webhooks](https://www.standardwebhooks.com)): headers `webhook-id`,
`webhook-timestamp` (unix seconds, within 5 minutes) and `webhook-signature: v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<raw body>">`, keyed with the `whsec_…` secret `HOTLEAD_EMAIL_EVENTS_SECRET`. The
`svix-id`, `svix-timestamp`, `svix-signature` names are accepted too.

**Answers.** 200 `{received, type, bounced, leads_marked}`; 401 `invalid_signature`; 400 `malformed_json`;
422 `validation_error`; 503 `webhook_not_configured` when no secret is set.
"""

_BODY_SCHEMA = {
    "type": "object",
    "required": ["type", "data"],
    "properties": {
        "type": {"type": "string", "example": "email.bounced"},
        "created_at": {"type": "string", "format": "date-time"},
        "data": {
            "type": "object",
            "required": ["to"],
            "properties": {
                "email_id": {"type": "string"},
                "to": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
                "subject": {"type": "string"},
                "created_at": {"type": "string"},
                "bounce": {"type": "object", "properties": {
                    "type": {"type": "string", "enum": ["Permanent", "Transient", "Undetermined"]},
                    "subType": {"type": "string"}, "message": {"type": "string"}}},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    },
}

_HEADER_ALIASES = {"svix-id": "webhook-id", "svix-timestamp": "webhook-timestamp",
                   "svix-signature": "webhook-signature"}


@router.post(
    "/email-events",
    response=EmailEventOut,
    auth=None,
    summary="E-mail provider events: bounces (Standard Webhooks signed)",
    description=EMAIL_EVENTS_DESCRIPTION,
    openapi_extra={
        "x-error-statuses": [401, 503],  # invalid/stale signature; no secret configured
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}},
        "parameters": [
            {"in": "header", "name": name, "required": True, "schema": {"type": "string"}, "description": text}
            for name, text in (("webhook-id", "The message id"),
                               ("webhook-timestamp", "Unix seconds, within 5 minutes of our clock"),
                               ("webhook-signature", "v1,<base64 HMAC-SHA256> (space-separated if several)"))
        ],
    },
)
def email_events(request: HttpRequest):
    secret = settings.HOTLEAD_EMAIL_EVENTS_SECRET
    if not secret:
        raise EmailEventsNotConfigured()
    headers = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[_HEADER_ALIASES.get(key, key)] = value
    raw_body = request.body
    try:
        signature_verify(secret=secret, body=raw_body, headers=headers)
    except WebhookVerificationError:
        raise InvalidSignature()
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedJsonBody()
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or not isinstance(data.get("data"), dict):
        raise ValidationFailed.for_field("body", "Expected {\"type\": str, \"data\": {...}}.")
    event_type, payload = data["type"], data["data"]
    if event_type != "email.bounced":
        return {"received": True, "type": event_type[:60], "bounced": False, "leads_marked": 0}
    to = payload.get("to")
    to = [to] if isinstance(to, str) else to
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a and len(a) <= 254 for a in to):
        raise ValidationFailed.for_field("data.to", "A list of the bounced addresses is required.")
    bounce = payload.get("bounce") if isinstance(payload.get("bounce"), dict) else {}
    tags = payload.get("tags") if isinstance(payload.get("tags"), dict) else {}
    tagged = str(tags.get("hotlead_email_event", ""))
    permanent = str(bounce.get("type", "Permanent")) == "Permanent"
    bounced, marked = False, 0
    for address in to[:50]:
        outcome = email_bounce_record(
            address=address, permanent=permanent, message=str(bounce.get("message", ""))[:500],
            provider_message_id=str(payload.get("email_id", ""))[:100],
            email_event_id=int(tagged) if tagged.isdigit() and len(tagged) < 18 else None,
        )
        bounced = bounced or outcome.bounced
        marked += outcome.leads_marked
    return {"received": True, "type": event_type, "bounced": bounced, "leads_marked": marked}
