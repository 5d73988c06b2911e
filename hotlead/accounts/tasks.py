"""Background jobs of the accounts app (idempotent: see each service)."""
from __future__ import annotations

from hotlead.accounts.services import password_reset_send as _password_reset_send


def password_reset_send(user_id: int | None, nonce: str) -> None:
    _password_reset_send(user_id=user_id, nonce=nonce)
