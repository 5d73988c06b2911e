from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "hotlead.sources"
    label = "sources"
    verbose_name = "Lead sources"
