from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "hotlead.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # in ready(): the collectors import models: not loadable before the apps are
        from hotlead.core.metrics import scrape_collector_add
        from hotlead.webhooks.metrics import WebhookStateCollector

        scrape_collector_add(WebhookStateCollector())
