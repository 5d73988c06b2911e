"""Lead sources: create (the key is returned once), rotate the key, revoke, authenticate a key (SPEC §8.2)."""
from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.ratelimit import RULE_RE
from hotlead.core.services import audit_record
from hotlead.core.text import name_clean
from hotlead.sources.exceptions import ApiKeyRevoked, InvalidApiKey
from hotlead.sources.lock_objects import lead_source_lock
from hotlead.sources.models import LeadSource

if TYPE_CHECKING:
    from hotlead.accounts.models import User

KEY_PREFIX = "hlsk_"


def _key_new() -> tuple[str, str, str]:
    """(key, prefix, digest): `hlsk_<8 hex>_<43 url-safe chars>`; the prefix identifies it in lists and logs."""
    public = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    return key, f"{KEY_PREFIX}{public}", key_digest(key)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _fields_clean(*, name: str, contact: str, notes: str, rate_limit: str) -> dict:
    errors = []
    name = name_clean(name)
    if not name or len(name) > 200:
        errors.append({"field": "name", "message": "Enter a name of 1 to 200 characters."})
    contact = name_clean(contact)
    if len(contact) > 254:
        errors.append({"field": "contact", "message": "Use at most 254 characters."})
    notes = (notes or "").strip()
    if len(notes) > 5000:
        errors.append({"field": "notes", "message": "Use at most 5000 characters."})
    rate_limit = (rate_limit or "").strip()
    if rate_limit and not RULE_RE.match(rate_limit):
        errors.append({"field": "rate_limit", "message": "Use count/seconds, e.g. 1000/3600."})
    if errors:
        raise ValidationFailed(details={"fields": errors})
    return {"name": name, "contact": contact, "notes": notes, "rate_limit": rate_limit}


def lead_source_create(*, name: str, contact: str = "", notes: str = "", verified_upstream: bool = False,
                       rate_limit: str = "", actor: User | None = None) -> tuple[LeadSource, str]:
    """A new source and its API key. The key is returned here only: it is stored as a digest."""
    fields = _fields_clean(name=name, contact=contact, notes=notes, rate_limit=rate_limit)
    key, prefix, digest = _key_new()
    try:
        with transaction.atomic():
            source = LeadSource.objects.create(
                **fields, verified_upstream=verified_upstream, key_prefix=prefix, key_hash=digest,
                created_by=actor if getattr(actor, "pk", None) else None)
            audit_record(action="lead_source.created", actor=actor, obj=source,
                         changes={"name": source.name, "verified_upstream": verified_upstream,
                                  "key_prefix": prefix, "rate_limit": source.rate_limit})
    except IntegrityError:
        raise Conflict("A lead source with this name already exists.", details={"fields": [
            {"field": "name", "message": "A lead source with this name already exists."}]})
    return source, key


@transaction.atomic
def lead_source_rotate_key(*, source_id: int, actor: User | None = None) -> tuple[LeadSource, str]:
    """A new key for the source; the old one stops working at once. Refused for a revoked source."""
    source = lead_source_lock(source_id=source_id)
    if source is None:
        raise NotFound("No such lead source.")
    if source.revoked_at is not None:
        raise Conflict("This lead source is revoked; create a new one.", details={"status": "revoked"})
    old_prefix = source.key_prefix
    key, source.key_prefix, source.key_hash = _key_new()
    source.key_rotated_at = timezone.now()
    source.save(update_fields=["key_prefix", "key_hash", "key_rotated_at", "updated_at"])
    audit_record(action="lead_source.key_rotated", actor=actor, obj=source,
                 changes={"key_prefix": [old_prefix, source.key_prefix]})
    return source, key


@transaction.atomic
def lead_source_revoke(*, source_id: int, actor: User | None = None) -> LeadSource:
    """The source's key stops working for good (idempotent). Its leads keep their source."""
    source = lead_source_lock(source_id=source_id)
    if source is None:
        raise NotFound("No such lead source.")
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at", "updated_at"])
        audit_record(action="lead_source.revoked", actor=actor, obj=source,
                     changes={"key_prefix": source.key_prefix})
    return source


def lead_source_authenticate(*, key: str) -> LeadSource:
    """The active source whose key this is; NotAuthenticated (401) for an unknown or revoked key."""
    key = (key or "").strip()
    source = None
    if key.startswith(KEY_PREFIX) and len(key) <= 100:
        source = LeadSource.objects.filter(key_hash=key_digest(key)).first()
    if source is None:
        raise InvalidApiKey()
    if source.revoked_at is not None:
        raise ApiKeyRevoked()
    return source


@transaction.atomic
def lead_source_update(*, source_id: int, name: str, contact: str, notes: str, verified_upstream: bool,
                       rate_limit: str, actor: User | None = None) -> LeadSource:
    """Change what staff may change (never the key: rotate it); audited with before/after."""
    fields = _fields_clean(name=name, contact=contact, notes=notes, rate_limit=rate_limit)
    source = lead_source_lock(source_id=source_id)
    if source is None:
        raise NotFound("No such lead source.")
    fields["verified_upstream"] = bool(verified_upstream)
    changes = {k: [getattr(source, k), v] for k, v in fields.items() if getattr(source, k) != v}
    if not changes:
        return source
    for key, value in fields.items():
        setattr(source, key, value)
    try:
        with transaction.atomic():
            source.save(update_fields=[*fields, "updated_at"])
    except IntegrityError:
        raise Conflict("A lead source with this name already exists.", details={"fields": [
            {"field": "name", "message": "A lead source with this name already exists."}]})
    audit_record(action="lead_source.updated", actor=actor, obj=source, changes=changes)
    return source
