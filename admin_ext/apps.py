from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HotleadAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin whose default site is the MFA-enforcing unfold site."""

    default = False
    default_site = "admin_ext.site.OTPAdminSite"


class AdminExtConfig(AppConfig):
    """The console: admin classes, dashboard, navigation, templates."""

    default = True
    name = "admin_ext"
    label = "admin_ext"
    verbose_name = "Console"

    def ready(self) -> None:
        # in ready(): the audit receivers import models: not loadable before the apps are
        from admin_ext import audit

        audit.connect()
