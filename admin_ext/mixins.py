"""Small behaviours shared by console admin classes."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import messages
from django.contrib.admin import helpers
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from hotlead.core.exceptions import ApplicationError
from hotlead.core.pagination import MAX_DB_ID


class ReadOnlyAdminMixin:
    """A console page that shows rows but never adds, edits or deletes them (changes go through services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def safe_back_url(request, default: str) -> str:
    """The `next` the page was opened with, if it stays on this site; otherwise `default`."""
    back_url = request.POST.get("next") or request.GET.get("next") or ""
    if back_url and url_has_allowed_host_and_scheme(back_url, allowed_hosts={request.get_host()}):
        return back_url
    return default


def confirmation_context(admin, request, *, title: str, selected, back_url: str, bulk_action: str | None,
                         **extra) -> dict:
    """What every "Are you sure?" page of a row or bulk action needs (admin_ext/_confirm_selection.html
    writes the selection back into its form), plus the page's own `extra`."""
    return {
        **admin.admin_site.each_context(request),
        "opts": admin.model._meta,
        "title": title,
        "back_url": back_url,
        "bulk_action": bulk_action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected_pks": [obj.pk for obj in selected],
        **extra,
    }


def object_pk(object_id, *, not_found: str = "Not found.") -> int:
    """The numeric id in a console URL; a 404 (never a 500) for anything that is not a database id."""
    try:
        pk = int(object_id)
    except (TypeError, ValueError):
        raise Http404(not_found) from None
    if not 0 < pk <= MAX_DB_ID:
        raise Http404(not_found)
    return pk


def run_each(admin, request, rows: Iterable, run: Callable, *, done_verb: str, refused_prefix: str) -> None:
    """A confirmed row or bulk action: `run(row)` for each row (one service call, its own transaction); one
    message naming the rows done, one error per row the service refused, in the service's words."""
    done, refused = [], []
    for row in rows:
        try:
            run(row)
        except ApplicationError as exc:
            refused.append(f"#{row.pk}: {exc.message}")
        else:
            done.append(f"#{row.pk}")
    if done:
        admin.message_user(request, f"{done_verb}: {', '.join(done)}.", messages.SUCCESS)
    for line in refused:
        admin.message_user(request, f"{refused_prefix} — {line}", messages.ERROR)
