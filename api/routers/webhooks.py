"""Inbound webhooks: the payment provider (SPEC §5). Authenticated by signature, not by a token."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError
from pydantic import ValidationError

from api.errors import (
    NUL_MESSAGE,
    MalformedJsonBody,
    UnsupportedMediaType,
    _is_json,
    _nul_locations,
    json_parse,
    validation_details,
)
from api.schemas.money import PaymentEventIn, PaymentWebhookOut
from hotlead.billing.services.payments import PaymentEvent, payment_webhook_apply
from hotlead.billing.signatures import SIGNATURE_HEADER, signature_verify
from hotlead.core.exceptions import ValidationFailed

router = Router()

PAYMENTS_DESCRIPTION = """
Called by the payment provider when a card payment changes state. Idempotent on `payment_id`:
`pending` records the payment, `completed` credits the provider's balance exactly once (also when the
event is delivered twice or concurrently), `failed` credits nothing. `completed` and `failed` are final.

**Signature.** Every request carries

    X-Hotlead-Signature: t=<unix seconds>,v1=<hex>

where `v1` is the hex HMAC-SHA256, keyed with the shared secret `PAYMENTS_WEBHOOK_SECRET`, of the bytes
`"<t>." + <raw request body>` (the body exactly as sent, before any JSON parsing). `t` must be within
5 minutes of the server's clock. Several `v1=` entries may be sent while rotating secrets.

**Body** (JSON): `{"payment_id": "pay_123", "status": "pending" | "completed" | "failed",
"provider_id": 42, "amount_cents": 10000, "currency": "USD", "reference": "optional"}`.

**Answers.** 200 `{payment_id, status, credited}` (also for repeats: `credited` is true only once);
401 `invalid_signature` / `stale_signature`; 400 `malformed_json`; 422 `validation_error`;
409 `conflict` when a payment id is reported again with another provider or amount;
503 `webhook_not_configured` when no secret is set. Nothing is credited on any 4xx/5xx.
"""

_BODY_SCHEMA = {
    "type": "object",
    "required": ["payment_id", "status", "provider_id", "amount_cents", "currency"],
    "properties": {
        "payment_id": {"type": "string", "maxLength": 200},
        "status": {"type": "string", "enum": ["pending", "completed", "failed"]},
        "provider_id": {"type": "integer"},
        "amount_cents": {"type": "integer", "minimum": 1},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "reference": {"type": "string", "maxLength": 200},
    },
}


@router.post(
    "/payments",
    response=PaymentWebhookOut,
    auth=None,
    summary="Payment provider events (HMAC-SHA256 signed)",
    description=PAYMENTS_DESCRIPTION,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}},
        "x-error-statuses": [401, 503],  # invalid/stale signature; no secret configured
        "parameters": [{
            "in": "header", "name": "X-Hotlead-Signature", "required": True,
            "schema": {"type": "string", "pattern": "^t=[0-9]{1,12}(,v1=[0-9a-f]{64})+$",
                       "example": "t=1767225600,v1=" + "5257a869e7ec" + "0" * 52},
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.\" + raw body>",
        }],
    },
)
def payments(request: HttpRequest):
    if not _is_json(request.content_type):
        raise HttpError(415, "") from UnsupportedMediaType(request.content_type or "")  # as every other body
    raw_body = request.body
    signature_verify(header=request.headers.get(SIGNATURE_HEADER), raw_body=raw_body,
                     secret=settings.PAYMENTS_WEBHOOK_SECRET)
    try:
        data = json_parse(raw_body)  # deep nesting too: a 400 malformed_json, never a RecursionError
    except ValueError as exc:
        raise MalformedJsonBody(str(exc))
    if not isinstance(data, dict):
        raise ValidationFailed.for_field("body", "The body must be a JSON object.")
    if nul := list(_nul_locations(data)):  # PostgreSQL stores no NUL in text or jsonb: a 422, not a 500
        raise ValidationFailed(details={"fields": [
            {"field": ".".join(str(part) for part in loc) or "body", "message": NUL_MESSAGE} for loc in nul]})
    try:
        event = PaymentEventIn.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc.errors()))
    payment, credited = payment_webhook_apply(
        event=PaymentEvent(payment_id=event.payment_id, status=event.status, provider_id=event.provider_id,
                           amount_cents=event.amount_cents, currency=event.currency, reference=event.reference),
        raw_event=data,
    )
    return {"payment_id": event.payment_id, "status": payment.status, "credited": credited}
