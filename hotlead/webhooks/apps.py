from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "hotlead.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
