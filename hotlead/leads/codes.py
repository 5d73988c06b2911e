"""Verification secrets: the 6-digit code, the link token and the confirm token.

None is stored in clear: codes and tokens are kept as HMAC-SHA256 digests keyed with SECRET_KEY.
The e-mail that carries a code is rendered by a job from a stored context, so the code and the link
token travel there *sealed* (encrypted with a key derived from SECRET_KEY) and are opened only when
the message is rendered — the database never holds a usable code.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.crypto import salted_hmac

_HASH_SALT = "hotlead.leads.verification"
_SEAL_SALT = b"hotlead.leads.seal"


def code_generate() -> str:
    """Six digits from the OS's CSPRNG (leading zeros kept)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def token_generate() -> str:
    """An unguessable URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def secret_digest(*, purpose: str, lead_key: str, value: str) -> str:
    """HMAC-SHA256 of one secret, bound to its purpose and lead so digests are never interchangeable."""
    return salted_hmac(_HASH_SALT, f"{purpose}:{lead_key}:{value}", algorithm="sha256").hexdigest()


def secret_matches(*, digest: str, purpose: str, lead_key: str, value: str) -> bool:
    if not digest or not value:
        return False
    return hmac.compare_digest(digest, secret_digest(purpose=purpose, lead_key=lead_key, value=value))


def _fernet() -> Fernet:
    return _fernet_for(settings.SECRET_KEY)


@functools.lru_cache(maxsize=4)
def _fernet_for(secret_key: str) -> Fernet:
    """Made once per key (every lead seals two secrets), not per call."""
    key = hashlib.sha256(_SEAL_SALT + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def seal_many(**values: str) -> str:
    """Several secrets sealed together, one encryption (an e-mail's code and link token: each seal cost as much as
    the rest of the e-mail's row); `unseal_part` opens one."""
    return seal(json.dumps(values, separators=(",", ":")))


def unseal_part(sealed: str, name: str) -> str:
    """The secret `name` of a `seal_many` text, "" when it cannot be opened (or is empty)."""
    try:
        values = json.loads(unseal(sealed))
    except ValueError:
        return ""
    return str(values.get(name, "")) if isinstance(values, dict) else ""


def unseal(sealed: str) -> str:
    """The clear value, or "" when the sealed text was not made with this SECRET_KEY."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return ""
