"""Ending a user's tokens: a refresh-token family, all of a user's refresh tokens, every token (version bump)."""
from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hotlead.accounts.models import RefreshToken, User


def refresh_family_revoke(*, family: uuid.UUID) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=timezone.now())


def refresh_tokens_revoke_all(*, user: User) -> int:
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def user_token_version_bump(*, user: User) -> None:
    """Every access token issued before now stops working; every refresh token is revoked."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    refresh_tokens_revoke_all(user=user)
