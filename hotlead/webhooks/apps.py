from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "hotlead.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # in ready(): the collectors and receivers import models: not loadable before the apps are
        from hotlead.core.metrics import scrape_collector_add
        from hotlead.providers.signals import provider_webhook_url_changed
        from hotlead.webhooks.metrics import WebhookStateCollector
        from hotlead.webhooks.receivers import provider_webhook_url_changed_configure

        scrape_collector_add(WebhookStateCollector())
        provider_webhook_url_changed.connect(provider_webhook_url_changed_configure,
                                             dispatch_uid="webhooks_provider_webhook_url_changed")
