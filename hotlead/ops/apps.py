from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "hotlead.ops"
    label = "ops"
    verbose_name = "Operations"
