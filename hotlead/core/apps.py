from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hotlead.core"
    label = "core"
    verbose_name = "Core"
