"""Core services: the audit trail."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction

from hotlead.core.exceptions import ValidationFailed
from hotlead.core.lock_objects import rate_limit_override_lock, rate_limit_override_lock_or_create
from hotlead.core.models import AuditLog
from hotlead.core.origin import Origin, current_origin
from hotlead.core.ratelimit import RULE_RE, rate_limit_overrides_clear
from hotlead.core.request_context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


def audit_record(
    *,
    action: str,
    actor: AbstractBaseUser | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict[str, Any] | None = None,
    origin: Origin | None = None,
) -> AuditLog:
    """Append one entry to the audit log (in the caller's transaction).

    The client address, user agent and request id come from `origin`, else from the Origin bound for the
    request (empty in jobs, whose entries still carry the request id of the job's context).
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    origin = origin or current_origin()
    ip = origin.client_ip if origin.client_ip not in ("", "unknown") else None
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditLog.objects.create(
        actor=actor_obj,
        actor_label=getattr(actor_obj, "email", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        changes=changes or {},
        ip=ip,
        user_agent=origin.user_agent[:400],
        request_id=origin.request_id or current_request_id() or "",
    )


# --- rate limits ops can change (SPEC §12) ------------------------------------------------------

def rate_limit_override_set(*, scope: str, rule: str, note: str = "", actor: AbstractBaseUser | None = None):
    """Set (or replace) the console override of one rate limit; audited."""
    scope, rule = scope.strip(), rule.strip()
    if scope not in settings.HOTLEAD["RATE_LIMITS"]:
        known = ", ".join(sorted(settings.HOTLEAD["RATE_LIMITS"]))
        raise ValidationFailed.for_field("scope", f"Unknown rate limit; one of: {known}.")
    if not RULE_RE.match(rule):
        raise ValidationFailed.for_field("rule", "Use count/seconds, e.g. 10/3600.")
    with transaction.atomic():
        override, _created = rate_limit_override_lock_or_create(scope=scope, rule=rule)
        before = "" if _created else override.rule
        override.rule, override.note = rule, note[:500]
        override.updated_by = actor if getattr(actor, "pk", None) else None
        override.save()
        audit_record(action="rate_limit.override_set", actor=actor, obj=override,
                     changes={"scope": scope, "rule": [before, rule]})
    rate_limit_overrides_clear()
    return override


def rate_limit_override_delete(*, override_id: int, actor: AbstractBaseUser | None = None) -> None:
    """Remove a console override (the settings' rule applies again); audited."""
    with transaction.atomic():
        override = rate_limit_override_lock(override_id=override_id)
        if override is None:
            return
        audit_record(action="rate_limit.override_deleted", actor=actor, obj=override,
                     changes={"scope": override.scope, "rule": [override.rule, ""]})
        override.delete()
    rate_limit_overrides_clear()
