"""Secrets inside stored e-mail context (verification and reset links) are sealed.

E-mail events keep their context in the database until delivery; the raw one-time token must not sit there in
clear text (the tokens table holds only digests). It is encrypted with a key derived from SECRET_KEY and opened
only when the message is rendered, by the `account_unseal` template filter.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from django.utils.crypto import salted_hmac

_SALT = "hotlead.accounts.seal"


def _fernet() -> Fernet:
    key = salted_hmac(_SALT, "fernet-key", algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def account_seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def account_unseal(sealed: str) -> str:
    """The clear value, or "" when it was not sealed with this SECRET_KEY."""
    try:
        return _fernet().decrypt((sealed or "").encode()).decode()
    except (InvalidToken, ValueError):
        return ""
