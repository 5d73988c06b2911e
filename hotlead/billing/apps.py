from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "hotlead.billing"
    label = "billing"
    verbose_name = "Money"

    def ready(self) -> None:
        # in ready(): the receivers import models: not loadable before the apps are
        from hotlead.billing.receivers import provider_registered_account_open
        from hotlead.providers.signals import provider_registered

        provider_registered.connect(provider_registered_account_open, dispatch_uid="billing_provider_registered")
