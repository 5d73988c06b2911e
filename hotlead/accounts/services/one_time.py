"""Single-use, expiring tokens sent by e-mail (verification link, password reset), stored as digests."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from hotlead.accounts.lock_objects import one_time_token_lock
from hotlead.accounts.models import OneTimeToken
from hotlead.accounts.tokens import opaque_token_new, token_digest
from hotlead.core.exceptions import InvalidToken

if TYPE_CHECKING:
    from hotlead.accounts.models import User


def one_time_token_create(*, user: User, purpose: str, ttl: timedelta) -> str:
    """Return the raw token (for the e-mail); only its digest is stored. Older unused ones stop working."""
    now = timezone.now()
    OneTimeToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    raw = opaque_token_new()
    OneTimeToken.objects.create(user=user, purpose=purpose, token_hash=token_digest(raw), expires_at=now + ttl)
    return raw


@transaction.atomic
def one_time_token_consume(*, raw: str, purpose: str) -> OneTimeToken:
    """Spend the token once (row-locked, so two concurrent uses cannot both pass); raise InvalidToken otherwise."""
    if not raw or len(raw) > 200:
        raise InvalidToken()
    row = one_time_token_lock(token_hash=token_digest(raw), purpose=purpose)
    now = timezone.now()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise InvalidToken()
    row.used_at = now
    row.save(update_fields=["used_at"])
    return row


def one_time_token_peek(*, raw: str, purpose: str) -> OneTimeToken | None:
    """The token if it could be consumed now (for showing a form before the final submit)."""
    if not raw or len(raw) > 200:
        return None
    return (
        OneTimeToken.objects.select_related("user")
        .filter(token_hash=token_digest(raw), purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
