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
from hotlead.accounts.services import user_token_version_bump
from hotlead.core.logging import mask_email
from hotlead.core.services import audit_record

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
    audit_action = "mfa.device_revoked"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @transaction.atomic
    def delete_model(self, request, obj):
        self._audit(request, obj)
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj)
        super().delete_queryset(request, queryset)

    def _audit(self, request, obj) -> None:
        # API tokens proved with the revoked device (a lost or stolen phone) stop working too
        user_token_version_bump(user=obj.user)
        audit_record(action=self.audit_action, actor=request.user, obj=obj,
                     changes={"user": mask_email(obj.user.email), "device": obj.name,
                              "kind": obj._meta.model_name, "tokens_revoked": True})


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(_DeviceAdmin):
    """Authenticator apps. Revoking one ends its user's API tokens and sends them through enrolment at the
    next login."""


@admin.register(StaticDevice)
class StaticDeviceAdmin(_DeviceAdmin):
    """Backup-code sets (the codes themselves are not shown)."""

    audit_action = "mfa.backup_codes_revoked"


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    """Permission groups for staff who are not superusers."""
