"""Small behaviours shared by console admin classes."""
from __future__ import annotations

from django.contrib.admin import helpers
from django.utils.http import url_has_allowed_host_and_scheme


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
