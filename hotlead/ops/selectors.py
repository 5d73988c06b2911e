"""Reads for operations pages and health."""
from __future__ import annotations

from django.utils import timezone


def worker_last_seen_seconds() -> float | None:
    """Seconds since a django-q2 cluster last reported, or None if none has."""
    from django_q.status import Stat

    stats = Stat.get_all()
    if not stats:
        return None
    newest = max(stat.timestamp for stat in stats)
    return (timezone.now() - newest).total_seconds()
