from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "hotlead.refunds"
    label = "refunds"
    verbose_name = "Bad leads"
