"""Access: two-factor devices and staff groups in the console's style (unfold), replacing the
plain admins django-otp and django.contrib.auth register.

Staff can see who has enrolled and revoke a device (a lost phone); they cannot add a device
for someone else or read a device's secret: enrolment is done by each user in the setup wizard.
django-otp's own admin would show the secret as a QR code to any staff user, so it is replaced.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from admin_ext.base import ModelAdmin
from hotlead.accounts.services import mfa_device_revoke

for _model in (TOTPDevice, StaticDevice, Group):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class _DeviceAdmin(ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__email", "name")
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        mfa_device_revoke(device=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user"):
            mfa_device_revoke(device=obj, actor=request.user)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(_DeviceAdmin):
    """Authenticator apps. Revoking one ends its user's API tokens and sends them through enrolment at the
    next login."""


@admin.register(StaticDevice)
class StaticDeviceAdmin(_DeviceAdmin):
    """Backup-code sets (the codes themselves are not shown)."""


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    """Permission groups for staff who are not superusers."""
