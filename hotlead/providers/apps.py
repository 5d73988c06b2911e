from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "hotlead.providers"
    label = "providers"
    verbose_name = "Providers"
