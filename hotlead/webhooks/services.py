"""Webhooks to the provider's own systems (SPEC §7): the endpoint, its secrets, events, deliveries.

An event is recorded in the transaction of the change it reports (`webhook_event_emit`), with one
delivery; the delivery job is queued when that transaction commits. Each attempt is one HTTP POST
(`transport.post`), signed the Standard Webhooks way, recorded as a WebhookAttempt. A failed attempt
is tried again after BACKOFF_SECONDS (about 1 min, 5 min, 30 min, 2 h, 8 h: `next_attempt_at`, picked
up by the per-minute `webhook_deliveries_due` schedule), then the delivery is `dead` and recorded in
the dead-letter queue (staff retry it there). DISABLE_AFTER_FAILURES consecutive failed attempts
disable the endpoint and e-mail the provider; enabling it again is one click.

A replay is a new delivery of the same event: same `webhook-id` and body, so receivers deduplicate.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.notifications.services import email_queue
from hotlead.ops.dead_letters import dead_letter_record
from hotlead.ops.jobs import job_enqueue
from hotlead.providers.models import Provider
from hotlead.providers.services import provider_webhook_url_mirror
from hotlead.providers.validators import webhook_url_validate
from hotlead.webhooks import metrics, transport
from hotlead.webhooks.enums import SUBSCRIBABLE, AttemptOutcome, DeliveryStatus, EventType
from hotlead.webhooks.lock_objects import delivery_claim_lock, delivery_lock, endpoint_lock
from hotlead.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from hotlead.webhooks.signing import secret_generate, signature_headers

if TYPE_CHECKING:
    from hotlead.accounts.models import User
    from hotlead.providers.models import Provider

logger = logging.getLogger("hotlead.webhooks")

DELIVER_JOB = "hotlead.webhooks.tasks.webhook_deliver_job"
REDELIVER_JOB = "hotlead.webhooks.tasks.webhook_redeliver_job"  # what a dead letter re-runs
# Waits after attempt 1, 2, 3, 4 and 5; attempt 6 is the last.
BACKOFF_SECONDS = (60, 300, 1800, 7200, 28800)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
DISABLE_AFTER_FAILURES = 20
SECRET_OVERLAP = timedelta(hours=24)
# While an attempt is in flight its delivery is not due (another worker must not send it twice); a worker
# killed mid-attempt leaves it due again after this.
CLAIM_SECONDS = 120
DUE_BATCH = 500


class WebhookDeliveryFailed(Exception):
    """A dead letter's retry failed again (raised so the job runner retries it and reopens the letter)."""


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, separators=(",", ":"))


# --- the endpoint -------------------------------------------------------------------------------

def endpoint_url_clean(url: str | None) -> str:
    """"" (none) or an https URL of a public host; a host in HOTLEAD_WEBHOOK_ALLOWED_HOSTS may be http or
    internal (on-premise CRMs). Names are resolved again at every delivery."""
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed.for_field("url", "The webhook URL is malformed.")
    if parts.scheme in ("http", "https") and host and len(url) <= 200 and transport.host_allowed(host, port):
        return url
    try:
        return webhook_url_validate(url)
    except ValueError as exc:
        raise ValidationFailed.for_field("url", str(exc))


def _events_clean(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    unknown = [e for e in events if e not in SUBSCRIBABLE]
    if unknown:
        raise ValidationFailed.for_field("events", f"Unknown event type '{str(unknown[0])[:60]}'; "
                                                   f"choose from {', '.join(SUBSCRIBABLE)}.")
    return [e for e in SUBSCRIBABLE if e in events]




@transaction.atomic
def webhook_endpoint_configure(*, provider: Provider, url: str | None, enabled: bool | None = None,
                               events: list[str] | None = None, actor: User | None = None,
                               ) -> tuple[WebhookEndpoint, str | None]:
    """Set the URL (and optionally enabled/events). Returns the endpoint and, when this call created its
    secret (the first URL), the secret — the only time it is shown."""
    url = endpoint_url_clean(url)
    events = _events_clean(events)
    endpoint = endpoint_lock(provider_id=provider.pk)
    created = endpoint is None
    if created:
        endpoint = WebhookEndpoint(provider=provider)
    before = {"url": endpoint.url, "enabled": endpoint.enabled, "events": list(endpoint.events)}
    endpoint.url = url
    if events is not None:
        endpoint.events = events
    if enabled is not None:
        _enabled_set(endpoint, enabled)
    new_secret = None
    if url and not endpoint.secret:
        endpoint.secret = new_secret = secret_generate()
    endpoint.save()
    provider_webhook_url_mirror(provider_id=provider.pk, url=url)
    after = {"url": endpoint.url, "enabled": endpoint.enabled, "events": list(endpoint.events)}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k] or created}
    if new_secret:
        changes["secret"] = "created"
    if changes:
        audit_record(action="webhook.configured", actor=actor, obj=endpoint, changes=changes)
    return endpoint, new_secret


def _enabled_set(endpoint: WebhookEndpoint, enabled: bool) -> None:
    if enabled and not endpoint.enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
    elif not enabled and endpoint.enabled:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Disabled by the provider."
    endpoint.enabled = enabled


@transaction.atomic
def webhook_endpoint_enable(*, provider_id: int, actor: User | None = None) -> WebhookEndpoint:
    """Enable again (one click, after an automatic disable): the failure count starts over."""
    endpoint = endpoint_lock(provider_id=provider_id)
    if endpoint is None:
        raise NotFound("No webhook endpoint is configured.")
    if not endpoint.enabled:
        _enabled_set(endpoint, True)
        endpoint.save()
        audit_record(action="webhook.enabled", actor=actor, obj=endpoint,
                     changes={"enabled": [False, True]})
    return endpoint


@transaction.atomic
def webhook_secret_rotate(*, provider_id: int, actor: User | None = None,
                          now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned this once; the old one also signs for SECRET_OVERLAP so receivers can switch."""
    now = now or timezone.now()
    endpoint = endpoint_lock(provider_id=provider_id)
    if endpoint is None or not endpoint.url:
        raise Conflict("Set a webhook URL first.")
    if endpoint.secret:
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = now + SECRET_OVERLAP
    endpoint.secret = secret = secret_generate()
    endpoint.save()
    audit_record(action="webhook.secret_rotated", actor=actor, obj=endpoint,
                 changes={"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()
                          if endpoint.previous_secret_expires_at else None})
    return endpoint, secret


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one within its overlap."""
    secrets = [endpoint.secret] if endpoint.secret else []
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets.append(endpoint.previous_secret)
    return secrets


# --- events and deliveries ----------------------------------------------------------------------

def _delivery_create(*, event: WebhookEvent, endpoint: WebhookEndpoint, now: datetime,
                     replay_of: WebhookDelivery | None = None) -> WebhookDelivery:
    if endpoint.enabled:
        delivery = WebhookDelivery.objects.create(event=event, provider_id=event.provider_id, replay_of=replay_of,
                                                  status=DeliveryStatus.PENDING, next_attempt_at=now)
        job_enqueue(DELIVER_JOB, delivery.pk, task_name=f"webhook {event.type}")
    else:  # recorded, so the provider sees what was missed and can replay it once enabled again
        delivery = WebhookDelivery.objects.create(event=event, provider_id=event.provider_id, replay_of=replay_of,
                                                  status=DeliveryStatus.CANCELLED, finished_at=now,
                                                  last_error="The endpoint was disabled.")
    return delivery


def _event_create(*, provider_id: int, type: str, data: dict, now: datetime,
                  dedupe_key: str | None) -> WebhookEvent | None:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = _json({"id": msg_id, "type": type, "timestamp": now, "data": data})
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(msg_id=msg_id, provider_id=provider_id, type=type, body=body,
                                               dedupe_key=dedupe_key)
    except IntegrityError:
        if dedupe_key and WebhookEvent.objects.filter(dedupe_key=dedupe_key).exists():
            return None  # already emitted (a job that ran twice)
        raise


def webhook_event_emit(*, provider_id: int, type: str, data: dict | Callable[[], dict],
                       dedupe_key: str | None = None, now: datetime | None = None) -> WebhookDelivery | None:
    """Record an event for the provider's endpoint, if it has one that takes this type; deliver after commit.

    Call it in the transaction of the change (a rolled-back change sends nothing). `data` may be a function,
    called only when the event is wanted. A repeated dedupe_key records nothing (None).
    """
    endpoint = WebhookEndpoint.objects.filter(provider_id=provider_id).exclude(url="").first()
    if endpoint is None or type not in endpoint.events:
        return None
    now = now or timezone.now()
    event = _event_create(provider_id=provider_id, type=type, data=data() if callable(data) else data, now=now,
                          dedupe_key=dedupe_key)
    if event is None:
        return None
    return _delivery_create(event=event, endpoint=endpoint, now=now)


@transaction.atomic
def webhook_test_send(*, provider_id: int, actor: User | None = None, now: datetime | None = None) -> WebhookDelivery:
    """Send a `webhook.test` event now (whatever the endpoint's event types)."""
    now = now or timezone.now()
    endpoint = endpoint_lock(provider_id=provider_id)
    if endpoint is None or not endpoint.url:
        raise Conflict("Set a webhook URL first.")
    if not endpoint.enabled:
        raise Conflict("The webhook endpoint is disabled; enable it first.")
    event = _event_create(provider_id=provider_id, type=EventType.TEST, now=now, dedupe_key=None,
                          data={"message": "This is a test event from Hot Lead.", "endpoint_url": endpoint.url})
    delivery = _delivery_create(event=event, endpoint=endpoint, now=now)
    audit_record(action="webhook.test_sent", actor=actor, obj=delivery,
                 changes={"event": event.msg_id})
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, delivery_id: int, provider_id: int | None, actor: User | None = None,
                            now: datetime | None = None) -> WebhookDelivery:
    """Deliver an event again as a new delivery: same event id and body. provider_id=None: staff."""
    now = now or timezone.now()
    qs = WebhookDelivery.objects.select_related("event").filter(pk=delivery_id)
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    original = qs.first() if 0 < delivery_id < 2**63 else None
    if original is None:
        raise NotFound("No such webhook delivery.")
    endpoint = endpoint_lock(provider_id=original.provider_id)
    if endpoint is None or not endpoint.url:
        raise Conflict("Set a webhook URL first.")
    if not endpoint.enabled:
        raise Conflict("The webhook endpoint is disabled; enable it first.")
    delivery = _delivery_create(event=original.event, endpoint=endpoint, now=now, replay_of=original)
    audit_record(action="webhook.replayed", actor=actor, obj=delivery,
                 changes={"event": original.event.msg_id, "replay_of": original.pk})
    return delivery


# --- attempts -----------------------------------------------------------------------------------

def _claim(*, delivery_id: int, now: datetime, force: bool) -> tuple[WebhookDelivery, WebhookEndpoint] | None:
    """Take a due delivery for one attempt (atomic), or None when there is nothing to do."""
    with transaction.atomic():
        delivery = delivery_claim_lock(delivery_id=delivery_id)
        if delivery is None:
            return None
        if force:
            if delivery.status != DeliveryStatus.DEAD:
                return None
        elif delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING) or (
                delivery.next_attempt_at is not None and delivery.next_attempt_at > now):
            return None
        endpoint = WebhookEndpoint.objects.filter(provider_id=delivery.provider_id).first()
        if endpoint is None or not endpoint.url or not endpoint.enabled:
            delivery.status = DeliveryStatus.CANCELLED
            delivery.next_attempt_at = None
            delivery.finished_at = now
            delivery.last_error = "The endpoint was disabled." if endpoint and endpoint.url else "No webhook URL."
            delivery.save(update_fields=["status", "next_attempt_at", "finished_at", "last_error", "updated_at"])
            return None
        delivery.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["next_attempt_at", "updated_at"])
        return delivery, endpoint


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None,
                             from_dead_letter: bool = False) -> WebhookAttempt | None:
    """Make the next attempt of a due delivery (or, from_dead_letter, of a dead one) and record it."""
    now = now or timezone.now()
    claimed = _claim(delivery_id=delivery_id, now=now, force=from_dead_letter)
    if claimed is None:
        return None
    delivery, endpoint = claimed
    event = delivery.event
    headers = signature_headers(msg_id=event.msg_id, timestamp=now, body=event.body,
                                secrets=signing_secrets(endpoint, now=now))
    result = transport.post(url=endpoint.url, body=event.body.encode(), headers=headers)
    attempt = _attempt_record(delivery_id=delivery.pk, url=endpoint.url, started_at=now, result=result,
                              from_dead_letter=from_dead_letter)
    if from_dead_letter and attempt.outcome != AttemptOutcome.SUCCESS:
        raise WebhookDeliveryFailed(f"Webhook delivery #{delivery.pk} failed again: {attempt.error}")
    return attempt


@transaction.atomic
def _attempt_record(*, delivery_id: int, url: str, started_at: datetime, result: transport.PostResult,
                    from_dead_letter: bool) -> WebhookAttempt:
    delivery = delivery_lock(delivery_id=delivery_id)
    number = delivery.attempts + 1
    attempt = WebhookAttempt.objects.create(
        delivery=delivery, number=number, started_at=started_at, url=url, outcome=result.outcome,
        status_code=result.status_code, latency_ms=result.latency_ms, error=result.error[:300],
        response_body=result.body,
    )
    delivery.attempts = number
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error[:300]
    ok = result.outcome == AttemptOutcome.SUCCESS
    dead = False
    if ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
        delivery.finished_at = started_at
        WebhookEndpoint.objects.filter(provider_id=delivery.provider_id).update(consecutive_failures=0)
    else:
        if from_dead_letter or number >= MAX_ATTEMPTS:
            dead = not from_dead_letter  # a dead letter's retry keeps its one letter (the job runner reopens it)
            delivery.status = DeliveryStatus.DEAD
            delivery.next_attempt_at = None
            delivery.finished_at = started_at
        else:
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = started_at + timedelta(seconds=BACKOFF_SECONDS[number - 1])
        _failure_count(provider_id=delivery.provider_id, now=started_at)
    delivery.save()
    if dead:
        dead_letter_record(func=REDELIVER_JOB, args=[delivery.pk], kwargs={},
                           error=f"Webhook {delivery.event.type} {delivery.event.msg_id} to {url}: "
                                 f"{MAX_ATTEMPTS} attempts failed; last: {result.error}",
                           attempts=number, first_failed_at=delivery.created_at, job_id=delivery.event.msg_id)
    outcome, seconds = result.outcome, result.latency_ms / 1000

    def count() -> None:
        metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
        metrics.WEBHOOK_DELIVERY_LATENCY.labels(outcome=outcome).observe(seconds)
        if dead:
            metrics.WEBHOOK_DEAD_LETTERED.inc()

    transaction.on_commit(count)
    if not ok:
        logger.info("webhook attempt failed", extra={"delivery_id": delivery.pk, "attempt": number,
                                                     "outcome": outcome, "status_code": result.status_code})
    return attempt


def _failure_count(*, provider_id: int, now: datetime) -> None:
    """One more consecutive failure; at DISABLE_AFTER_FAILURES the endpoint is disabled and the provider told."""
    endpoint = endpoint_lock(provider_id=provider_id)
    if endpoint is None:
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint.refresh_from_db(fields=["consecutive_failures"])
    if endpoint.enabled and endpoint.consecutive_failures >= DISABLE_AFTER_FAILURES:
        reason = f"{endpoint.consecutive_failures} consecutive failed deliveries."
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_at=now, disabled_reason=reason)
        audit_record(action="webhook.disabled", obj=endpoint, changes={"enabled": [True, False], "reason": reason})
        _disabled_email(endpoint=endpoint, reason=reason, now=now)
        transaction.on_commit(metrics.WEBHOOK_ENDPOINTS_DISABLED.inc)


def _disabled_email(*, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    provider = Provider.objects.select_related("user").get(pk=endpoint.provider_id)
    email_queue(template="webhook_disabled", to=provider.user.email, related=endpoint,
                dedupe_key=f"webhook_disabled:{endpoint.pk}:{int(now.timestamp())}",
                context={"company_name": provider.company_name, "url": endpoint.url, "reason": reason})


def webhook_deliveries_due(*, now: datetime | None = None) -> int:
    """The schedule (every minute): queue an attempt for every delivery whose next attempt is due."""
    now = now or timezone.now()
    ids = list(WebhookDelivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
                                              next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("pk", flat=True)[:DUE_BATCH])
    with transaction.atomic():
        for delivery_id in ids:
            job_enqueue(DELIVER_JOB, delivery_id, task_name="webhook retry")
    return len(ids)


RETENTION_DAYS = 90


def webhook_events_cleanup(*, older_than_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """Weekly: delete events (their deliveries and attempts) older than the retention that nothing still
    delivers. The bodies of `lead.assigned` hold contact data: they are not kept forever."""
    now = now or timezone.now()
    old = (WebhookEvent.objects.filter(created_at__lt=now - timedelta(days=older_than_days))
           .exclude(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]))
    deleted = 0
    for _batch in range(100):  # bounded: a long backlog is drained over several runs
        ids = list(old.values_list("pk", flat=True)[:1000])
        if not ids:
            break
        with transaction.atomic():
            WebhookEvent.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted
