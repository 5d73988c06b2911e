from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "hotlead.portal"
    label = "portal"
    verbose_name = "Provider portal"
