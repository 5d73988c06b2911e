from django.apps import AppConfig
from django.db.models.signals import post_migrate

from hotlead.leads.signals import lead_approved


class DistributionConfig(AppConfig):
    name = "hotlead.distribution"
    label = "distribution"
    verbose_name = "Distribution"

    def ready(self) -> None:
        # in ready(): the receivers import models: not loadable before the apps are
        from hotlead.distribution.receivers import lead_approved_distribute

        # the sale's PL/pgSQL function follows the code: (re)installed after every migrate (and flush)
        post_migrate.connect(_install, sender=self, dispatch_uid="distribution_sql_functions")
        lead_approved.connect(lead_approved_distribute, dispatch_uid="distribution_lead_approved")


def _install(sender, using="default", **kwargs) -> None:
    # lazy: apps.py loads before the models; the services (which import them) only when migrate has run
    from hotlead.distribution.services.sale_sql import functions_install

    functions_install(using=using)
