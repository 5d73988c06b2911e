"""Core services: the audit trail."""
from __future__ import annotations

from typing import Any

from django.db import models

from hotlead.core.models import AuditLog
from hotlead.core.request_context import current_request_id


def audit_record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict[str, Any] | None = None,
    request=None,
) -> AuditLog:
    """Append one entry to the audit log (in the caller's transaction)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    ip = user_agent = None
    if request is not None:
        from hotlead.core.ratelimit import client_ip

        ip = client_ip(request)
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:400]
        if actor is None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            actor = request.user
    if ip in ("", "unknown"):
        ip = None
    actor_obj = actor if getattr(actor, "pk", None) else None
    return AuditLog.objects.create(
        actor=actor_obj,
        actor_label=getattr(actor_obj, "email", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        changes=changes or {},
        ip=ip,
        user_agent=user_agent or "",
        request_id=(getattr(request, "request_id", None) if request is not None else None)
        or current_request_id()
        or "",
    )
