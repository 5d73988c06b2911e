from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "hotlead.demo"
    label = "demo"
    verbose_name = "Demo data"
