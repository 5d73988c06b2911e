"""Small behaviours shared by console admin classes."""
from __future__ import annotations


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
    from django.utils.http import url_has_allowed_host_and_scheme

    back_url = request.POST.get("next") or request.GET.get("next") or ""
    if back_url and url_has_allowed_host_and_scheme(back_url, allowed_hosts={request.get_host()}):
        return back_url
    return default
