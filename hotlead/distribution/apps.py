from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "hotlead.distribution"
    label = "distribution"
    verbose_name = "Distribution"
