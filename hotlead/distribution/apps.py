from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DistributionConfig(AppConfig):
    name = "hotlead.distribution"
    label = "distribution"
    verbose_name = "Distribution"

    def ready(self) -> None:
        # the sale's PL/pgSQL function follows the code: (re)installed after every migrate (and flush)
        post_migrate.connect(_install, sender=self, dispatch_uid="distribution_sql_functions")


def _install(sender, using="default", **kwargs) -> None:
    from hotlead.distribution.services.sale_sql import functions_install

    functions_install(using=using)
