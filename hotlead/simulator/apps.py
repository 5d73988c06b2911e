from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "hotlead.simulator"
    verbose_name = "What-if simulator"
