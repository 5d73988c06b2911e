"""User accounts in the console (unfold style). Staff are created here; providers register themselves.

A password set here bumps the user's token_version (every API token stops working) and is audit-logged.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from admin_ext.base import ModelAdmin
from hotlead.accounts.models import Role, User
from hotlead.accounts.services import user_password_set_by_staff
from hotlead.core.services import audit_record


class StaffCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("email", "full_name")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.role = Role.STAFF
        user.is_staff = True
        if commit:
            user.save()
        return user


class AccountChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class PasswordSetForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        user = super().save(commit=False)
        return user_password_set_by_staff(user=user) if commit else user


@admin.register(User)
class UserAdmin(DjangoUserAdmin, ModelAdmin):
    form = AccountChangeForm
    add_form = StaffCreationForm
    change_password_form = PasswordSetForm
    list_display = ("email", "full_name", "role", "is_active", "is_staff", "mfa", "last_login")
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Activity", {"fields": ("last_login", "date_joined", "token_version")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    readonly_fields = ("role", "last_login", "date_joined", "token_version")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.role == Role.PROVIDER:
            # a provider can never become staff (a database CHECK refuses it too)
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: ledger entries and the audit log point at users

    @display(description="Two-factor", boolean=True)
    def mfa(self, obj):
        return any(device.confirmed for device in obj.totpdevice_set.all())  # prefetched

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("totpdevice_set")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            audit_record(action="accounts.user_changed", actor=request.user, obj=obj,
                         changes={"fields": sorted(form.changed_data)})
        elif not change:
            audit_record(action="accounts.staff_created", actor=request.user, obj=obj, changes={"email": obj.email})
