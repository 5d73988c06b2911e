"""Service categories: staff create and rename them, and switch them on and off (audited)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.leads.lock_objects import category_lock
from hotlead.leads.models import Category
from hotlead.leads.validation import SLUG_RE

if TYPE_CHECKING:
    from hotlead.accounts.models import User


# --- categories -------------------------------------------------------------------------------------

def _category_errors(*, slug: str | None, name: str | None) -> list[dict]:
    errors = []
    if slug is not None and not (len(slug) <= 64 and SLUG_RE.match(slug)):
        errors.append({"field": "slug", "message": "Use 1 to 64 lower-case letters, digits and single dashes."})
    if name is not None and not 1 <= len(name) <= 120:
        errors.append({"field": "name", "message": "Enter a name of at most 120 characters."})
    return errors


@transaction.atomic
def category_create(*, slug: str, name: str, active: bool = True, actor: User | None = None) -> Category:
    slug, name = slug.strip().lower(), " ".join(name.split())
    if errors := _category_errors(slug=slug, name=name):
        raise ValidationFailed(details={"fields": errors})
    category, created = Category.objects.get_or_create(slug=slug, defaults={"name": name, "active": active})
    if not created:
        raise Conflict("A category with this slug exists.", details={"slug": slug})
    audit_record(action="category.create", actor=actor, obj=category,
                 changes={"slug": slug, "name": name, "active": active})
    return category


@transaction.atomic
def category_update(*, slug: str, name: str | None = None, active: bool | None = None,
                    actor: User | None = None) -> Category:
    if name is not None:
        name = " ".join(name.split())
    if errors := _category_errors(slug=None, name=name):
        raise ValidationFailed(details={"fields": errors})
    category = category_lock(slug=slug)
    if category is None:
        raise NotFound("No such category.")
    changes = {}
    for field, value in (("name", name), ("active", active)):
        if value is not None and getattr(category, field) != value:
            changes[field] = [getattr(category, field), value]
            setattr(category, field, value)
    if changes:
        category.save(update_fields=[*changes, "updated_at"])
        audit_record(action="category.update", actor=actor, obj=category, changes=changes)
    return category
