from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "hotlead.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from hotlead.core import checks  # noqa: F401  registers the signing-key system checks
