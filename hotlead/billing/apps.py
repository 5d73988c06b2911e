from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hotlead.billing"
    label = "billing"
    verbose_name = "Money"
