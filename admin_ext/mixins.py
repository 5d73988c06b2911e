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
